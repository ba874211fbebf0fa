"""Pack reading: masks in the encodings real packs use."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import datasets


@pytest.mark.parametrize("encoding", ["0/255 png", "0/1 png", "16-bit png", "jpeg", "rgb png"])
def test_masks_read_the_same_whatever_their_encoding(tmp_path, encoding):
    truth = np.zeros((40, 60), dtype=bool)
    truth[10:25, 20:45] = True
    path = tmp_path / ("mask.jpg" if encoding == "jpeg" else "mask.png")
    if encoding == "0/1 png":
        Image.fromarray(truth.astype(np.uint8)).save(path)
    elif encoding == "16-bit png":
        Image.fromarray(truth.astype(np.uint16) * 65535).save(path)
    elif encoding == "rgb png":
        Image.fromarray(np.stack([truth.astype(np.uint8) * 255] * 3, axis=2)).save(path)
    else:
        Image.fromarray(truth.astype(np.uint8) * 255).save(path, quality=90)
    sample = datasets.TestSample(path, 1, "crack", path)
    assert (datasets.load_mask(sample, (40, 60)) != truth).sum() <= (4 if encoding == "jpeg" else 0)
    assert datasets.load_mask(sample, (80, 120)).sum() == pytest.approx(4 * truth.sum(), rel=0.1)


def test_defective_images_without_masks_stay_out_of_the_pixel_metrics(tmp_path):
    pack = tmp_path / "part"
    image = Image.fromarray(np.full((8, 8, 3), 128, np.uint8))
    for folder in ("train/good", "test/good", "test/crack", "test/dent", "ground_truth/crack"):
        (pack / folder).mkdir(parents=True)
    for folder in ("train/good", "test/good", "test/crack", "test/dent"):
        image.save(pack / folder / "000.png")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(pack / "ground_truth/crack/000_mask.png")
    read = datasets.read_pack(pack)
    used = dict(zip([s.defect for s in read.test], read.in_pixel_metrics()))
    assert used == {"crack": True, "dent": False, "good": True}


def test_unreadable_images_and_masks_are_left_out_with_a_reason(tmp_path):
    pack = tmp_path / "part"
    for folder in ("train/good", "test/good", "test/crack", "ground_truth/crack"):
        (pack / folder).mkdir(parents=True)
    good = Image.fromarray(np.full((8, 8, 3), 128, np.uint8))
    for name in ("000.png", "001.png"):
        good.save(pack / "train/good" / name)
        good.save(pack / "test/crack" / name)
    good.save(pack / "test/good/000.png")
    (pack / "train/good/002.png").write_bytes(b"\x89PNG broken")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(pack / "ground_truth/crack/000_mask.png")
    (pack / "ground_truth/crack/001_mask.png").write_bytes(b"garbage")
    usable, problems = datasets.without_unreadable(datasets.read_pack(pack))
    assert [p.name for p in usable.train_good] == ["000.png", "001.png"]
    assert [(s.defect, s.path.name) for s in usable.test] == [("crack", "000.png"), ("good", "000.png")]
    assert usable.pixel_level
    assert len(problems) == 2
    assert any("train/good/002.png left out" in p for p in problems)
    assert any("ground_truth/crack/001_mask.png left out" in p for p in problems)


def _blank(path, size=(8, 8), value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, np.uint8)).save(path)


def test_loco_masks_one_per_region_read_as_their_union(tmp_path):
    pack = tmp_path / "breakfast_box"
    for folder in ("train/good", "test/good", "test/logical_anomalies"):
        _blank(pack / folder / "000.png")
    first, second = np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8)
    first[0:2, 0:2], second[5:8, 5:8] = 255, 255
    (pack / "ground_truth/logical_anomalies/000").mkdir(parents=True)
    Image.fromarray(first).save(pack / "ground_truth/logical_anomalies/000/000.png")
    Image.fromarray(second).save(pack / "ground_truth/logical_anomalies/000/001.png")
    read = datasets.read_pack(pack)
    defective = next(s for s in read.test if s.label == 1)
    assert read.pixel_level and read.in_pixel_metrics() == [True, True]
    assert datasets.load_mask(defective, (8, 8)).sum() == 4 + 9
    assert datasets.load_mask(defective, (16, 16)).sum() == 4 * (4 + 9)


def test_mvtec_3d_class_folders_read_their_rgb_images_and_gt_masks(tmp_path):
    pack = tmp_path / "cable_gland"
    for folder in ("train/good/rgb", "test/good/rgb", "test/hole/rgb"):
        _blank(pack / folder / "000.png")
    (pack / "train/good/xyz").mkdir()
    (pack / "train/good/xyz/000.tiff").write_bytes(b"depth, not read")
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:6] = 255
    (pack / "test/hole/gt").mkdir()
    Image.fromarray(mask).save(pack / "test/hole/gt/000.png")
    read = datasets.read_pack(pack)
    assert [read.relative(p) for p in read.train_good] == ["train/good/rgb/000.png"]
    assert [(s.defect, read.relative(s.path)) for s in read.test] == [("good", "test/good/rgb/000.png"),
                                                                       ("hole", "test/hole/rgb/000.png")]
    assert read.pixel_level
    assert datasets.load_mask(read.test[1], (8, 8)).sum() == 8
