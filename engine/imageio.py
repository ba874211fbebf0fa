"""Image loading for what factory cameras and customer folders produce.

PNG, JPEG, BMP and TIFF; 8 or 16 bit; grey, RGB or RGBA; EXIF orientation applied.  Every image
reaches the model as float32 RGB in [0, 1] (H, W, 3), so the rest of the engine sees one format;
``decode_image`` gives the pixels as stored, so that a large photo is resized before that
conversion (``float_rgb_at``).  16-bit
data is scaled by the full 16-bit range, not per image, so that absolute brightness (a defect cue)
survives.  Alpha is composited onto black, the colour a masked-out area has on most rigs.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import ImageLoadError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

Image.MAX_IMAGE_PIXELS = 400_000_000
# The smallest longer side a JPEG is decoded at for inspection (``decode_for_inspection``).
DECODE_MIN_SIDE = 2048
TWELVE_BIT_WHITE = 4095


def is_image_file(path: str | Path) -> bool:
    """True when the file name has one of the supported image suffixes."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def is_listed_image(path: str | Path) -> bool:
    """Whether a folder listing picks the file up: a supported suffix and not hidden.  Hidden files
    are macOS's "._" companions on USB sticks and shares, and writers' temporary files."""
    return is_image_file(path) and not Path(path).name.startswith(".")


def list_images(folder: str | Path) -> list[Path]:
    """Supported image files directly inside ``folder``, hidden ones left out, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and is_listed_image(p))


def find_images(items: Iterable[str | Path], unreadable: list[Path] | None = None,
                empty: list[Path] | None = None) -> list[Path]:
    """Files named directly (whatever their type, so that a wrong one is reported by name), and the
    supported images inside named folders and their sub-folders, hidden files and folders left
    out, each folder's in path order.  Raises FileNotFoundError for a name that does not exist.

    A folder that cannot be listed (no permission, a share that dropped) is left out and, when
    ``unreadable`` is given, added to it, so that the caller can say which parts were not read.
    Likewise a named folder that holds no image (a mistyped lot, a camera that saved nothing) is
    added to ``empty``, so that it is not passed over in silence among folders that do.
    The app and the headless commands read folders this way, so a folder gives the same parts to both.
    """
    found: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            in_folder: list[Path] = []
            for folder, subfolders, files in os.walk(item, onerror=lambda error: _note_unreadable(error, unreadable)):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                in_folder.extend(Path(folder, name) for name in files if is_listed_image(name))
            found.extend(sorted(in_folder))
            if not in_folder and empty is not None:
                empty.append(item)
        elif item.exists():
            found.append(item)
        else:
            raise FileNotFoundError(f"No such file or folder: {item}")
    return found


def _note_unreadable(error: OSError, unreadable: list[Path] | None) -> None:
    if unreadable is not None and error.filename is not None:
        unreadable.append(Path(error.filename))


def unreadable_folders_note(folders: list[Path]) -> str:
    """A line naming the folders ``find_images`` could not list (the first three)."""
    shown = ", ".join(str(folder) for folder in folders[:3])
    if len(folders) > 3:
        shown += f" and {len(folders) - 3} more"
    count = "1 folder" if len(folders) == 1 else f"{len(folders)} folders"
    verb = "was" if len(folders) == 1 else "were"
    return f"{count} could not be read and {verb} left out (no permission, or the share dropped): {shown}."


def empty_folders_note(folders: list[Path]) -> str:
    """A line naming the folders ``find_images`` found no image in (the first three)."""
    shown = ", ".join(str(folder) for folder in folders[:3])
    if len(folders) > 3:
        shown += f" and {len(folders) - 3} more"
    count = "1 folder" if len(folders) == 1 else f"{len(folders)} folders"
    return f"No PNG, JPEG, BMP or TIFF file in {count} (hidden files left out): {shown}."


def no_images_reason(folders: Iterable[str | Path]) -> str:
    """Why ``find_images`` found nothing in ``folders``, for the person who chose them."""
    names = ", ".join(str(folder) for folder in folders) or "the selection"
    return (f"No images in {names}: no PNG, JPEG, BMP or TIFF file in it or its sub-folders "
            "(hidden files left out).")


def load_image(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Read an image file as float32 RGB in [0, 1], shape (H, W, 3).

    With ``max_side``, an image whose longer side exceeds it comes back shrunk to it; the shrink
    runs on the decoded 8- or 16-bit pixels, so a 100-megapixel photo never exists as float32
    (1.2 GB).  Raises ImageLoadError, naming the file, when it is missing, corrupt or unsupported.
    """
    pixels = decode_image(path)
    if max_side is None:
        return to_float_rgb(pixels, path)
    check_pixels(pixels, path)
    return float_rgb_at(pixels, size_within(*pixels.shape[:2], max_side), path)


