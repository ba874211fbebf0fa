"""Image loading: formats, bit depths, channels, EXIF orientation and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from engine.errors import ImageLoadError
from engine.imageio import (
    DECODE_MIN_SIDE,
    decode_for_inspection,
    decode_image,
    empty_folders_note,
    exif_oriented,
    find_images,
    image_shape,
    load_image,
    load_rgb8,
    shrink_to_side,
    to_float_rgb,
    to_rgb8,
    unreadable_folders_note,
)
from tests.helpers import write_parts

_RNG = np.random.default_rng(0)


def _gradient(height: int = 40, width: int = 60) -> np.ndarray:
    return np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".jpg"])
def test_rgb_formats_load_as_float_rgb(tmp_path, suffix):
    rgb = np.stack([_gradient(), 255 - _gradient(), np.full((40, 60), 128, np.uint8)], axis=2)
    path = tmp_path / f"part{suffix}"
    Image.fromarray(rgb).save(path)
    image = load_image(path)
    assert image.shape == (40, 60, 3) and image.dtype == np.float32
    tolerance = 0.05 if suffix == ".jpg" else 1e-6
    assert np.allclose(image[..., 0], rgb[..., 0] / 255.0, atol=tolerance)
    assert np.allclose(image[..., 1], rgb[..., 1] / 255.0, atol=tolerance)


def test_grey_8bit_becomes_three_equal_channels(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(_gradient()).save(path)
    image = load_image(path)
    assert image.shape == (40, 60, 3)
    assert np.array_equal(image[..., 0], image[..., 2])
    assert image[0, -1, 0] == pytest.approx(1.0)


def test_grey_16bit_png_keeps_full_range(tmp_path):
    data = np.tile(np.linspace(0, 65535, 60).astype(np.uint16), (40, 1))
    path = tmp_path / "grey16.png"
    Image.fromarray(data).save(path)
    image = load_image(path)
    assert image[0, 0, 0] == pytest.approx(0.0)
    assert image[0, -1, 0] == pytest.approx(1.0)
    assert image[0, 30, 0] == pytest.approx(data[0, 30] / 65535.0, abs=1e-4)


def test_12bit_camera_pixels_in_a_16bit_file_read_as_full_range(tmp_path, detector):
    """A Mono12 camera's 0-4095 pixels saved unshifted in 16-bit files look like the 8-bit photo."""
    from engine.config import EngineConfig
    from engine.synthetic import synthetic_part

    eight = [synthetic_part(seed) for seed in range(5)]
    twelve = [(image.astype(np.uint32) * 4095 // 255).astype(np.uint16) for image in eight]
    tifffile.imwrite(tmp_path / "mono12.tif", twelve[0][..., 0])
    grey = load_image(tmp_path / "mono12.tif")
    assert grey[..., 0] == pytest.approx(eight[0][..., 0] / 255.0, abs=1e-3)
    rgba = np.concatenate([twelve[0], np.full(twelve[0].shape[:2] + (1,), 65535, np.uint16)], axis=2)
    assert to_float_rgb(rgba) == pytest.approx(eight[0] / 255.0, abs=1e-3)
    config = EngineConfig(augment="none")
    bank8, bank12 = detector.build_bank(eight[:4], config), detector.build_bank(twelve[:4], config)
    assert detector.inspect(twelve[4], bank12).score == pytest.approx(detector.inspect(eight[4], bank8).score, rel=0.02)


def test_rgb_16bit_tiff_loads(tmp_path):
    data = np.zeros((40, 60, 3), dtype=np.uint16)
    data[..., 1] = 65535
    path = tmp_path / "rgb16.tiff"
    tifffile.imwrite(path, data)
    image = load_image(path)
    assert image.shape == (40, 60, 3)
    assert image[..., 1].min() == pytest.approx(1.0) and image[..., 0].max() == pytest.approx(0.0)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_colour_keeps_its_depth_and_12bit_colour_reads_as_full_range(tmp_path, suffix):
    """PIL keeps only the high byte of 16-bit colour: a 12-bit colour camera's photo came out almost black."""
    import cv2

    from engine.synthetic import synthetic_part

    eight = synthetic_part(3)
    twelve = (eight.astype(np.uint32) * 4095 // 255).astype(np.uint16)
    sixteen = _RNG.integers(0, 65536, (50, 70, 3), dtype=np.uint16)
    for name, data in (("twelve", twelve), ("sixteen", sixteen)):
        assert cv2.imwrite(str(tmp_path / f"{name}{suffix}"), data[..., ::-1])  # LZW in TIFF, as OpenCV saves it
        assert decode_image(tmp_path / f"{name}{suffix}").dtype == np.uint16
    assert load_image(tmp_path / f"twelve{suffix}") == pytest.approx(eight / 255.0, abs=1e-3)
    assert load_image(tmp_path / f"sixteen{suffix}") == pytest.approx(sixteen / 65535.0, abs=1e-6)
    assert load_rgb8(tmp_path / f"sixteen{suffix}") == pytest.approx(sixteen / 257.0, abs=1)


def test_16bit_colour_stored_plane_by_plane_keeps_its_colours(tmp_path):
    """OpenCV reads a separate-planes TIFF as its first plane three times: a red part came out white."""
    colour = _RNG.integers(0, 65536, (30, 50, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "planes.tif", np.moveaxis(colour, -1, 0), planarconfig="separate", photometric="rgb")
    assert np.array_equal(decode_image(tmp_path / "planes.tif"), colour)


@pytest.mark.parametrize("kind", ["grey16", "grey16-lzma", "colour16-planes", "rgb8"])
def test_a_tiff_of_several_pages_is_read_as_its_first_page(tmp_path, kind):
    """Some camera software saves a sequence of shots in one TIFF: the first is inspected, on every decoder's
    path, not the pages taken for the channels of one image (or refused for their count)."""
    if kind.startswith("grey16"):
        pages = _RNG.integers(0, 65536, (3, 30, 50), dtype=np.uint16)
        options = {"photometric": "minisblack", "compression": "lzma" if kind.endswith("lzma") else None}
        first = np.repeat(pages[0][..., None], 3, axis=-1)
    elif kind == "colour16-planes":
        pages = _RNG.integers(0, 65536, (2, 3, 30, 50), dtype=np.uint16)
        options = {"photometric": "rgb", "planarconfig": "separate"}
        first = np.moveaxis(pages[0], 0, -1)
    else:
        pages = _RNG.integers(0, 256, (4, 30, 50, 3), dtype=np.uint8)
        options = {"photometric": "rgb"}
        first = pages[0]
    path = tmp_path / "sequence.tif"
    tifffile.imwrite(path, pages, **options)
    decoded = decode_image(path)
    decoded = np.repeat(decoded[..., None], 3, axis=-1) if decoded.ndim == 2 else decoded
    assert np.array_equal(decoded, first)
    assert image_shape(path) == (30, 50)


@pytest.mark.parametrize("dtype", [np.uint32, np.int32])
def test_32bit_integer_pixels_keep_their_shades(tmp_path, dtype):
    """Pixels wider than 16 bit had been cut at 65535: a 20-bit photo came out almost all white.  Within
    16 bits they read as 16-bit pixels; wider ones are scaled by their peak."""
    wide = _RNG.integers(0, 1 << 20, (30, 50)).astype(dtype)
    narrow = _RNG.integers(0, 65536, (30, 50)).astype(dtype)
    tifffile.imwrite(tmp_path / "wide.tif", wide)
    tifffile.imwrite(tmp_path / "narrow.tif", narrow)
    assert load_image(tmp_path / "wide.tif")[..., 0] == pytest.approx(wide / float(wide.max()), abs=1e-6)
    assert load_image(tmp_path / "narrow.tif")[..., 0] == pytest.approx(narrow / 65535.0, abs=1e-6)
    signed = np.where(np.arange(50) < 25, -5000, 40000).astype(np.int32)[None].repeat(30, axis=0)
    assert set(np.unique(to_float_rgb(signed))) == {0.0, 1.0}  # negative is black, the peak white


def test_16bit_grey_with_alpha_is_composited_on_black(tmp_path):
    """A grey photo with a transparency mask, saved 16-bit: refused as an "unsupported shape" before."""
    grey = _RNG.integers(0, 65536, (30, 50), dtype=np.uint16)
    alpha = np.zeros((30, 50), np.uint16)
    alpha[:, :20] = 65535
    tifffile.imwrite(tmp_path / "masked.tif", np.stack([grey, alpha], axis=-1), photometric="minisblack",
                     extrasamples=[2])
    image = load_image(tmp_path / "masked.tif")
    assert image[:, :20, 1] == pytest.approx(grey[:, :20] / 65535.0, abs=1e-5)
    assert not image[:, 20:].any()


def test_rgba_is_composited_on_black(tmp_path):
    rgba = np.zeros((40, 60, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:, :30, 3] = 255
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    image = load_image(path)
    assert image[0, 0, 0] == pytest.approx(1.0)
    assert image[0, 59, 0] == pytest.approx(0.0)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_exif_orientation_is_applied(tmp_path, suffix):
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    rgb[:, :10] = 255  # bright band on the left of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display needs a 90 degree clockwise turn
    path = tmp_path / f"rotated{suffix}"
    Image.fromarray(rgb).save(path, exif=exif, quality=95)
    image = load_image(path)
    assert image.shape == (60, 40, 3)
    assert image[:10].mean() > 0.8 and image[-10:].mean() < 0.2  # the band is now on top
    assert image_shape(path) == (60, 40)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_of_undecoded_pixels_matches_pil(orientation):
    stored = _RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.info["exif"] = exif.tobytes()
    assert np.array_equal(exif_oriented(stored, orientation), np.asarray(ImageOps.exif_transpose(image)))


def _png_with_exif_orientation(pixels: np.ndarray, orientation: int, after_pixels: bool = False,
                               encoded: bytes | None = None) -> bytes:
    """A PNG (by default OpenCV's, which writes 16-bit colour, unlike PIL) with an eXIf chunk before its
    image data, or after it, where some writers put it."""
    import struct
    import zlib

    import cv2

    encoded = encoded or cv2.imencode(".png", pixels[..., ::-1])[1].tobytes()
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = exif.tobytes()
    if payload.startswith(b"Exif\x00\x00"):
        payload = payload[6:]
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload) & 0xFFFFFFFF)
    at = encoded.rindex(b"IEND") - 4 if after_pixels else encoded.index(b"IDAT") - 4
    return encoded[:at] + chunk + encoded[at:]


@pytest.mark.parametrize("kind", ["rgb8", "rgb16", "palette"])
def test_an_exif_orientation_after_a_png_s_pixels_is_applied_without_decoding_for_the_size(tmp_path, kind):
    """OpenCV decodes plain PNGs and the size is read from the header: both look for a late eXIf chunk."""
    import io

    stored = _RNG.integers(0, 65536 if kind == "rgb16" else 256, (40, 60, 3),
                           dtype=np.uint16 if kind == "rgb16" else np.uint8)
    encoded = None
    if kind == "palette":
        buffer = io.BytesIO()
        Image.fromarray(stored).convert("P").save(buffer, "PNG")
        encoded = buffer.getvalue()
        with Image.open(io.BytesIO(encoded)) as image:
            stored = np.asarray(image.convert("RGB"))
    path = tmp_path / "late.png"
    path.write_bytes(_png_with_exif_orientation(stored, 6, after_pixels=True, encoded=encoded))
    decoded = decode_image(path)
    assert np.array_equal(decoded, exif_oriented(stored, 6)) and decoded.dtype == stored.dtype
    assert image_shape(path) == (60, 40)
    broken = path.read_bytes().replace(b"eXIfMM", b"eXIfXX")  # an unreadable eXIf chunk: the pixels as stored
    path.write_bytes(broken)
    assert np.array_equal(decode_image(path), stored) and image_shape(path) == (40, 60)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("orientation", [3, 6])
def test_a_turned_16bit_colour_photo_keeps_its_depth_and_is_upright(tmp_path, suffix, orientation):
    """A camera that saves 16-bit colour with an orientation tag: both the depth and the turn count
    (.tiff: a compression OpenCV cannot read, so that tifffile decodes it)."""
    stored = _RNG.integers(0, 65536, (40, 60, 3), dtype=np.uint16)
    path = tmp_path / f"turned{suffix}"
    if suffix == ".png":
        path.write_bytes(_png_with_exif_orientation(stored, orientation))
    else:
        compression = "lzma" if suffix == ".tiff" else None
        tifffile.imwrite(path, stored, compression=compression, extratags=[(274, "H", 1, orientation, True)])
    decoded = decode_image(path)
    assert decoded.dtype == np.uint16
    assert np.array_equal(decoded, exif_oriented(stored, orientation))
    assert image_shape(path) == decoded.shape[:2]


@pytest.mark.parametrize("data", [_RNG.integers(0, 256, (50, 70, 3), dtype=np.uint8),
                                  _RNG.integers(0, 256, (50, 70, 4), dtype=np.uint8),
                                  _RNG.integers(0, 256, (50, 70), dtype=np.uint8),
                                  _RNG.integers(0, 65536, (50, 70), dtype=np.uint16),
                                  _RNG.integers(0, 2, (50, 70), dtype=np.uint8).astype(bool)],
                         ids=["rgb", "rgba", "grey8", "grey16", "bilevel"])
def test_png_pixels_are_exactly_those_pil_decodes(tmp_path, data):
    # Plain PNGs are decoded by OpenCV, which is faster; the pixels must not change with the decoder.
    path = tmp_path / "part.png"
    Image.fromarray(data).save(path)
    with Image.open(path) as image:
        expected = np.asarray(image, dtype=np.uint16 if data.dtype == np.uint16 else None)
        expected = np.asarray(image.convert("RGB")) if image.mode == "1" else expected
    decoded = decode_image(path)
    assert decoded.dtype == expected.dtype and np.array_equal(decoded, expected)


def test_a_large_jpeg_is_decoded_reduced_for_inspection_with_its_own_size_and_orientation(tmp_path):
    rgb = np.zeros((2600, 4400, 3), dtype=np.uint8)
    rgb[:, :600] = 255  # bright band on the left of the stored pixels
    Image.fromarray(rgb).save(tmp_path / "wide.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(tmp_path / "turned.jpg", exif=exif, quality=90)
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    Image.fromarray(rgb[:, :3000]).save(tmp_path / "smaller.jpg", quality=90)

    wide = decode_for_inspection(tmp_path / "wide.jpg")
    assert wide.size == (2600, 4400) and wide.pixels.shape == (1300, 2200, 3)  # the codec's 1/2 scale
    assert wide.pixels[:, :290].mean() > 240 and wide.pixels[:, 310:].mean() < 15
    turned = decode_for_inspection(tmp_path / "turned.jpg")
    assert turned.size == (4400, 2600) == image_shape(tmp_path / "turned.jpg")
    assert turned.pixels.shape == (2200, 1300, 3) and turned.pixels[:290].mean() > 240  # the band on top
    assert DECODE_MIN_SIDE <= max(wide.pixels.shape) < 2 * DECODE_MIN_SIDE
    # An inspection area half the image's width keeps the detail it would have had as the whole photo.
    assert decode_for_inspection(tmp_path / "wide.jpg", area_share=0.5).pixels.shape == (2600, 4400, 3)
    assert decode_for_inspection(tmp_path / "wide.jpg", area_share=0.95).pixels.shape == (1300, 2200, 3)
    for name, shape in (("wide.png", (2600, 4400)), ("smaller.jpg", (2600, 3000))):  # decoded whole
        decoded = decode_for_inspection(tmp_path / name)
        assert decoded.size == decoded.pixels.shape[:2] == shape, name
    assert decode_image(tmp_path / "wide.jpg").shape == (2600, 4400, 3)
    shown = load_rgb8(tmp_path / "turned.jpg", max_side=1000)  # reduced by the codec, then shrunk
    assert shown.shape == (1000, 591, 3) and shown[:130].mean() > 240 and shown[140:].mean() < 15
    # Where a picture a little under the cap will do, the codec's 1/2 scale (2200 px) is kept as it is.
    assert load_rgb8(tmp_path / "turned.jpg", max_side=3000, min_side=2000).shape == (2200, 1300, 3)
    assert load_rgb8(tmp_path / "turned.jpg", max_side=3000).shape == (3000, 1773, 3)


def test_header_shape_matches_the_decoded_image(tmp_path):
    tifffile.imwrite(tmp_path / "rgb16.tiff", np.zeros((40, 60, 3), dtype=np.uint16))
    tifffile.imwrite(tmp_path / "turned8.tiff", np.zeros((40, 60, 3), np.uint8), extratags=[(274, "H", 1, 6, True)])
    Image.fromarray(_gradient(30, 50)).save(tmp_path / "grey.png")
    Image.fromarray(np.zeros((20, 70, 3), np.uint8)).save(tmp_path / "part.bmp")
    for path in sorted(tmp_path.iterdir()):
        assert image_shape(path) == load_image(path).shape[:2], path.name
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ImageLoadError, match="broken.png"):
        image_shape(broken)


def test_corrupt_file_raises_error_naming_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert "broken.png" in str(info.value)
    assert info.value.path == path


def test_truncated_jpeg_raises(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(np.stack([_gradient()] * 3, axis=2)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageLoadError, match="cut.jpg"):
        load_image(path)


def test_a_png_cut_short_gets_only_our_message_naming_it(tmp_path):
    """OpenCV's decoder printed "[ WARN ...] PNG input buffer is incomplete" beside the message."""
    import subprocess
    import sys

    path = tmp_path / "cut.png"
    Image.fromarray(_RNG.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    script = ("import sys; from engine.imageio import ImageLoadError, load_image\n"
              "try:\n    load_image(sys.argv[1])\nexcept ImageLoadError as exc:\n    print(exc, file=sys.stderr)")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=root,
                          env={k: v for k, v in os.environ.items() if k != "OPENCV_LOG_LEVEL"}, timeout=120)
    assert done.stderr.strip().splitlines() == [f"Cannot read image '{path}': corrupt or unreadable (image file is "
                                                "truncated)"]


def test_a_tiff_cut_short_is_reported_as_such(tmp_path):
    path = tmp_path / "cut.tif"
    Image.fromarray(np.stack([_gradient()] * 3, axis=2)).save(path, compression="tiff_lzw")
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])  # the directory sits at the end
    with pytest.raises(ImageLoadError, match=r"cut\.tif.*no image data, the file may be cut short"):
        load_image(path)


def test_unsupported_and_missing_files_raise(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(ImageLoadError, match="unsupported file type"):
        load_image(text)
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "unfinished.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty file"):
        load_image(tmp_path / "unfinished.png")


def test_float_arrays_with_nan_or_infinity_become_finite_rgb_in_range():
    data = np.full((16, 16), 0.5, dtype=np.float32)
    data[0, 0], data[1, 1] = np.nan, -np.inf
    rgb = to_float_rgb(data)
    assert rgb.shape == (16, 16, 3) and np.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert rgb[0, 0, 0] == 0.0 and rgb[2, 2, 0] == pytest.approx(0.5)
    clean = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    assert np.array_equal(to_float_rgb(clean), clean)


def test_clean_float_rgb_passes_through_uncopied_and_other_input_is_never_changed_in_place():
    clean = np.random.default_rng(1).random((32, 24, 3)).astype(np.float32)
    assert to_float_rgb(clean) is clean
    bright = clean * 4.0
    before = bright.copy()
    converted = to_float_rgb(bright)
    assert converted is not bright and np.array_equal(bright, before)
    assert converted.max() == pytest.approx(1.0)


@pytest.mark.parametrize("data", [_gradient(80, 120), np.tile(np.linspace(0, 65535, 120).astype(np.uint16), (80, 1)),
                                  np.dstack([_gradient(80, 120)] * 3 + [np.full((80, 120), 255, np.uint8)])],
                         ids=["grey8", "grey16", "rgba8"])
def test_a_shrunk_load_stays_in_the_decoded_type_until_small_and_matches_the_full_load(tmp_path, data):
    path = tmp_path / ("part.tif" if data.dtype == np.uint16 else "part.png")
    if data.dtype == np.uint16:
        tifffile.imwrite(path, data)
    else:
        Image.fromarray(data).save(path)
    decoded = decode_image(path)
    assert decoded.dtype == data.dtype and decoded.shape == data.shape
    small = load_image(path, max_side=30)
    assert small.shape == (20, 30, 3) and small.dtype == np.float32
    full_then_shrunk = shrink_to_side(load_image(path), 30)
    assert np.abs(small - full_then_shrunk).max() < 2.5 / 255
    assert load_image(path, max_side=500).shape == (80, 120, 3)
    shown = load_rgb8(path, max_side=30)  # for display: 8-bit RGB, shrunk in the stored type
    assert shown.shape == (20, 30, 3) and shown.dtype == np.uint8
    assert np.abs(shown.astype(float) - full_then_shrunk * 255).max() < 3.5
    assert load_rgb8(path).shape == (80, 120, 3)


def test_display_pixels_are_8bit_rgb_without_copying_8bit_rgb(tmp_path):
    rgb = np.dstack([_gradient(), 255 - _gradient(), _gradient()])
    assert to_rgb8(rgb) is rgb
    grey = to_rgb8(_gradient())
    assert grey.shape == (40, 60, 3) and grey.dtype == np.uint8 and np.array_equal(grey[..., 1], _gradient())
    sixteen = to_rgb8(np.full((40, 60), 65535, np.uint16))
    assert sixteen.dtype == np.uint8 and sixteen.min() == 255
    with pytest.raises(ImageLoadError, match="too small"):
        to_rgb8(np.zeros((4, 4, 3), np.uint8))


def test_a_decoded_file_too_small_to_inspect_is_named_in_the_error(tmp_path):
    path = tmp_path / "speck.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(path)
    with pytest.raises(ImageLoadError, match="speck.png.*too small"):
        decode_for_inspection(path)


def test_a_file_declaring_too_many_pixels_raises_the_named_error_not_pils(tmp_path):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 40000, 30000, 8, 2, 0, 0, 0)  # 1200 megapixels, a few bytes of data
    path = tmp_path / "line-scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 99))
                     + chunk(b"IEND", b""))
    for read in (decode_image, load_image, image_shape):
        with pytest.raises(ImageLoadError, match="line-scan.png.*too large to inspect"):
            read(path)


