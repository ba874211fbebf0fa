"""The headless history commands end to end: projects, references, inspect, history, reports, chat, check."""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys

import cv2
import numpy as np
import pytest
from pypdf import PdfReader

from cli.parser import run_cli
from engine.synthetic import Defect
from tests.helpers import pdf_images_off_page, write_parts


def test_project_reference_inspect_history_report_flow(home, tmp_path, capsys, monkeypatch):
    refs = write_parts(tmp_path / "refs", range(4))
    (tmp_path / "refs" / "broken.png").write_bytes(b"\x89PNG not really")
    good = write_parts(tmp_path / "test", [40, 41], suffix=".bmp")
    bad = write_parts(tmp_path / "test", [50], defects=(Defect("pit", 0.3, 0.3, 0.08),), suffix=".tif")

    assert run_cli(["project", "create", "disc", "--description", "demo disc"]) == 0
    assert run_cli(["project", "create", "disc"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 1
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "Added 4 reference images" in captured.out
    assert run_cli(["references", "list", "disc"]) == 0
    assert capsys.readouterr().out.count("active") == len(refs)
    (tmp_path / "empty").mkdir()
    assert run_cli(["references", "add", "disc", str(tmp_path / "empty")]) == 2
    assert f"No images in {tmp_path / 'empty'}" in capsys.readouterr().err

    assert run_cli(["inspect", "disc", str(tmp_path / "test"), "--json"]) == 0
    results = {json.loads(line)["image"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert results[str(bad[0])]["verdict"] == "NG" and results[str(bad[0])]["regions"] >= 1
    assert all(results[str(p)]["verdict"] == "OK" for p in good)
    assert not any(r["unlike_references"] for r in results.values())
    assert run_cli(["inspect", "disc", str(tmp_path / "test"), "--json"]) == 0
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(r["skipped"] for r in again) and {r["id"] for r in again} == {r["id"] for r in results.values()}
    assert run_cli(["inspect", "disc", str(bad[0]), "--json", "--force"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert not forced["skipped"]
    inspection_ids = sorted([r["id"] for r in results.values()] + [forced["id"]])

    assert run_cli(["history", "disc", "--verdict", "NG"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["id", "time", "(UTC)", "verdict", "score", "review", "image"]
    assert len(listed) == 4 and "2 of 2 matching" in listed[-1]
    assert run_cli(["history", "disc", "--search", "PART040"]) == 0
    assert "1 of 1 matching" in capsys.readouterr().out
    csv_path = tmp_path / "history.csv"
    assert run_cli(["history", "disc", "--csv", str(csv_path)]) == 0
    assert len(csv_path.read_text().splitlines()) == 1 + 4

    ng_id = results[str(bad[0])]["id"]
    assert run_cli(["ask", str(ng_id), "Where is the anomaly?"]) == 0
    assert "top left" in capsys.readouterr().out

    html_path, pdf_path = tmp_path / "r.html", tmp_path / "r.pdf"
    assert run_cli(["report", "--inspection", str(ng_id), "--format", "html", "--out", str(html_path)]) == 0
    html = html_path.read_text()
    assert "NG" in html and "Where is the anomaly?" in html
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", html, re.I)
    assert references and all(ref.startswith("data:") for ref in references)
    assert "http" not in html and "url(" not in html
    assert run_cli(["report", "--inspection", str(ng_id), "--format", "pdf", "--out", str(pdf_path)]) == 0
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(pdf_path).pages)
    score = results[str(bad[0])]["score"]
    assert "NG" in text and f"{score:.2f}" in text and re.search(r"page 1 of \d", text)
    assert pdf_images_off_page(pdf_path) == []
    ok_id = results[str(good[0])]["id"]
    assert run_cli(["report", "--inspection", str(ok_id), "--format", "html", "--out", str(html_path)]) == 0
    assert re.search(r"No defect regions\. Strongest deviation from the references: (top|bottom|left|right|centre)",
                     " ".join(html_path.read_text().split()))
    project_pdf = tmp_path / "project.pdf"
    assert run_cli(["report", "disc", "--format", "pdf", "--out", str(project_pdf)]) == 0
    assert "Project report: disc" in " ".join(PdfReader(project_pdf).pages[0].extract_text().split())
    assert pdf_images_off_page(project_pdf) == []
    project_html = tmp_path / "project.html"
    assert run_cli(["report", "disc", "--format", "html", "--out", str(project_html)]) == 0
    text = " ".join(project_html.read_text().split())
    assert "<h2>Score trend</h2>" in text and "Every part in inspection order, oldest left" in text
    assert "the CSV export lists every one" not in text
    assert re.search(r"Calibrations in force: bank \d+, calibration v\d+\.\d+ \([a-z-]+\), sensitivity 0\.50<", text)
    import services.reports

    monkeypatch.setattr(services.reports, "MAX_ROWS_LISTED", 2)  # a long history lists its newest parts only
    assert run_cli(["report", "disc", "--format", "html", "--out", str(project_html)]) == 0
    text = " ".join(project_html.read_text().split())
    total = len(inspection_ids)
    assert f"The newest 2 of {total} inspections; the CSV export lists every one." in text
    listed = [int(cell) for cell in re.findall(r"<tr><td>(\d+)</td><td>\d{4}-", text)]
    assert listed == inspection_ids[-2:]
    assert f"<b>{total}</b>" in text  # the counts still count every part
    assert run_cli(["db", "check"]) == 0



def test_a_report_of_several_inspections_starts_each_on_a_new_page(home, tmp_path, capsys, monkeypatch):
    from desktop.pdf import html_to_pdf_bytes
    from services.report_writer import write_report
    from services.workspace import open_workspace

    write_parts(tmp_path / "refs", range(4))
    parts = write_parts(tmp_path / "test", [60, 61])
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    assert run_cli(["inspect", "disc", *map(str, parts), "--json"]) == 0
    ids = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    workspace = open_workspace()
    try:
        out = write_report(workspace, tmp_path / "two.pdf", "pdf", inspection_ids=ids, pdf_renderer=html_to_pdf_bytes)
        # Past the cap a PDF or HTML report is refused with what to do instead; CSV has no cap.
        monkeypatch.setattr("services.report_writer.MAX_INSPECTION_PAGES", 1)
        with pytest.raises(ValueError, match="at most 1. Export a CSV"):
            write_report(workspace, tmp_path / "capped.pdf", "pdf", inspection_ids=ids, pdf_renderer=html_to_pdf_bytes)
        assert not (tmp_path / "capped.pdf").exists()
        csv_out = write_report(workspace, tmp_path / "two.csv", "csv", inspection_ids=ids)
        assert len(csv_out.read_text().splitlines()) == 1 + len(ids)
    finally:
        workspace.close()
    starts = [" ".join(page.extract_text().split()) for page in PdfReader(out).pages]
    titled = [text.split(" ", 2)[:2] for text in starts if text.startswith("Inspection #")]
    assert titled == [["Inspection", f"#{i}"] for i in ids]
    assert all(text.count("Inspection #") <= 1 for text in starts)


def test_a_finer_level_of_detail_finds_a_pit_the_standard_one_misses(home, tmp_path, capsys):
    """Parts that fill a 1024 px photo, with a pit 1 % of their width: about 3 px at the standard 256."""
    write_parts(tmp_path / "refs", range(4), side=1024)
    small_pit = write_parts(tmp_path / "test", [101], defects=(Defect("pit", 0.32, 0.30, 0.01),), side=1024)
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    assert run_cli(["references", "detail", "disc"]) == 0
    assert "at standard detail (about 256 x 256 pixels)" in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(small_pit[0]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"] == "OK"

    assert run_cli(["references", "detail", "disc", "finer"]) == 0
    assert "at finer detail (about 512 x 512 pixels)" in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(small_pit[0]), "--json", "--force"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"] == "NG"
    with pytest.raises(SystemExit):
        run_cli(["references", "detail", "disc", "microscopic"])
    assert "invalid choice" in capsys.readouterr().err

    from db import repository as repo
    from services.workspace import open_workspace

    assert run_cli(["references", "detail", "disc", "standard"]) == 0  # back: the first bank serves again
    assert run_cli(["inspect", "disc", str(small_pit[0]), "--json", "--force"]) == 0
    assert run_cli(["references", "detail", "disc", "standard"]) == 0  # the level it has: nothing to record
    with open_workspace().database.read() as session:
        project = repo.get_project(session, "disc")
        assert "input_side" not in project.settings["engine"]
        assert session.query(repo.ReferenceBank).filter_by(project_id=project.id).count() == 2
        assert session.query(repo.AuditEvent).filter_by(action="update", entity_id=project.id).count() == 2


def test_inspection_area_from_the_cli_rebuilds_the_bank_and_ignores_marks_outside(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    pit_top_left = write_parts(tmp_path / "test", [50], defects=(Defect("pit", 0.3, 0.3, 0.08),))
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    assert run_cli(["inspect", "disc", str(pit_top_left[0]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"] == "NG"

    assert run_cli(["references", "area", "disc", "0.9", "0", "0.2", "1"]) == 2
    assert "Invalid inspection area" in capsys.readouterr().err
    assert run_cli(["references", "area", "disc"]) == 0
    assert "whole image" in capsys.readouterr().out
    assert run_cli(["references", "area", "disc", "0", "0.5", "1", "1"]) == 0
    assert "top 50 % to bottom 100 %" in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(pit_top_left[0]), "--json", "--force"]) == 0
    lower_half = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert lower_half["verdict"] == "OK" and lower_half["regions"] == 0
    report = tmp_path / "area.html"
    assert run_cli(["report", "--inspection", str(lower_half["id"]), "--format", "html", "--out", str(report)]) == 0
    assert "inspection area: left 0 % to right 100 %, top 50 % to bottom 100 %" in report.read_text()
    assert "backbone efficientnet-lite0 &middot; reference bank" in report.read_text()
    photo_uri = re.search(r'src="data:image/png;base64,([^"]+)"', report.read_text()).group(1)
    photo = cv2.imdecode(np.frombuffer(base64.b64decode(photo_uri), np.uint8), cv2.IMREAD_COLOR)
    assert photo.shape[:2] == (128, 256)  # the lower half, what was inspected
    assert run_cli(["references", "area", "disc", "--ignore", "0.15", "0.15", "0.45", "0.45"]) == 0
    assert "whole image, less 1 ignored rectangle" in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(pit_top_left[0]), "--json", "--force"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"] == "OK"
    assert run_cli(["references", "area", "disc", "--whole"]) == 0
    assert "inspects the whole image." in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(pit_top_left[0]), "--json", "--force"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["verdict"] == "NG"


def test_project_rename_archive_and_restore(home, capsys):
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["project", "create", "ring"]) == 0
    assert run_cli(["project", "rename", "ring", "disc"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert run_cli(["project", "rename", "ring", "ring M4"]) == 0
    assert run_cli(["project", "archive", "ring M4"]) == 0
    capsys.readouterr()
    run_cli(["project", "list"])
    assert "ring M4" not in capsys.readouterr().out
    run_cli(["project", "list", "--all"])
    assert "ring M4 (archived)" in capsys.readouterr().out
    assert run_cli(["project", "restore", "ring M4"]) == 0
    capsys.readouterr()
    run_cli(["project", "list"])
    out = capsys.readouterr().out
    assert "ring M4" in out and "(archived)" not in out


def test_references_build_reports_the_bank_and_advises_on_few_references(home, tmp_path, capsys):
    run_cli(["project", "create", "disc"])
    write_parts(tmp_path / "two", range(2))
    run_cli(["references", "add", "disc", str(tmp_path / "two")])
    capsys.readouterr()
    assert run_cli(["references", "build", "disc", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "2 references" in out and "leave-one-out" in out and "rough estimate" in out
    write_parts(tmp_path / "more", range(2, 4))
    run_cli(["references", "add", "disc", str(tmp_path / "more")])
    capsys.readouterr()
    assert run_cli(["references", "build", "disc", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "4 references" in out and "rough estimate" not in out and "shots of one part" not in out
    # The same two photos again, saved as JPEG (other bytes, so not skipped as already there): named, and
    # each held out with its copy, so that a new good part still passes.
    for path in (tmp_path / "two").iterdir():
        assert cv2.imwrite(str(tmp_path / "more" / f"{path.stem}-again.jpg"), cv2.imread(str(path)),
                           [cv2.IMWRITE_JPEG_QUALITY, 95])
    run_cli(["references", "add", "disc", str(tmp_path / "more")])
    said = capsys.readouterr()
    assert "Added 2 reference images (2 already there" in said.out
    assert ("warning: part000-again.jpg looks like another shot of the part in part000.png; part001-again.jpg looks "
            "like another shot of the part in part001.png. Each reference should be a different good part") in said.err
    assert run_cli(["references", "build", "disc", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "6 references" in out
    assert ("These references look like shots of one part: part000.png and part000-again.jpg; part001.png and "
            "part001-again.jpg.") in out
    # The list says it too, beside each reference's leave-one-out score on the inspections' scale.
    assert run_cli(["references", "list", "disc"]) == 0
    rows = {line.split()[-1] if "(" not in line else line.split("  (")[0].split()[-1]: line
            for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert rows["part000-again.jpg"].endswith("(another shot of the part in part000.png)")
    assert "(" not in rows["part000.png"] and "(" not in rows["part002.png"]
    scores = [float(line.split()[5]) for line in rows.values()]
    assert len(scores) == 6 and all(0.0 < score < 1.0 for score in scores)
    assert run_cli(["inspect", "disc", *map(str, write_parts(tmp_path / "new", [90, 91])), "--json"]) == 0
    verdicts = [json.loads(line)["verdict"] for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "NG" not in verdicts


def test_an_image_of_another_part_type_is_flagged_in_cli_output_and_report(home, tmp_path, capsys):
    import numpy as np
    from PIL import Image

    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", *map(str, write_parts(tmp_path / "refs", range(4)))])
    yy, xx = np.mgrid[0:256, 0:256]
    stripes = ((xx + yy) // 20 % 2 * 255).astype(np.uint8)
    Image.fromarray(np.stack([stripes, stripes // 2, 255 - stripes], axis=2)).save(tmp_path / "bolt.png")
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(tmp_path / "bolt.png"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["unlike_references"] is True
    assert run_cli(["ask", str(record["id"]), "Is there any anomaly?"]) == 0
    assert "looks unlike the project's references" in capsys.readouterr().out
    html = tmp_path / "one.html"
    assert run_cli(["report", "--inspection", str(record["id"]), "--format", "html", "--out", str(html)]) == 0
    assert "looks unlike the project's references" in " ".join(html.read_text().split())

def test_a_photo_of_another_shape_than_the_references_frame_is_said_to_be_another_view_or_a_crop(
        home, tmp_path, capsys):
    """References that share one camera frame, and a photo cut to another shape (a crop, a camera set to
    another format): the verdict stands, and every output says the photo is not the references' shape."""
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", *map(str, write_parts(tmp_path / "refs", range(4)))])
    whole = write_parts(tmp_path / "test", [60])[0]
    cut = tmp_path / "test" / "cut.png"
    assert cv2.imwrite(str(cut), cv2.imread(str(whole))[:, 40:-40])  # 256 x 176
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(whole), str(cut), "--json"]) == 0
    same, other = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (same["other_frame"], other["other_frame"]) == (False, True)
    assert run_cli(["inspect", "disc", str(cut), "--force"]) == 0
    assert "(this photo's shape (width : height 0.69) is not the references' (1.00): another camera view or a " \
           "crop?)" in capsys.readouterr().out
    assert run_cli(["ask", str(other["id"]), "Is there any anomaly?"]) == 0
    assert "is not the references' (1.00): another camera view or a crop?; the verdict is less sure." in \
        capsys.readouterr().out
    assert run_cli(["ask", str(same["id"]), "Is there any anomaly?"]) == 0
    assert "references' (" not in capsys.readouterr().out
    html = tmp_path / "cut.html"
    assert run_cli(["report", "--inspection", str(other["id"]), "--format", "html", "--out", str(html)]) == 0
    assert "another camera view or a crop" in " ".join(html.read_text().split())


def test_a_grey_16bit_tiff_of_a_colour_part_passes_and_says_it_was_compared_in_grey(home, tmp_path, capsys):
    from tests.unit.test_greyscale import grey_photo, orange_part

    refs = tmp_path / "refs"
    refs.mkdir()
    for seed in range(4):
        cv2.imwrite(str(refs / f"good_{seed}.png"), cv2.cvtColor(orange_part(seed), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "mono.tif"), grey_photo(orange_part(200)).astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "colour.png"), cv2.cvtColor(orange_part(201), cv2.COLOR_RGB2BGR))
    run_cli(["project", "create", "orange"])
    run_cli(["references", "add", "orange", str(refs)])
    capsys.readouterr()
    assert run_cli(["inspect", "orange", str(tmp_path / "mono.tif"), str(tmp_path / "colour.png"), "--json"]) == 0
    mono, colour = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (mono["verdict"], mono["compared_in_grey"], mono["unlike_references"]) == ("OK", True, False)
    assert (colour["verdict"], colour["compared_in_grey"]) == ("OK", False)
    assert run_cli(["ask", str(mono["id"]), "Is there any anomaly?"]) == 0
    assert "compared with them made grey" in capsys.readouterr().out
    html = tmp_path / "mono.html"
    assert run_cli(["report", "--inspection", str(mono["id"]), "--format", "html", "--out", str(html)]) == 0
    assert "this photo was compared with them made grey" in " ".join(html.read_text().split())


def test_missing_project_and_empty_references_give_clear_errors(home, tmp_path, capsys, monkeypatch):
    write_parts(tmp_path / "test", [1])
    assert run_cli(["inspect", "nope", str(tmp_path / "test")]) == 2
    assert "No project 'nope'. See 'main.py project list'." in capsys.readouterr().err
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "argv", ["/opt/iad-inspector/iad-inspector-cli"])
    assert run_cli(["ask", "999", "Where is it?"]) == 2
    assert "No inspection 999. See 'iad-inspector-cli history'." in capsys.readouterr().err
    monkeypatch.undo()
    run_cli(["project", "create", "empty"])
    assert run_cli(["inspect", "empty", str(tmp_path / "test")]) == 2
    assert "No reference images" in capsys.readouterr().err


def test_calibrate_from_validation_folder_and_from_reviews(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    write_parts(tmp_path / "val" / "good", range(60, 66))
    write_parts(tmp_path / "val" / "pit", range(70, 73), defects=(Defect("pit", 0.4, 0.6, 0.08),))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    assert run_cli(["references", "calibrate", "disc", "--validation", str(tmp_path / "val"), "--mode", "f1"]) == 0
    out = capsys.readouterr().out
    assert "from 6 good and 3 defective samples" in out and "F1 1.000" in out
    part = write_parts(tmp_path / "new", [80])
    assert run_cli(["inspect", "disc", str(part[0]), "--json"]) == 0
    inspection = json.loads(capsys.readouterr().out.splitlines()[-1])

    from db import repository as repo
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.read() as session:
        row = repo.get_inspection(session, inspection["id"])
        assert row.thresholds["calibration_revision"] == 2 and row.thresholds["calibration_method"] == "labelled-f1"
        events = [e.action for e in session.query(repo.AuditEvent).all()]
        assert "refine" in events
    with workspace.database.write() as session:
        repo.add_review(session, repo.get_inspection(session, inspection["id"]), "OK", "fine", "ann")
    workspace.close()
    assert run_cli(["references", "calibrate", "disc"]) == 0
    assert "from 1 good and 0 defective samples" in capsys.readouterr().out


def _inspect_json(path, capsys) -> dict:
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_a_rebuilt_bank_refines_its_threshold_again_by_the_same_rule(home, tmp_path, capsys):
    from db import repository as repo
    from services.workspace import open_workspace

    write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    good = [_inspect_json(path, capsys)["id"] for path in write_parts(tmp_path / "good", [40, 41, 42])]
    bad = [_inspect_json(path, capsys)["id"] for path in
           write_parts(tmp_path / "bad", [50, 51], defects=(Defect("pit", 0.35, 0.6, 0.08),))]
    workspace = open_workspace()
    with workspace.database.write() as session:
        for ids, verdict in ((good, "OK"), (bad, "NG")):
            for inspection_id in ids:
                repo.add_review(session, repo.get_inspection(session, inspection_id), verdict, "", "ann")
    workspace.close()
    assert run_cli(["references", "calibrate", "disc", "--mode", "f1"]) == 0
    assert "from 3 good and 2 defective samples" in capsys.readouterr().out

    # A new reference: the next inspection rebuilds the bank, which scores the five reviewed
    # photos again and takes the best-F1 threshold over them, as the technician chose.
    run_cli(["references", "add", "disc", str(write_parts(tmp_path / "more", [5])[0])])
    after = _inspect_json(write_parts(tmp_path / "next", [43])[0], capsys)
    workspace = open_workspace()
    with workspace.database.read() as session:
        project = repo.get_project(session, "disc")
        bank = repo.latest_bank(session, project)
        labelled = bank.calibration["labelled"]
        assert repo.get_inspection(session, after["id"]).bank_id == bank.id and len(bank.reference_keys) == 5
        assert bank.calibration["method"] == "labelled-f1" and bank.calibration["revision"] == 2
        assert labelled["carried"] and labelled["source"] == "reviews"
        assert (labelled["good_count"], labelled["defective_count"], labelled["f1"]) == (3, 2, 1.0)
        redone = [e.detail for e in session.query(repo.AuditEvent).filter_by(action="refine", entity_id=bank.id)]
        assert redone[0]["redone_from_bank"] == bank.id - 1 and redone[0]["not_redone"] is None
        assert repo.get_inspection(session, after["id"]).thresholds["calibration_method"] == "labelled-f1"
    workspace.close()
    # Refining by hand uses the reviews made with the earlier bank too, scored with this one.
    assert run_cli(["references", "calibrate", "disc", "--mode", "f1"]) == 0
    assert "from 3 good and 2 defective samples" in capsys.readouterr().out

    # Refined from a validation folder that is gone when the bank is rebuilt: the rebuilt bank
    # keeps its references' own threshold and the audit says why.
    write_parts(tmp_path / "val" / "good", range(60, 63))
    write_parts(tmp_path / "val" / "pit", [70], defects=(Defect("pit", 0.4, 0.6, 0.08),))
    assert run_cli(["references", "calibrate", "disc", "--validation", str(tmp_path / "val"),
                    "--target-frr", "0.05"]) == 0
    shutil.rmtree(tmp_path / "val")
    run_cli(["references", "add", "disc", str(write_parts(tmp_path / "more", [6])[0])])
    _inspect_json(write_parts(tmp_path / "next", [44])[0], capsys)
    workspace = open_workspace()
    with workspace.database.read() as session:
        bank = repo.latest_bank(session, repo.get_project(session, "disc"))
        assert bank.calibration["method"] == "leave-one-out" and not bank.calibration["labelled"]
        event = session.query(repo.AuditEvent).filter_by(action="refine", entity_id=bank.id).one()
        assert event.detail["after"] is None and event.detail["not_redone"]
    workspace.close()

    # Refining by hand right after a reference change builds the bank without redoing the old
    # rule first: the reviews are scored once, for the rule asked for.
    assert run_cli(["references", "calibrate", "disc", "--mode", "f1"]) == 0
    run_cli(["references", "add", "disc", str(write_parts(tmp_path / "more", [7])[0])])
    assert run_cli(["references", "calibrate", "disc", "--target-frr", "0.2"]) == 0
    workspace = open_workspace()
    with workspace.database.read() as session:
        bank = repo.latest_bank(session, repo.get_project(session, "disc"))
        events = [e.detail for e in session.query(repo.AuditEvent).filter_by(action="refine", entity_id=bank.id)]
        assert len(events) == 1 and events[0]["mode"] == "frr" and "redone_from_bank" not in events[0]
    workspace.close()


def test_a_damaged_bank_file_is_built_again_from_the_references_and_scores_as_before(home, tmp_path, capsys):
    from db import repository as repo
    from services.workspace import open_workspace

    write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    part = write_parts(tmp_path / "test", [50], defects=(Defect("pit", 0.35, 0.6, 0.08),))[0]
    before = _inspect_json(part, capsys)
    workspace = open_workspace()
    with workspace.database.read() as session:
        damaged = repo.latest_bank(session, repo.get_project(session, "disc"))
        bank_file = workspace.store.path(damaged.bank_key)
    workspace.close()
    bank_file.write_bytes(bank_file.read_bytes()[:1000])  # a disk error, or a backup restored half-way

    assert run_cli(["inspect", "disc", str(part), "--json", "--force"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["verdict"] == before["verdict"] and after["score"] == pytest.approx(before["score"], abs=1e-6)
    workspace = open_workspace()
    with workspace.database.read() as session:
        rebuilt = repo.latest_bank(session, repo.get_project(session, "disc"))
        assert rebuilt.id != damaged.id and rebuilt.reference_keys == damaged.reference_keys
        event = session.query(repo.AuditEvent).filter_by(action="build", entity_id=rebuilt.id).one()
        assert event.detail["replaces_damaged_bank"] == damaged.id
        assert "not a readable bank file" in event.detail["damage"]
    workspace.close()


def test_a_damaged_reference_copy_is_named_as_added_and_adding_the_file_again_repairs_it(home, tmp_path, capsys):
    from db import repository as repo
    from services.workspace import open_workspace

    refs = write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    workspace = open_workspace()
    with workspace.database.read() as session:
        reference = repo.references(session, repo.get_project(session, "disc"))[1]
        copy, reference_id = workspace.store.path(reference.image_key), reference.id
    workspace.close()
    data = bytearray(copy.read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)  # same size, its second half lost
    copy.write_bytes(bytes(data))

    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(write_parts(tmp_path / "test", [40])[0])]) == 2
    assert f"Reference part001.png (#{reference_id}) cannot be read, its stored copy is damaged" in \
        capsys.readouterr().err
    assert run_cli(["references", "add", "disc", str(refs[1])]) == 0
    assert copy.read_bytes() == refs[1].read_bytes()
    assert run_cli(["inspect", "disc", str(tmp_path / "test" / "part040.png")]) == 0


def test_a_named_region_type_is_found_again_and_far_ones_stay_unknown(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    first = write_parts(tmp_path / "a", [90], defects=(Defect("pit", 0.3, 0.3, 0.08),))
    again = write_parts(tmp_path / "b", [91], defects=(Defect("pit", 0.7, 0.6, 0.08),))
    other = write_parts(tmp_path / "c", [92], defects=(Defect("scratch", 0.5, 0.5, 0.3),))
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(first[0]), "--json"]) == 0
    inspection = json.loads(capsys.readouterr().out)
    assert run_cli(["ask", str(inspection["id"]), "What type is it?"]) == 0
    assert "I can't tell the type" in capsys.readouterr().out
    assert run_cli(["label", str(inspection["id"]), "1", "Pit"]) == 0
    assert run_cli(["label", str(inspection["id"]), "5", "pit"]) == 2
    assert "no region 5" in capsys.readouterr().err
    assert run_cli(["inspect", "disc", str(again[0]), str(other[0]), "--json"]) == 0
    ids = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert run_cli(["ask", str(ids[0]), "What type is it?"]) == 0
    assert "'pit'" in capsys.readouterr().out
    assert run_cli(["ask", str(ids[1]), "What type is it?"]) == 0
    assert "unlike every labelled example" in capsys.readouterr().out


def test_without_llm_weights_the_grounded_responder_answers_and_says_so(home, tmp_path, capsys, monkeypatch):
    write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    bad = write_parts(tmp_path / "bad", [95], defects=(Defect("pit", 0.3, 0.3, 0.08),))
    capsys.readouterr()
    run_cli(["inspect", "disc", str(bad[0]), "--json"])
    inspection = json.loads(capsys.readouterr().out)
    monkeypatch.setattr("engine.explain.llm.embedded_gguf", lambda: None)
    assert run_cli(["ask", str(inspection["id"]), "Where is the anomaly?", "--backend", "llm"]) == 0
    captured = capsys.readouterr()
    assert "top left" in captured.out
    assert "grounded (language model unavailable" in captured.err and "no language model" in captured.err
    assert "top left" not in captured.err  # no model streamed: the answer is printed once, on stdout


def test_deleting_an_inspection_is_audited_and_check_cleans_its_files(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    part = write_parts(tmp_path / "one", [97])
    capsys.readouterr()
    run_cli(["inspect", "disc", str(part[0]), "--json"])
    inspection = json.loads(capsys.readouterr().out)
    run_cli(["ask", str(inspection["id"]), "Is there any anomaly?"])
    assert run_cli(["db", "delete", str(inspection["id"])]) == 0
    assert run_cli(["db", "delete", str(inspection["id"])]) == 2
    assert "No inspection" in capsys.readouterr().err
    assert run_cli(["db", "check"]) == 1
    assert "2 unused files" in capsys.readouterr().out
    assert run_cli(["db", "check", "--clean"]) == 0
    assert run_cli(["db", "check"]) == 0

    from db import repository as repo
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.read() as session:
        assert repo.history_count(session, repo.HistoryFilter()) == 0
        assert [e.action for e in session.query(repo.AuditEvent).filter_by(entity="inspection")] == ["delete"]
        assert session.query(repo.ChatMessage).count() == 0
    workspace.close()


def test_a_large_photos_report_shows_it_shrunk_with_the_box_where_the_region_is(home, tmp_path, capsys):
    """Reports read a large photo at their own size; the boxes must follow the region there."""
    import base64

    import cv2
    import numpy as np

    from services.reports import REPORT_IMAGE_SIDE, inspection_context
    from services.workspace import open_workspace

    write_parts(tmp_path / "refs", range(4))
    photo = write_parts(tmp_path / "big", [50], defects=(Defect("pit", 0.3, 0.62, 0.08),), side=1600)[0]
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(photo), "--json"]) == 0
    inspection_id = json.loads(capsys.readouterr().out)["id"]
    workspace = open_workspace(home)
    try:
        context = inspection_context(workspace, inspection_id)
    finally:
        workspace.close()
    region = context["facts"].regions[0]
    overlay = cv2.imdecode(np.frombuffer(base64.b64decode(context["overlay_uri"].split(",", 1)[1]), np.uint8),
                           cv2.IMREAD_COLOR)[..., ::-1]
    assert overlay.shape[:2] == (REPORT_IMAGE_SIDE, REPORT_IMAGE_SIDE)
    ys, xs = np.nonzero((overlay == 255).all(axis=2))  # the box outline is drawn in white
    scale = REPORT_IMAGE_SIDE / 1600
    x, y, w, h = (round(v * scale) for v in region.bbox)
    assert abs(xs.min() - x) <= 4 and abs(ys.max() - (y + h - 1)) <= 4 and abs(xs.max() - (x + w - 1)) <= 4


def test_a_false_reject_added_to_the_references_passes_when_inspected_again(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    odd = write_parts(tmp_path / "line", [60], defects=(Defect("scratch", 0.5, 0.5, 0.3),))[0]
    good = write_parts(tmp_path / "line", [61])[0]
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(odd), str(good), "--json"]) == 0
    first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["verdict"] for r in first] == ["NG", "OK"]
    ids = [str(r["id"]) for r in first]

    assert run_cli(["reinspect", *ids, "--json"]) == 0  # same references: nothing would change
    assert all(json.loads(line)["skipped"] for line in capsys.readouterr().out.splitlines())

    odd.rename(tmp_path / "moved.png")  # the stored copy is inspected, wherever the file went
    assert run_cli(["references", "add", "disc", str(tmp_path / "moved.png")]) == 0  # the part was fine after all
    capsys.readouterr()
    assert run_cli(["reinspect", *ids, "999", "--json"]) == 1
    captured = capsys.readouterr()
    again = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["of"], r["verdict_before"], r["verdict"], r["skipped"]) for r in again] == [
        (first[0]["id"], "NG", "OK", False), (first[1]["id"], "OK", "OK", False)]
    assert "999" in captured.err and "2 re-inspected (1 verdict(s) changed), 0 unchanged, 1 failed" in captured.err
    assert run_cli(["history", "disc"]) == 0
    assert "4 of 4 matching" in capsys.readouterr().out  # the first records stay

    from db import repository as repo
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.read() as session:
        events = [e.detail for e in session.query(repo.AuditEvent).filter_by(action="reinspect")]
        assert {"of": first[0]["id"], "verdict_before": "NG", "verdict_after": "OK"} in events
        row = repo.get_inspection(session, again[0]["id"])
        assert row.source_path == str(odd)
    workspace.close()


def test_removing_old_images_frees_disk_and_keeps_records_reports_and_chat(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    good = write_parts(tmp_path / "line", [70, 71])
    bad = write_parts(tmp_path / "line", [72], defects=(Defect("pit", 0.3, 0.3, 0.08),))[0]
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(tmp_path / "line"), "--json"]) == 0
    records = {json.loads(line)["image"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    ok_id, ng_id = records[str(good[0])]["id"], records[str(bad)]["id"]
    images = home / "store" / "images"
    stored_before = sorted(images.rglob("*.png"))
    assert len(stored_before) == 4 + 3
    from db import repository as repo
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.write() as session:  # a passed part reviewed OK: refinements score its photo
        repo.add_review(session, repo.get_inspection(session, records[str(good[1])]["id"]), "OK", "", "ann")
    workspace.close()

    with pytest.raises(SystemExit):
        run_cli(["db", "remove-images", "--older-than", "-3"])
    assert "not a number of days" in capsys.readouterr().err
    assert run_cli(["db", "remove-images", "--older-than", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would remove the stored images of 1 inspection(s)" in out
    assert "1 reviewed part(s) that would match keep their photo" in out
    assert sorted(images.rglob("*.png")) == stored_before
    assert run_cli(["db", "remove-images", "--older-than", "0", "--project", "nope"]) == 2
    assert run_cli(["db", "remove-images", "--older-than", "0"]) == 0
    assert "Removed the stored images of 1 inspection(s)" in capsys.readouterr().out
    assert len(sorted(images.rglob("*.png"))) == 4 + 2  # the references, the rejected and the reviewed part stay
    assert run_cli(["db", "check"]) == 0

    assert run_cli(["history", "disc"]) == 0
    listing = capsys.readouterr().out
    assert "3 of 3 matching" in listing and listing.count("(photo removed)") == 1
    assert run_cli(["ask", str(ok_id), "Is there any anomaly?"]) == 0
    assert "No" in capsys.readouterr().out
    html = tmp_path / "ok.html"
    assert run_cli(["report", "--inspection", str(ok_id), "--format", "html", "--out", str(html)]) == 0
    assert "removed on" in html.read_text() and "to free disk space" in html.read_text()
    assert run_cli(["report", "disc", "--format", "pdf", "--out", str(tmp_path / "all.pdf")]) == 0
    assert run_cli(["reinspect", str(ok_id), str(ng_id)]) == 1
    err = capsys.readouterr().err
    assert f"inspection #{ok_id} was removed on" in err and "1 failed" in err

    from services.results import PLACEHOLDER_GREY, load_result

    workspace = open_workspace()
    shown = load_result(workspace, ok_id)
    assert shown.image.shape[:2] == shown.anomaly_map.shape == tuple(shown.facts.image_size)
    assert np.median(shown.image) == PLACEHOLDER_GREY
    workspace.close()

    assert run_cli(["inspect", "disc", str(good[0]), "--json"]) == 0  # the photo again: a new record with its image
    again = json.loads(capsys.readouterr().out)
    assert not again["skipped"] and again["id"] != ok_id
    assert len(sorted(images.rglob("*.png"))) == 4 + 3 and run_cli(["db", "check"]) == 0


def _one_defective_part_inspected(tmp_path, capsys, seed: int) -> int:
    """Project "disc" with four references and one part with a pit inspected; returns its inspection id."""
    write_parts(tmp_path / "refs", range(4))
    part = write_parts(tmp_path / "line", [seed], defects=(Defect("pit", 0.3, 0.3, 0.08),))[0]
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(part), "--json"]) == 0
    return json.loads(capsys.readouterr().out)["id"]


def test_a_record_whose_stored_photo_is_lost_still_opens_and_reports_with_a_placeholder(home, tmp_path, capsys):
    inspection_id = _one_defective_part_inspected(tmp_path, capsys, seed=73)

    from db import repository as repo
    from services.results import PLACEHOLDER_GREY, load_result
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.read() as session:
        workspace.store.path(repo.get_inspection(session, inspection_id).image_key).unlink()  # lost, say, in a restore
    shown = load_result(workspace, inspection_id)
    workspace.close()
    assert shown.image.shape[:2] == (256, 256) and np.median(shown.image) == PLACEHOLDER_GREY
    assert shown.facts.verdict == "NG" and shown.facts.regions
    html = tmp_path / "lost.html"
    assert run_cli(["report", "--inspection", str(inspection_id), "--format", "html", "--out", str(html)]) == 0
    assert "NG" in html.read_text()
    assert run_cli(["db", "check"]) == 1
    assert "missing file: inspection" in capsys.readouterr().out


def test_a_record_whose_stored_map_is_damaged_still_opens_and_reports_its_regions(home, tmp_path, capsys):
    inspection_id = _one_defective_part_inspected(tmp_path, capsys, seed=74)

    from db import repository as repo
    from services.results import load_result
    from services.workspace import open_workspace

    workspace = open_workspace()
    with workspace.database.read() as session:
        map_file = workspace.store.path(repo.get_inspection(session, inspection_id).map_key)
    map_file.write_bytes(map_file.read_bytes()[:300])  # cut short by a disk error: not a zip archive any more
    shown = load_result(workspace, inspection_id, map_side=512)
    workspace.close()
    assert shown.map_missing and not shown.anomaly_map.any()
    assert shown.facts.verdict == "NG" and shown.facts.regions and shown.image.shape[:2] == (256, 256)
    html = tmp_path / "damaged.html"
    assert run_cli(["report", "--inspection", str(inspection_id), "--format", "html", "--out", str(html)]) == 0
    assert "NG" in html.read_text()
    assert run_cli(["db", "check", "--verify"]) == 1
    assert f"damaged file (its content does not match its checksum): inspection {inspection_id}" in \
        capsys.readouterr().out


def test_inspect_warns_when_the_data_folder_runs_low_on_disk(home, tmp_path, capsys, monkeypatch):
    import db.store

    write_parts(tmp_path / "refs", range(4))
    part = write_parts(tmp_path / "one", [74])[0]
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(part)]) == 0
    assert "warning" not in capsys.readouterr().err  # this machine has more than 2 GB free
    monkeypatch.setattr(db.store, "LOW_SPACE_BYTES", 10 ** 18)
    assert run_cli(["inspect", "disc", str(part), "--force"]) == 0
    err = capsys.readouterr().err
    assert "warning: Only" in err and "GB free for the history" in err and "db remove-images" in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is how POSIX systems ask a process to end")
def test_sigterm_stops_inspect_after_the_image_in_hand_and_keeps_it(home, tmp_path, capsys, monkeypatch):
    import os
    import signal

    from services.inspection import Inspector

    write_parts(tmp_path / "refs", range(4))
    write_parts(tmp_path / "batch", range(60, 64))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    capsys.readouterr()
    handler_before = signal.getsignal(signal.SIGTERM)
    inspect_file = Inspector.inspect_file

    def first_then_stopped(self, *args, **kwargs):
        record = inspect_file(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # the service stops while the first image is in hand
        return record

    monkeypatch.setattr(Inspector, "inspect_file", first_then_stopped)
    assert run_cli(["inspect", "disc", str(tmp_path / "batch"), "--json"]) == 143
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and "stopped, asked to end (SIGTERM" in err
    assert signal.getsignal(signal.SIGTERM) is handler_before
    monkeypatch.setattr(Inspector, "inspect_file", inspect_file)
    assert run_cli(["history", "disc"]) == 0
    assert "1 of 1 matching" in capsys.readouterr().out  # the image in hand was saved, the rest not inspected


def test_inspect_warns_when_the_latest_parts_score_higher_than_the_first(home, tmp_path, capsys):
    """A lens going out of focus: 20 sharp good parts, then 20 blurred ones, with the same references."""
    write_parts(tmp_path / "refs", range(4))
    write_parts(tmp_path / "sharp", range(40, 60))
    blurred = tmp_path / "blurred"
    for path in write_parts(tmp_path / "blurred", range(60, 80)):
        cv2.imwrite(str(path), cv2.GaussianBlur(cv2.imread(str(path)), (0, 0), 2.0))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    assert run_cli(["inspect", "disc", str(tmp_path / "sharp")]) == 0
    assert "warning" not in capsys.readouterr().err  # 20 parts: nothing to compare with yet
    assert run_cli(["inspect", "disc", str(blurred)]) == 0
    err = capsys.readouterr().err
    assert "warning: The last 20 parts scored higher than the first 20 with these references" in err
    assert "check the focus, lighting and camera position" in err
    assert run_cli(["project", "show", "disc", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert "scored higher" in shown["score_drift"]
    assert shown["created"].endswith("+00:00") and shown["bank"]["created"].endswith("+00:00")  # UTC, any database
    assert run_cli(["report", "disc", "--format", "html", "--out", str(tmp_path / "disc.html")]) == 0
    page = " ".join((tmp_path / "disc.html").read_text().split())
    assert "<b>Score drift</b>" in page and "The last 20 parts scored higher than the first 20" in page


def test_a_project_s_drift_window_sets_how_many_parts_the_check_compares(home, tmp_path, capsys):
    """With 10 parts a side, a slow line learns of a blurred lens after 20 parts instead of 40."""
    write_parts(tmp_path / "refs", range(4))
    write_parts(tmp_path / "sharp", range(40, 50))
    blurred = tmp_path / "blurred"
    for path in write_parts(blurred, range(60, 70)):
        cv2.imwrite(str(path), cv2.GaussianBlur(cv2.imread(str(path)), (0, 0), 2.0))
    run_cli(["project", "create", "disc"])
    run_cli(["references", "add", "disc", str(tmp_path / "refs")])
    capsys.readouterr()
    assert run_cli(["project", "drift", "disc", "--window", "5"]) == 2
    assert "from 10 to 500" in capsys.readouterr().err
    assert run_cli(["project", "drift", "disc", "--window", "10"]) == 0
    assert "windows of 10 parts: Not checked yet" in capsys.readouterr().out
    assert run_cli(["inspect", "disc", str(tmp_path / "sharp"), str(blurred)]) == 0
    assert "warning: The last 10 parts scored higher than the first 10" in capsys.readouterr().err
    assert run_cli(["project", "show", "disc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["drift_window"] == 10
    assert run_cli(["project", "drift", "disc", "--window", "20"]) == 0
    assert "windows of 20 parts: Not checked yet: the check needs 40 parts" in capsys.readouterr().out
    assert run_cli(["project", "show", "disc", "--json"]) == 0
    assert "drift_window" not in json.loads(capsys.readouterr().out)["settings"]  # the default is no setting