def load_rgb8(path: str | Path, max_side: int | None = None, min_side: int | None = None) -> np.ndarray:
    """Read an image file as uint8 RGB for display, shrunk to ``max_side`` when given.

    A large JPEG is decoded reduced by its codec (as for inspection), keeping a longer side of
    at least ``min_side`` (default ``max_side``), and every shrink runs on the stored 8- or 16-bit
    pixels: a 100-megapixel photo shown at about 6000 px never exists whole.  Raises
    ImageLoadError as ``load_image`` does.
    """
    pixels, _ = _decode(Path(path), min_side or max_side)
    check_pixels(pixels, path)
    if max_side is not None:
        pixels = shrink_to_side(pixels, max_side)
    return to_rgb8(pixels, path)


@dataclass(frozen=True)
class DecodedImage:
    """A file's pixels decoded for inspection, perhaps smaller than the file (``decode_for_inspection``);
    ``size`` is the file's own (height, width), orientation applied, in which results are given."""

    pixels: np.ndarray
    size: tuple[int, int]


def decode_for_inspection(path: str | Path, area_share: float = 1.0) -> DecodedImage:
    """The file decoded as small as inspection allows, with its full size.

    A JPEG larger than twice ``DECODE_MIN_SIDE`` is decoded by the codec itself at 1/2, 1/4 or
    1/8 scale, keeping the longer side at least ``DECODE_MIN_SIDE``: the model sees far fewer
    pixels and the fact sheet measures at most 2048 px, so nothing needs more.  A 20-megapixel
    JPEG then decodes in about a third of the time and a quarter of the memory.  Where only an
    inspection area is inspected, ``area_share`` (its smaller share of the image's width and
    height, ``engine.area.area_share``) keeps that much more, so that the area keeps the detail.
    Other formats are decoded whole.  Every inspection path (app, CLI, benchmark) decodes files this way, so
    they agree on the score.
    """
    pixels, size = _decode(Path(path), math.ceil(DECODE_MIN_SIDE / max(area_share, 1e-3)))
    check_pixels(pixels, path)  # here, while the file's name is known: later it is an array
    return DecodedImage(pixels, size)


def decode_image(path: str | Path) -> np.ndarray:
    """The file's pixels as stored: uint8, uint16 or float (int32 for wider integer pixels); grey, RGB or
    RGBA; EXIF orientation applied.

    The cheapest form of a large photo (a quarter of its float32 RGB size for 8-bit files), for
    callers that resize before converting (``to_float_rgb``).  Raises ImageLoadError as
    ``load_image`` does.
    """
    return _decode(Path(path), None)[0]


def _decode(path: Path, at_least: int | None) -> tuple[np.ndarray, tuple[int, int]]:
    """(pixels, the file's own oriented (h, w)); a JPEG is decoded reduced down to ``at_least`` px when given."""
    if not path.is_file():
        raise ImageLoadError(path, "file not found")
    if not is_image_file(path):
        raise ImageLoadError(path, f"unsupported file type '{path.suffix}' (use PNG, JPEG, BMP or TIFF)")
    if path.stat().st_size == 0:
        raise ImageLoadError(path, "empty file (0 bytes): its copy or the camera's save did not finish")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                width, height = image.size
                size = _oriented_size(image)
                pixels = _png_by_opencv(path, image)
                if pixels is not None:
                    return exif_oriented(pixels, _exif_orientation(image)), size
                if _is_deep_colour_tiff(image):  # PIL would keep only the high byte
                    return _deep_colour_tiff(path, separate_planes=image.tag_v2.get(284, 1) == 2), size
                factor = at_least / max(width, height) if at_least else 1.0
                if image.format == "JPEG" and factor <= 0.5:
                    image.draft(image.mode, (math.ceil(width * factor), math.ceil(height * factor)))
                image.load()
                try:
                    ImageOps.exif_transpose(image, in_place=True)  # a copy costs 0.6 ms of the ~50 per image
                except (SyntaxError, ValueError, struct.error):  # an unreadable EXIF block: the pixels as stored
                    pass
                return _pil_to_array(image), size
    except Image.DecompressionBombError as exc:
        raise _too_large(path) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if path.suffix.lower() in (".tif", ".tiff"):
            pixels = _read_tiff(path, exc)
            return pixels, pixels.shape[:2]
        raise ImageLoadError(path, f"corrupt or unreadable ({exc})") from exc


