"""Grey and colour images of one part type, compared like with like.

A folder of one part may mix colour photos with grey ones: a mono camera beside a colour one,
16-bit TIFFs (which are grey) beside PNGs.  A grey photo of a good part searched against colour
references differs from them everywhere, in colour: on the benchmark's colour packs, with every
other test image made grey, image AUROC fell from 0.996 to 0.823 (cookies), 1.000 to 0.917
(hazelnuts) and 1.000 to 0.708 (transistors), and good grey parts were rejected.  So:

* when every reference is grey, colour images are made grey before the model
  (``EngineConfig.grey_references``); the references carry no colour to compare with;
* when the references have colour, a grey image is searched against a grey twin of the bank,
  the same references made grey (``engine.detector``): 0.993, 0.958 and 0.792 on those packs;
* in the leave-one-out calibration, a grey reference among colour ones is held out against the
  others made grey: with one mono photo among four synthetic colour references its normal score
  had been 8x the others' and the threshold 2.0x that of the colour references alone (now 1.3x);
  the only colour reference among grey ones is held out made grey (it had been 9x the others',
  and the threshold 1.5x that of the grey references alone; now 1.0x).

"Grey" means grey as a file stores it, not a colour photo of a grey part: the channels of at
most ``GREY_OUTLIER_SHARE`` of the pixels differ by more than ``GREY_TOLERANCE``, the rounding of a
conversion (a grey image saved as JPEG decodes with equal channels).  A colour camera's photo of a
grey part stays colour, and keeps its colour defects: on the colour dev packs 63 % or more of every
image's pixels differ by more than one level.
"""

from __future__ import annotations

import numpy as np

GREY_TOLERANCE = 1.5 / 255
GREY_OUTLIER_SHARE = 0.005
GREY_SAMPLE = 16384
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def is_grey(image: np.ndarray) -> bool:
    """Whether an RGB image (float in [0, 1], or integer pixels) has no colour worth the name; 2-D images are grey.

    Counted on at most ``GREY_SAMPLE`` pixels without sorting: it runs on every inspected image.
    """
    if image.ndim == 2 or image.shape[-1] == 1:
        return True
    rgb = image[..., :3].reshape(-1, 3)
    sample = rgb[::max(1, rgb.shape[0] // GREY_SAMPLE)].astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        sample /= float(np.iinfo(image.dtype).max)
    red, green, blue = sample[:, 0], sample[:, 1], sample[:, 2]
    spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    return np.count_nonzero(spread > GREY_TOLERANCE) <= GREY_OUTLIER_SHARE * spread.shape[0]


def to_grey(image: np.ndarray) -> np.ndarray:
    """RGB (float or uint8) made grey: its luma in all three channels, same shape and dtype."""
    luma = image[..., :3].astype(np.float32) @ LUMA_WEIGHTS
    if image.dtype == np.uint8:
        luma = np.rint(luma)
    return np.repeat(luma[..., None], 3, axis=-1).astype(image.dtype, copy=False)
