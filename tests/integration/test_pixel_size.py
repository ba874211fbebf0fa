"""A project's pixel size end to end: set on the command line, recorded by inspections, answered and reported in mm."""

from __future__ import annotations

import csv
import json

import cv2
import pytest

from cli.parser import run_cli
from db import repository as repo
from engine.physical import PixelSizeError
from engine.synthetic import Defect
from services.pixel_size import pixel_size_from_line
from services.workspace import open_workspace
from tests.helpers import write_parts

SCRATCH = (Defect("scratch", 0.7, 0.3, 0.12),)


def _stored_pixel_size(home, inspection_id: int) -> float | None:
    workspace = open_workspace(home)
    try:
        with workspace.database.read() as session:
            return repo.get_inspection(session, inspection_id).facts.get("mm_per_pixel")
    finally:
        workspace.close()


def _inspect(path, capsys) -> int:
    capsys.readouterr()
    assert run_cli(["inspect", "disc", str(path), "--json", "--force"]) == 0
    return json.loads(capsys.readouterr().out)["id"]


def test_sizes_in_millimetres_once_the_project_states_its_pixel_size(home, tmp_path, capsys):
    write_parts(tmp_path / "refs", range(4))
    scratched = write_parts(tmp_path / "test", [60], defects=SCRATCH)[0]
    assert run_cli(["project", "create", "disc"]) == 0
    assert run_cli(["references", "add", "disc", str(tmp_path / "refs")]) == 0
    capsys.readouterr()
    before = _inspect(scratched, capsys)
    assert run_cli(["ask", str(before), "How long is it in mm?"]) == 0
    assert "I can't give millimetres" in capsys.readouterr().out

    assert run_cli(["references", "pixel-size", "disc", "0.5mm"]) == 2
    assert "number of millimetres" in capsys.readouterr().err
    assert run_cli(["references", "pixel-size", "disc", "0"]) == 2
    assert run_cli(["references", "pixel-size", "disc", "0.05"]) == 0
    assert "0.05 mm per pixel" in capsys.readouterr().out
    after = _inspect(scratched, capsys)
    assert _stored_pixel_size(home, after) == 0.05 and _stored_pixel_size(home, before) is None
    assert run_cli(["ask", str(after), "How long is it in mm?"]) == 0
    answer = capsys.readouterr().out
    assert " mm long" in answer and "mm²" in answer and "can't" not in answer
    assert run_cli(["ask", str(before), "How long is it in mm?"]) == 0
    assert "I can't give millimetres" in capsys.readouterr().out, "an earlier inspection keeps its pixel sizes"

    html = tmp_path / "r.html"
    assert run_cli(["report", "--inspection", str(after), "--format", "html", "--out", str(html)]) == 0
    assert "0.05 mm per pixel of this photo" in html.read_text() and " mm)" in html.read_text()

    table = tmp_path / "history.csv"
    assert run_cli(["history", "disc", "--csv", str(table)]) == 0
    rows = {int(row["id"]): row for row in csv.DictReader(table.open())}
    assert rows[before]["largest_length_mm"] == "" and float(rows[before]["largest_length_px"]) > 0
    assert float(rows[after]["largest_length_mm"]) == pytest.approx(float(rows[after]["largest_length_px"]) * 0.05,
                                                                     rel=0.01)

    # The same view at twice the resolution has pixels half the size.
    large = tmp_path / "large.png"
    image = cv2.imread(str(scratched))
    cv2.imwrite(str(large), cv2.resize(image, (image.shape[1] * 2, image.shape[0] * 2)))
    large_id = _inspect(large, capsys)
    assert abs(_stored_pixel_size(home, large_id) - 0.025) < 1e-9

    # A 200 px line on the large photo that spans 10 mm on the part: 0.05 mm there, 0.1 mm at the references'.
    workspace = open_workspace(home)
    try:
        assert pixel_size_from_line(workspace, large_id, 200.0, 10.0) == pytest.approx(0.1)
        with pytest.raises(PixelSizeError, match="at least 2 pixels"):
            pixel_size_from_line(workspace, large_id, 0.5, 10.0)
    finally:
        workspace.close()
    assert _stored_pixel_size(home, _inspect(scratched, capsys)) == pytest.approx(0.1)

    assert run_cli(["references", "pixel-size", "disc", "off"]) == 0
    assert "not set" in capsys.readouterr().out
    assert _stored_pixel_size(home, _inspect(scratched, capsys)) is None