def resizes_natively(pixels: np.ndarray) -> bool:
    """Whether OpenCV can resize these decoded pixels as they are (8 or 16 bit, 1, 3 or 4 channels)."""
    channels_ok = pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] in (1, 3, 4))
    return channels_ok and pixels.dtype in (np.uint8, np.uint16)


def float_rgb_at(pixels: np.ndarray, size: tuple[int, int], source: str | Path = "<array>") -> np.ndarray:
    """Decoded pixels (``decode_image``) as float32 RGB at ``size`` (h, w).

    8- and 16-bit pixels are resized first and converted after, so a 100-megapixel photo is never
    held as float32 at full size; RGBA is then composited at the new size.
    """
    if resizes_natively(pixels):
        return to_float_rgb(resize_image(pixels, size), source)
    return resize_image(to_float_rgb(pixels, source), size)


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (h, w); area interpolation when shrinking avoids aliasing."""
    th, tw = size
    if image.shape[:2] == (th, tw):
        return image
    shrinking = th * tw < image.shape[0] * image.shape[1]
    return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def size_within(height: int, width: int, side: int) -> tuple[int, int]:
    """(h, w) shrunk, aspect kept, so that the longer side is at most ``side``; smaller sizes as they are."""
    factor = side / max(height, width)
    if factor >= 1:
        return height, width
    return max(1, round(height * factor)), max(1, round(width * factor))


def to_rgb8(pixels: np.ndarray, source: str | Path = "<array>") -> np.ndarray:
    """Decoded pixels as uint8 RGB for display; 8-bit RGB comes back as it is, grey is expanded."""
    if pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[-1] == 3:
        check_pixels(pixels, source)
        return pixels
    if pixels.dtype == np.uint8 and pixels.ndim == 2:
        check_pixels(pixels, source)
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    return to_uint8(to_float_rgb(pixels, source))


# EXIF orientations that turn the stored image by 90 degrees (width and height swap).
QUARTER_TURN_ORIENTATIONS = {5, 6, 7, 8}


def image_shape(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image file as ``load_image`` returns it, from the header when possible.

    Lets a caller plan sizes before decoding large files; files PIL cannot open are decoded
    (and raise ``ImageLoadError`` as ``load_image`` does).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return _oriented_size(image)
    except Image.DecompressionBombError as exc:
        raise _too_large(path) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return decode_image(path).shape[:2]


# PNG modes whose pixels OpenCV decodes to the same array as PIL (channels reordered).
OPENCV_PNG_MODES = {"L": 2, "RGB": 3, "RGBA": 4, "I;16": 2}


def _png_by_opencv(path: Path, image: Image.Image) -> np.ndarray | None:
    """A plain PNG's pixels through OpenCV's decoder, faster than PIL's (20-25 against 30 ms for a
    1024x1024 MVTec photo) and the only one of the two that keeps 16-bit colour (PIL keeps its high
    byte, which leaves a 12-bit colour camera's photo almost black); None where PIL must decode it
    (palette, bi-level, or a file OpenCV cannot read).  The pixels are as stored: EXIF orientation
    is for the caller to apply."""
    channels = OPENCV_PNG_MODES.get(image.mode)
    if image.format != "PNG" or channels is None:
        return None
    pixels = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    expected = (image.size[1], image.size[0]) + ((channels,) if channels > 2 else ())
    depths = (np.uint16,) if image.mode == "I;16" else (np.uint8, np.uint16) if channels > 2 else (np.uint8,)
    if pixels is None or pixels.shape != expected or pixels.dtype not in depths:
        return None
    if channels > 2:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB if channels == 3 else cv2.COLOR_BGRA2RGBA)
    return pixels


def _is_deep_colour_tiff(image: Image.Image) -> bool:
    """A TIFF of more than 8 bits per colour sample, which PIL decodes to 8 bits (``_deep_colour_tiff`` keeps them)."""
    if image.format != "TIFF" or image.mode not in ("RGB", "RGBA"):
        return False
    bits = image.tag_v2.get(258, (8,))
    return max(bits if isinstance(bits, tuple) else (bits,)) > 8


def _deep_colour_tiff(path: Path, separate_planes: bool = False) -> np.ndarray:
    """A 16-bit colour TIFF's pixels, upright, as RGB(A): OpenCV's decoder reads its usual
    compressions (LZW, Deflate) and applies the orientation tag itself, tifffile reads the rest,
    and colour stored plane by plane, which OpenCV reads as the first plane three times."""
    if separate_planes:
        return _read_tiff(path, None)
    pixels = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        return _read_tiff(path, None)
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB if pixels.shape[-1] == 3 else cv2.COLOR_BGRA2RGBA)


# Each EXIF orientation (2-8) as the turn or mirror that shows the stored pixels upright,
# the same as ImageOps.exif_transpose's, on arrays of any depth.
_EXIF_TURNS = {
    2: lambda pixels: pixels[:, ::-1],
    3: lambda pixels: pixels[::-1, ::-1],
    4: lambda pixels: pixels[::-1],
    5: lambda pixels: pixels.swapaxes(0, 1),
    6: lambda pixels: np.rot90(pixels, -1),
    7: lambda pixels: pixels[::-1, ::-1].swapaxes(0, 1),
    8: lambda pixels: np.rot90(pixels, 1),
}


def exif_oriented(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """Stored pixels (h, w[, c]) shown upright by their EXIF orientation (1-8; None or 1 leaves them).

    For pixels PIL does not decode (16-bit colour through OpenCV), so that a camera's turned photo
    is upright whatever its depth.
    """
    turn = _EXIF_TURNS.get(orientation or 1)
    return pixels if turn is None else np.ascontiguousarray(turn(pixels))


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    """An opened image's (height, width) once its EXIF orientation is applied, from the header alone."""
    width, height = image.size
    if image.format == "TIFF":  # recent Pillow reports a turned TIFF's size already turned
        width, height = image.tag_v2.get(256, width), image.tag_v2.get(257, height)
    return (width, height) if _exif_orientation(image) in QUARTER_TURN_ORIENTATIONS else (height, width)


def _exif_orientation(image: Image.Image) -> int | None:
    """An opened image's EXIF orientation, without decoding its pixels.

    A PNG's eXIf chunk may follow its pixels (some writers put it there); Pillow would decode the
    whole image to find it, so the file's chunk headers are walked instead (under a millisecond
    for a camera photo).
    """
    if image.format == "PNG" and "exif" not in image.info:
        data = _png_chunk(image.filename, b"eXIf") if getattr(image, "filename", "") else None
        if not data:
            return None
        exif = Image.Exif()
        try:
            exif.load(data)
        except (SyntaxError, ValueError, OSError, struct.error):  # a broken eXIf chunk: no orientation
            return None
        return exif.get(0x0112)
    return image.getexif().get(0x0112)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(path: str | Path, kind: bytes) -> bytes | None:
    """The data of a PNG file's first chunk of ``kind``, found by skipping from chunk header to
    chunk header; None when the file has none (or is cut short)."""
    with open(path, "rb") as file:
        if file.read(8) != PNG_SIGNATURE:
            return None
        while len(header := file.read(8)) == 8:
            length, name = struct.unpack(">I4s", header)
            if name == kind:
                data = file.read(length)
                return data if len(data) == length else None
            if name == b"IEND":
                return None
            file.seek(length + 4, os.SEEK_CUR)  # the data and its CRC
    return None


def _too_large(path: str | Path) -> ImageLoadError:
    """The error for a file whose header declares more pixels than PIL will decode."""
    limit = 2 * Image.MAX_IMAGE_PIXELS // 1_000_000  # PIL refuses above twice its warning limit
    return ImageLoadError(path, f"too large to inspect (over {limit} megapixels)")


def _pil_to_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.uint16)
    if image.mode == "I":  # 32-bit integers; most such files hold 16-bit pixels
        data = np.asarray(image, dtype=np.int32)
        return data.astype(np.uint16) if data.size and data.min() >= 0 and data.max() <= 65535 else data
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32)
    if image.mode in ("RGB", "RGBA", "L"):
        return np.asarray(image)
    has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def _read_tiff(path: Path, first_error: Exception | None) -> np.ndarray:
    """A TIFF PIL cannot decode (odd compression, a broken file) through tifffile, turned upright
    by its orientation tag."""
    return exif_oriented(*_tiff_pixels(path, first_error))


