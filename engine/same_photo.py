"""References that are shots of one part: shot twice without moving, moved between shots, or one file saved twice.

The threshold is estimated from how good parts differ from one another (``engine.calibration``):
each reference is scored against a bank of the others.  A second shot of the same part sits in that
bank as its twin, the held-out reference scores almost zero, and the threshold falls so low that
every new good part is rejected.  Measured on the dev packs (4 references, `/tmp` script): two
parts shot twice each rejected 100 % of the good bottles and cookies, one part shot four times
65 % and 100 %, against 15 % and 3 % for four different parts; one part re-placed between four shots
(shifted 1-2 %, turned 1-3 degrees) 100 % of the good hazelnuts and screws (bottles 2.5 %, cookies 21 %).
Grouped, such a bank counts as one reference (the single-reference fallback): 45.5 and 41.5 %.

Two tests, either of which makes two references shots of one part:

* **The same photo.**  Their 64x64 grey images, each set to zero mean and unit spread (so that a
  flicker of the lamp does not matter), correlate above 1 - ``SAME_PHOTO_DISTANCE``.  Measured:
  re-saved as JPEG, brightened 5 % or with sensor noise added, a photo stays within 0.0003 of itself;
  two different good parts lay at least 0.0017 apart (bottle, over 3486 pairs).
* **The same part, moved.**  Their grey images (longer side ``PART_SIDE``) are aligned by a turn and
  a shift (OpenCV's ECC, at half size first), and what remains of their fine detail (each less its
  Gaussian blur of ``PART_DETAIL_SIGMA`` px, the outer tenth of the frame left out) differs by less
  than ``SAME_PART_DISTANCE`` (one minus its correlation).  The detail is what tells two good parts
  of one type apart; their outline and shading are alike.  Measured on the dev packs' training good
  images (24 per pack, `/tmp` script): a photo against a copy shifted 1-2 %, turned 1-3 degrees, lit
  5 % unevenly and with sensor noise stayed within 0.023 of it (bottle 0.007, screw 0.011, cookies
  0.016, hazelnut 0.023); two different parts lay at least 0.032 apart (screw; bottle 0.043, others
  0.06-0.39; in the benchmark's reference sets, 0.029 at the closest), magnetic tiles aside, whose
  narrow crops turn into another crop (re-placed up to 0.21, different at least 0.39).  The packs'
  own re-shots were found: two photos of one cookie lay 0.005 apart.  Of 7415 random pairs of the packs'
  training good images, one other fell under the limit: two screws at 0.0247 that may be one screw moved.
  The alignment costs about 14 ms a pair, so it runs on sets of up to ``MAX_ALIGNED_SET`` references
  (0.3 s at 8, 1.2 s at 16); larger sets, where a twin weighs little, get the first test only.
"""

from __future__ import annotations

import cv2
import numpy as np

SAME_PHOTO_DISTANCE = 0.0006
COMPARISON_SIDE = 64
PART_SIDE = 192
PART_DETAIL_SIGMA = 12.0
SAME_PART_DISTANCE = 0.025
MAX_ALIGNED_SET = 16
_SAME_FRAME_ASPECT = 0.05
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
_ECC_REFINE = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 5, 1e-5)


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3], np.float32), cv2.COLOR_RGB2GRAY)


def photo_signature(image: np.ndarray) -> np.ndarray:
    """An RGB (or grey) image, of any pixel type, as a small grey vector with zero mean and unit spread."""
    small = cv2.resize(_grey(image), (COMPARISON_SIDE, COMPARISON_SIDE), interpolation=cv2.INTER_AREA)
    centred = small.ravel() - small.mean()
    return centred / max(float(centred.std()), 1e-6)


def is_same_photo(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two ``photo_signature`` vectors are of the same photo."""
    return 1.0 - float(first @ second) / first.shape[0] < SAME_PHOTO_DISTANCE


def part_view(image: np.ndarray) -> np.ndarray:
    """An RGB (or grey) image, of any pixel type, as the grey image ``aligned_distance`` compares."""
    grey = _grey(image)
    scale = PART_SIDE / max(grey.shape)
    size = (max(16, round(grey.shape[1] * scale)), max(16, round(grey.shape[0] * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def aligned_distance(first: np.ndarray, second: np.ndarray) -> float:
    """One minus the correlation of two ``part_view`` images' fine detail once the second is turned and
    shifted onto the first; 1.0 for frames of different shape, which are not one camera's view of one part."""
    height, width = first.shape
    if abs(second.shape[1] / second.shape[0] - width / height) > _SAME_FRAME_ASPECT * width / height:
        return 1.0
    if second.shape != first.shape:
        second = cv2.resize(second, (width, height), interpolation=cv2.INTER_AREA)
    half = (max(8, width // 2), max(8, height // 2))
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        _, warp = cv2.findTransformECC(cv2.resize(first, half, interpolation=cv2.INTER_AREA),
                                       cv2.resize(second, half, interpolation=cv2.INTER_AREA),
                                       warp, cv2.MOTION_EUCLIDEAN, _ECC_CRITERIA, None, 5)
        warp[:, 2] *= (width / half[0], height / half[1])
        _, warp = cv2.findTransformECC(first, second, warp, cv2.MOTION_EUCLIDEAN, _ECC_REFINE, None, 5)
    except cv2.error:
        pass  # no convergence: the last estimate (at worst none) is compared, which keeps them apart
    moved = cv2.warpAffine(second, warp, (width, height), flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REFLECT)
    inner_y, inner_x = slice(height // 10, height - height // 10), slice(width // 10, width - width // 10)
    detail = [(view - cv2.GaussianBlur(view, (0, 0), PART_DETAIL_SIGMA))[inner_y, inner_x].ravel()
              for view in (first, moved)]
    a, b = ((d - d.mean()) / max(float(d.std()), 1e-6) for d in detail)
    return 1.0 - float(a @ b) / a.size


def is_same_part(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two ``part_view`` images are shots of one part, moved or not."""
    return aligned_distance(first, second) < SAME_PART_DISTANCE


def same_photo_groups(images: list[np.ndarray]) -> list[int]:
    """For each image, the index of the first image it is a shot of the same part as (itself when none)."""
    signatures = [photo_signature(image) for image in images]
    views = [part_view(image) for image in images] if len(images) <= MAX_ALIGNED_SET else None
    group = list(range(len(images)))
    for second in range(len(images)):
        for first in range(second):
            if group[first] != first:
                continue
            if is_same_photo(signatures[first], signatures[second]) or (
                    views is not None and is_same_part(views[first], views[second])):
                group[second] = first
                break
    return group


def repeated(group: list[int]) -> tuple[tuple[int, ...], ...]:
    """The groups of two or more images in ``same_photo_groups``'s labels, as positions."""
    members: dict[int, list[int]] = {}
    for position, label in enumerate(group):
        members.setdefault(label, []).append(position)
    return tuple(tuple(positions) for positions in members.values() if len(positions) > 1)