def test_folder_listings_leave_out_hidden_files_and_folders(tmp_path):
    """macOS leaves a "._" companion beside every file it copies to a USB stick; cameras write
    hidden temporary files. Neither is an image to inspect or a reference to use."""
    from cli.common import gather_images
    from engine.imageio import list_images

    good = write_parts(tmp_path / "parts", [1, 2])
    (tmp_path / "parts" / "._part001.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / "parts" / ".frame.tmp.png").write_bytes(good[0].read_bytes()[:100])
    hidden_folder = write_parts(tmp_path / "parts" / ".Trashes", [3])
    nested = write_parts(tmp_path / "parts" / "shift2", [4], suffix=".BMP")
    assert list_images(tmp_path / "parts") == good
    assert gather_images([tmp_path / "parts"]) == good + nested
    assert gather_images([hidden_folder[0]]) == hidden_folder  # a file named on its own is taken


def test_folders_give_their_images_and_sub_folders_in_path_order_and_name_what_they_could_not_read(
        tmp_path, monkeypatch):
    line = tmp_path / "line"
    write_parts(line / "b", [1])
    write_parts(line / "a" / "deep", [2])
    write_parts(line / ".trash", [3])
    write_parts(line / "locked", [4])
    (line / "._part5.png").write_bytes(b"AppleDouble")
    (line / "notes.txt").write_text("not an image")
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path) == str(line / "locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    unreadable: list = []
    found = find_images([line], unreadable)
    assert [p.relative_to(line).as_posix() for p in found] == ["a/deep/part002.png", "b/part001.png"]
    assert unreadable == [line / "locked"]
    note = unreadable_folders_note(unreadable)
    assert note.startswith("1 folder could not be read and was left out") and str(line / "locked") in note
    assert find_images([line]) == found  # without a list to fill, the same images
    with pytest.raises(FileNotFoundError, match="No such file or folder"):
        find_images([tmp_path / "gone"])


def test_a_named_folder_without_images_is_reported_not_passed_over(tmp_path):
    lot_a = write_parts(tmp_path / "lot-a", [1])
    (tmp_path / "lot-b" / ".thumbs").mkdir(parents=True)
    write_parts(tmp_path / "lot-b" / ".thumbs", [2])  # hidden: it does not count
    (tmp_path / "lot-c").mkdir()
    empty: list = []
    assert find_images([tmp_path / "lot-a", tmp_path / "lot-b", tmp_path / "lot-c"], empty=empty) == lot_a
    assert empty == [tmp_path / "lot-b", tmp_path / "lot-c"]
    note = empty_folders_note(empty)
    assert note.startswith("No PNG, JPEG, BMP or TIFF file in 2 folders") and str(tmp_path / "lot-c") in note