def _tiff_pixels(path: Path, first_error: Exception | None) -> tuple[np.ndarray, int | None]:
    """A TIFF's pixels as stored, read by tifffile, and its orientation tag (None without one)."""
    import logging

    try:
        import tifffile

        logging.getLogger("tifffile").setLevel(logging.ERROR)  # a broken file is reported below, not logged
        with tifffile.TiffFile(path) as tiff:
            # The first page only, as PIL and OpenCV read: a sequence saved in one file is not one image.
            data = tiff.pages[0].asarray() if tiff.pages else np.empty(0)
            orientation_tag = tiff.pages[0].tags.get(274) if tiff.pages else None
    except Exception as exc:  # tifffile raises many types for broken files
        causes = f"{first_error}; {exc}" if first_error is not None else str(exc)
        raise ImageLoadError(path, f"corrupt or unreadable TIFF ({causes})") from exc
    if data.size == 0:
        cause = f" ({first_error})" if first_error is not None else ""
        raise ImageLoadError(path, f"corrupt or unreadable TIFF: no image data, the file may be cut short{cause}")
    if data.ndim == 3 and data.shape[0] in (1, 2, 3, 4) and data.shape[-1] not in (1, 2, 3, 4):
        data = np.moveaxis(data, 0, -1)
    if data.ndim == 3 and data.shape[-1] == 2:
        data = _grey_on_black(data)
    return data, int(orientation_tag.value) if orientation_tag is not None else None


