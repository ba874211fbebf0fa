"""One score scale everywhere: the CLI, the GUI worker, the benchmark path and a stored report agree."""

from __future__ import annotations

import json

from cli.parser import run_cli
from engine.synthetic import Defect
from tests.helpers import write_parts


def test_same_image_same_score_and_verdict_in_cli_gui_worker_bench_and_report(qtbot, tmp_path, monkeypatch, capsys,
                                                                               detector):
    from desktop.worker import InferenceWorker
    from services.reports import inspection_context, render_html
    from services.workspace import open_workspace

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    refs = write_parts(tmp_path / "refs", range(4))
    image = write_parts(tmp_path / "part", [77], defects=(Defect("scratch", 0.6, 0.4, 0.1),))[0]
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(image), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    workspace = open_workspace(tmp_path / "home")
    worker = InferenceWorker(workspace, device="cpu")
    results = []
    worker.finished.connect(lambda _job, result: results.append(result), type=qtbot_direct())
    worker.submit("gui", lambda ctx: ctx.inspector.inspect_file("disc", image, force=True))
    qtbot.waitUntil(lambda: bool(results), timeout=120_000)
    worker.shutdown()
    gui = results[0]

    bank = detector.build_bank(refs)
    bench = detector.inspect(image, bank)
    bench_score = bank.calibration.normalise(bench.score)

    html = render_html("inspection.html.j2", inspection_context(workspace, cli["id"]))
    from services.results import load_result

    stored = load_result(workspace, cli["id"]).anomaly_map
    assert stored.shape == bench.anomaly_map.shape
    assert abs(stored - bench.anomaly_map).max() <= 1e-3 * max(1.0, float(bench.anomaly_map.max()))
    workspace.close()
    assert gui.verdict == cli["verdict"] == bench.verdict
    assert round(gui.score, 4) == cli["score"] == round(bench_score, 4)
    assert f"{cli['score']:.2f} (threshold 0.50" in html and cli["verdict"] in html


def qtbot_direct():
    """A direct connection: the list append is thread-safe and needs no event loop on either side."""
    from PySide6.QtCore import Qt

    return Qt.ConnectionType.DirectConnection


def test_a_large_jpeg_decoded_reduced_scores_alike_everywhere_and_places_regions_in_its_own_pixels(
        tmp_path, monkeypatch, capsys, detector):
    import cv2

    from db import repository as repo
    from engine.facts import FactSheet
    from engine.imageio import decode_image
    from engine.synthetic import synthetic_part
    from services.workspace import open_workspace

    monkeypatch.setenv("IAD_INSPECTOR_HOME", str(tmp_path / "home"))
    refs = write_parts(tmp_path / "refs", range(4))
    drawn = synthetic_part(78, side=1100, defects=(Defect("pit", 0.3, 0.62, 0.08),))
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), cv2.resize(drawn[..., ::-1], (4400, 4400), interpolation=cv2.INTER_CUBIC),
                [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(photo), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    bank = detector.build_bank(refs)
    by_path = detector.inspect(photo, bank)  # the benchmark's way: decoded reduced as well
    whole = detector.inspect(decode_image(photo), bank)  # every pixel decoded
    assert by_path.image_size == whole.image_size == (4400, 4400)
    assert round(bank.calibration.normalise(by_path.score), 4) == cli["score"] and cli["verdict"] == "NG"
    assert abs(by_path.score - whole.score) <= 0.03 * whole.score

    workspace = open_workspace(tmp_path / "home")
    with workspace.database.read() as session:
        facts = FactSheet.from_dict(repo.get_inspection(session, cli["id"]).facts)
    workspace.close()
    assert facts.image_size == (4400, 4400)
    x, y, w, h = facts.regions[0].bbox
    assert abs(x + w / 2 - 0.3 * 4400) < 0.04 * 4400 and abs(y + h / 2 - 0.62 * 4400) < 0.04 * 4400
