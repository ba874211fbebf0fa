"""Reading packs in the MVTec AD layout (one part type per folder).

    <pack>/train/good/*          normal images (few-shot reference candidates)
    <pack>/test/good/*           normal test images
    <pack>/test/<defect>/*       defective test images
    <pack>/ground_truth/<defect>/<stem>_mask.*   optional binary masks

Any supported image format may appear (customer folders mix PNG, JPEG, BMP and TIFF).  Two
variants of the layout read too: MVTec LOCO's masks, a folder ``ground_truth/<defect>/<stem>/``
of one mask per region (their union is the image's mask), and MVTec 3D-AD's class folders, whose
images lie in ``rgb/`` beside their masks in ``gt/`` (the depth files in ``xyz/`` are not read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ImageLoadError
from engine.imageio import is_image_file, list_images, load_image


@dataclass(frozen=True)
class TestSample:
    """One test image: its label (1 defective, 0 good), defect folder and optional mask file."""

    path: Path
    label: int
    defect: str
    mask_path: Path | None


@dataclass(frozen=True)
class Pack:
    """A part type's train and test images."""

    name: str
    root: Path
    train_good: list[Path]
    test: list[TestSample]
    pixel_level: bool

    def in_pixel_metrics(self) -> list[bool]:
        """Per test sample: whether it counts in the pixel metrics.

        Good images count as all defect-free.  A defective image without a mask says nothing
        about its pixels, so it stays out instead of counting every pixel of it as defect-free.
        """
        return [self.pixel_level and (s.label == 0 or s.mask_path is not None) for s in self.test]

    def part_name(self) -> str:
        """The part as prompts name it: the pack's folder name, words split at underscores."""
        return self.name.replace("_", " ").strip() or "part"

    def relative(self, path: Path) -> str:
        """Path relative to the pack root, with forward slashes."""
        return path.relative_to(self.root).as_posix()


def is_pack(folder: Path) -> bool:
    """A folder with ``train/good`` and ``test`` is a pack."""
    return (folder / "train" / "good").is_dir() and (folder / "test").is_dir()


def find_packs(root: str | Path) -> list[Path]:
    """``root`` itself when it is a pack, else its sub-folders that are packs, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Data folder not found: {root}")
    if is_pack(root):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and is_pack(p))


def image_folder(folder: Path) -> Path:
    """Where a class folder's images lie: the folder itself, or its ``rgb/`` (MVTec 3D-AD) when it
    holds no image directly."""
    rgb = folder / "rgb"
    if rgb.is_dir() and not list_images(folder):
        return rgb
    return folder


def _find_mask(ground_truth: Path, defect: str, image: Path) -> Path | None:
    """The mask file of ``image``, or the folder of its region masks (MVTec LOCO); None without."""
    stem = image.stem
    if image.parent.name == "rgb":
        candidate = image.parent.parent / "gt" / image.name
        return candidate if candidate.is_file() else None
    folder = ground_truth / defect
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.glob(f"{stem}_mask.*")) + sorted(folder.glob(f"{stem}.*")):
        if is_image_file(candidate):
            return candidate
    if (folder / stem).is_dir() and list_images(folder / stem):
        return folder / stem
    return None


def read_pack(folder: str | Path) -> Pack:
    """Index a pack's images and masks (no pixels are read)."""
    folder = Path(folder)
    ground_truth = folder / "ground_truth"
    samples: list[TestSample] = []
    for defect_dir in sorted(p for p in (folder / "test").iterdir() if p.is_dir()):
        label = 0 if defect_dir.name == "good" else 1
        for path in list_images(image_folder(defect_dir)):
            mask = None if label == 0 else _find_mask(ground_truth, defect_dir.name, path)
            samples.append(TestSample(path, label, defect_dir.name, mask))
    pixel_level = any(s.mask_path for s in samples)
    return Pack(folder.name, folder, list_images(image_folder(folder / "train" / "good")), samples, pixel_level)


def without_unreadable(pack: Pack) -> tuple[Pack, list[str]]:
    """The pack less the images (and test samples whose mask) that cannot be decoded, and why.

    Each file is decoded once, so that one corrupt or truncated file in a customer folder
    leaves that file out with a message instead of stopping a benchmark half-way.
    """
    problems: list[str] = []

    def readable(path: Path, mask: TestSample | None = None) -> bool:
        try:
            shape = load_image(path).shape[:2]
            if mask is not None:
                load_mask(mask, shape)
        except ImageLoadError as exc:
            problems.append(f"{pack.name}: {pack.relative(exc.path)} left out, {exc.reason}")
            return False
        return True

    train = [path for path in pack.train_good if readable(path)]
    test = [sample for sample in pack.test if readable(sample.path, sample if sample.mask_path else None)]
    pixel_level = pack.pixel_level and any(s.mask_path for s in test)
    return Pack(pack.name, pack.root, train, test, pixel_level), problems


def load_mask(sample: TestSample, shape: tuple[int, int]) -> np.ndarray:
    """Boolean ground-truth mask at ``shape``; good images and missing masks are all False.

    A folder of region masks (MVTec LOCO) gives their union.
    """
    if sample.mask_path is None:
        return np.zeros(shape, dtype=bool)
    if sample.mask_path.is_dir():
        union = np.zeros(shape, dtype=bool)
        for path in list_images(sample.mask_path):
            union |= _read_mask(path, shape)
        return union
    return _read_mask(sample.mask_path, shape)


def _read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    try:
        with Image.open(path) as image:
            data = np.asarray(image.convert("L") if image.mode in ("RGB", "RGBA", "P", "LA", "CMYK") else image)
    except OSError as exc:
        raise ImageLoadError(path, f"unreadable mask ({exc})") from exc
    # Half the mask's own maximum: 0/255 masks (MVTec), 0/1 label maps, 16-bit masks and the
    # noise of JPEG-saved masks all read right.
    peak = float(data.max()) if data.size else 0.0
    mask = data > peak / 2 if peak > 0 else np.zeros(data.shape, dtype=bool)
    if mask.shape != shape:
        mask = np.asarray(Image.fromarray(mask).resize((shape[1], shape[0]), Image.NEAREST))
    return mask


GOOD_FOLDER_NAMES = ("good", "ok")


def labelled_images(folder: str | Path) -> list[tuple[Path, int]]:
    """Images of a validation folder with labels: ``good/`` (or ``ok/``, any case) is 0, every other
    sub-folder 1.

    A pack (``test/`` inside) is read from its ``test`` folder.  Plants name the folders both ways,
    MVTec's ``good`` and the line's ``OK``/``NG``.
    """
    folder = Path(folder)
    if (folder / "test").is_dir():
        folder = folder / "test"
    if not folder.is_dir():
        raise FileNotFoundError(f"No such folder: {folder}")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
    if not any(sub.name.lower() in GOOD_FOLDER_NAMES for sub in subfolders):
        raise FileNotFoundError(f"No 'good' sub-folder in {folder}: put good images in good/ (or OK/) and defective "
                                "ones in other sub-folders.")
    samples = []
    for sub in subfolders:
        samples.extend((path, 0 if sub.name.lower() in GOOD_FOLDER_NAMES else 1) for path in list_images(sub))
    return samples