def _grey_on_black(grey_alpha: np.ndarray) -> np.ndarray:
    """Grey pixels with an alpha channel composited on black, in their own type, as RGBA is (PIL reads
    8-bit grey with alpha; tifffile hands 16-bit and float ones over as two channels)."""
    grey, alpha = grey_alpha[..., 0], grey_alpha[..., 1]
    if grey_alpha.dtype == np.uint16:
        opaque = sixteen_bit_full_scale(alpha)
    elif np.issubdtype(grey_alpha.dtype, np.integer):
        opaque = float(np.iinfo(grey_alpha.dtype).max)
    else:
        opaque = 1.0
    composited = grey.astype(np.float32) * np.clip(alpha.astype(np.float32) / opaque, 0.0, 1.0)
    if np.issubdtype(grey_alpha.dtype, np.integer):
        composited = np.rint(composited)
    return composited.astype(grey_alpha.dtype)


def sixteen_bit_full_scale(pixels: np.ndarray) -> float:
    """What white is in 16-bit pixels: 4095 when none exceeds it, else 65535.

    Many industrial cameras deliver 12-bit pixels (Mono12) and their software saves them in a
    16-bit file as they are, 0 to 4095: read as 16-bit, such a photo is almost black (on the
    benchmark's packs saved that way, 4-shot image AUROC fell from 0.798 to 0.728 on magnetic
    tiles and from 0.999 to 0.983 on bottles).  A true 16-bit photo whose brightest pixel stays
    below 1/16 of full scale is far rarer than a 12-bit one.
    """
    return 65535.0 if pixels.size and int(pixels.max()) > TWELVE_BIT_WHITE else float(TWELVE_BIT_WHITE)


def to_float_rgb(array: np.ndarray, source: str | Path = "<array>") -> np.ndarray:
    """Convert a grey, RGB or RGBA array of any common dtype to float32 RGB in [0, 1].

    An array that already is contiguous float32 RGB in [0, 1] (what ``load_image`` returns) comes
    back as it is, not copied: a 25-megapixel photo is 300 MB per copy.  Treat the result as
    read-only.
    """
    data = np.asarray(array)
    if _is_clean_float_rgb(data):
        return data
    check_pixels(data, source)
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    # Each branch makes one fresh float32 array and then works in place: a 12-megapixel frame
    # is 144 MB per copy.
    if data.dtype == np.uint8:
        scaled = data.astype(np.float32)
        scaled /= 255.0
    elif data.dtype == np.uint16:
        scaled = data.astype(np.float32)
        if scaled.ndim == 3 and scaled.shape[-1] == 4:
            scaled[..., :3] /= sixteen_bit_full_scale(data[..., :3])
            scaled[..., 3] /= sixteen_bit_full_scale(data[..., 3])
        else:
            scaled /= sixteen_bit_full_scale(data)
    elif data.dtype == bool:
        scaled = data.astype(np.float32)
    elif np.issubdtype(data.dtype, np.floating):
        scaled = data.astype(np.float32)
        if not np.isfinite(scaled).all():  # one pass; nan_to_num alone makes three
            np.nan_to_num(scaled, copy=False)
        peak = float(scaled.max(initial=0.0))
        if peak > 1.0:
            scaled /= max(peak, 1e-6)
    elif np.issubdtype(data.dtype, np.integer):
        scaled = _wide_integers_to_float(data)
    else:
        raise ImageLoadError(source, f"unsupported pixel type {data.dtype}")
    if scaled.ndim == 2:
        scaled = np.repeat(scaled[..., None], 3, axis=2)
    elif scaled.shape[-1] == 4:
        scaled = scaled[..., :3] * scaled[..., 3:4]
    np.clip(scaled, 0.0, 1.0, out=scaled)
    return np.ascontiguousarray(scaled, dtype=np.float32)


def _wide_integers_to_float(data: np.ndarray) -> np.ndarray:
    """Integer pixels other than unsigned 8 and 16 bit (signed, 32 or 64 bit) as float32 in [0, 1].

    Signed bytes are read as 8-bit pixels; wider pixels within 0-65535 as 16-bit ones (12-bit
    ones included); wider values have no standard white, so they are scaled by their own peak, as
    float pixels above 1 are.  Negative values are black.
    """
    if data.dtype.itemsize == 1:
        scaled = np.maximum(data, 0).astype(np.float32)
        scaled /= 255.0
        return scaled
    if data.size and data.min() >= 0 and data.max() <= 65535:
        scaled = data.astype(np.float32)
        scaled /= sixteen_bit_full_scale(data)
        return scaled
    scaled = np.maximum(data, 0).astype(np.float32)
    scaled /= max(float(scaled.max(initial=0.0)), 1.0)
    return scaled


def check_pixels(data: np.ndarray, source: str | Path = "<array>") -> None:
    """Raise ImageLoadError unless ``data`` is a grey, RGB or RGBA image of at least 8x8 pixels."""
    channels = data.shape[-1] if data.ndim == 3 else None
    if data.ndim not in (2, 3) or channels not in (None, 1, 3, 4):
        raise ImageLoadError(source, f"unsupported image shape {data.shape}")
    if data.shape[0] < 8 or data.shape[1] < 8:
        raise ImageLoadError(source, f"image too small ({data.shape[1]}x{data.shape[0]} px)")


def _is_clean_float_rgb(data: np.ndarray) -> bool:
    if data.dtype != np.float32 or data.ndim != 3 or data.shape[-1] != 3 or not data.flags.c_contiguous:
        return False
    if data.shape[0] < 8 or data.shape[1] < 8 or not np.isfinite(data).all():
        return False
    return float(data.min(initial=0.0)) >= 0.0 and float(data.max(initial=0.0)) <= 1.0


def shrink_to_side(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` shrunk (area interpolation) so that its longer side is at most ``side``; smaller ones as they are."""
    return resize_image(image, size_within(*image.shape[:2], side))


def encode_png(image: np.ndarray, what: str = "the image") -> bytes:
    """A grey, RGB or RGBA array (uint8, or float in [0, 1]) as PNG file bytes; ValueError naming
    ``what`` when it cannot be encoded."""
    pixels = to_uint8(image) if image.dtype != np.uint8 else image
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR if pixels.shape[-1] == 3 else cv2.COLOR_RGBA2BGRA)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError(f"cannot encode {what}")
    return encoded.tobytes()


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] RGB to uint8 RGB, for display and reports."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
