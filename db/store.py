"""The content-addressed file store: images, anomaly maps and bank files, named by their sha256.

A key is a relative path such as ``images/ab/ab12....png``; the same content is stored once.
Every write goes to a temporary file in the target folder, is flushed to disk and renamed into
place, so a crash leaves either the whole file or none (a stray ``.tmp`` at worst, which
``check`` removes).  Callers write files *before* committing the rows that point to them.
Anomaly maps are compressed ``.npz`` files of quantised levels, kept at the engine's processing size.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from db.errors import StorageError, describe_os_error

KINDS = ("images", "maps", "banks")
# Below this much free space the app and the CLI warn (about a thousand 2 MB photos).
LOW_SPACE_BYTES = 2_000_000_000
MAP_STEP = 2e-4


BLOCK_BYTES = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_blocks(path: Path) -> Iterator[bytes]:
    """A file's content in blocks, for files too large to hold at once (model checkpoints)."""
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(BLOCK_BYTES), b"")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    for block in file_blocks(path):
        digest.update(block)
    return digest.hexdigest()


def write_atomic(target: Path, blocks: Iterable[bytes]) -> None:
    """Write ``blocks`` to ``target`` through a flushed temporary file renamed into place.

    A failed write (disk full, no permission) raises ``StorageError`` and leaves neither the
    temporary file nor a partial ``target``.
    """
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            for block in blocks:
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise describe_os_error(exc, str(target)) from exc


class ImageStore:
    """Files under ``root`` addressed by content hash."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Absolute path of a key."""
        return self.root / key

    def exists(self, key: str) -> bool:
        """Whether the file of ``key`` is present."""
        return bool(key) and self.path(key).is_file()

    def intact(self, key: str) -> bool:
        """Whether the file of ``key`` still holds what it was stored with (each file is named by the
        sha256 of its content); False for a damaged or unreadable file."""
        try:
            return sha256_file(self.path(key)) == PurePosixPath(key).name.split(".", 1)[0]
        except OSError:
            return False

    def put_bytes(self, data: bytes, kind: str, suffix: str) -> str:
        """Store ``data`` (once) and return its key."""
        if kind not in KINDS:
            raise ValueError(f"unknown store kind {kind!r}")
        digest = sha256_bytes(data)
        key = f"{kind}/{digest[:2]}/{digest}{suffix.lower()}"
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data) and self.intact(key):  # else a damaged copy
            with contextlib.suppress(OSError):
                os.utime(target)  # in use again: the image-copy removal spares files touched since it began
            return key
        write_atomic(target, [data])
        return key

    def put_file(self, source: str | Path, kind: str = "images") -> str:
        """Copy a file into the store (its suffix kept) and return its key."""
        source = Path(source)
        return self.put_bytes(source.read_bytes(), kind, source.suffix)

    def put_map(self, anomaly_map: np.ndarray, full_size: tuple[int, int] | None = None) -> str:
        """Store an anomaly map compressed and return its key.

        Values (cosine distances, 0 to 2) are stored as multiples of ``MAP_STEP``: an error of at
        most 0.0001, well below any threshold, and the near-constant maps of good parts then
        compress to a few kB where float16 kept their noise.
        With ``full_size`` (height, width), the map is kept at its own (processing) size and
        ``load_map`` resizes it bilinearly to ``full_size``, exactly as the engine made the full
        map: a 1024 px image's map then takes tens of kB instead of 1.6 MB.
        """
        buffer = io.BytesIO()
        extra = {"full_size": np.asarray(full_size, dtype=np.int64)} if full_size is not None else {}
        levels = np.round(np.clip(anomaly_map, 0.0, MAP_STEP * 65535) / MAP_STEP).astype(np.uint16)
        np.savez_compressed(buffer, levels=levels, scale=np.float64(MAP_STEP), **extra)
        return self.put_bytes(buffer.getvalue(), "maps", ".npz")

    def load_map(self, key: str, size: tuple[int, int] | None = None) -> np.ndarray:
        """A stored map as float32 at the image's size, or at ``size`` (height, width) when given.

        A report's 720-pixel picture of a 100-megapixel photo then never makes its 400 MB map.
        """
        try:
            with np.load(self.path(key)) as data:
                if "levels" in data.files:
                    anomaly_map = (data["levels"].astype(np.float64) * float(data["scale"])).astype(np.float32)
                else:  # maps written before quantisation
                    anomaly_map = data["map"].astype(np.float32)
                full_size = tuple(int(v) for v in data["full_size"]) if "full_size" in data.files else None
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise StorageError(f"The stored anomaly map {key} is missing or damaged ({exc}).") from exc
        wanted = size if size is not None else full_size
        if wanted is not None and anomaly_map.shape != tuple(wanted):
            anomaly_map = cv2.resize(anomaly_map, (wanted[1], wanted[0]), interpolation=cv2.INTER_LINEAR)
        return anomaly_map

    def keys(self) -> Iterator[str]:
        """Every stored key."""
        for kind in KINDS:
            folder = self.root / kind
            if folder.is_dir():
                for path in folder.rglob("*"):
                    if path.is_file() and not path.name.startswith("."):
                        yield path.relative_to(self.root).as_posix()

    def temp_files(self) -> list[Path]:
        """Leftover temporary files of interrupted writes."""
        return [p for kind in KINDS if (self.root / kind).is_dir() for p in (self.root / kind).rglob(".*.tmp")]

    def free_bytes(self) -> int | None:
        """Free space on the store's disk; None when it cannot be read."""
        try:
            return shutil.disk_usage(self.root).free
        except OSError:
            return None

    def remove(self, key: str) -> None:
        """Delete a stored file (used by the clean-up of unused files)."""
        self.path(key).unlink(missing_ok=True)


def low_space_warning(free: int | None) -> str | None:
    """The warning text ("Only N GB free for the history") when ``free`` bytes is under
    ``LOW_SPACE_BYTES``; None when there is enough, or the free space is unknown."""
    if free is None or free >= LOW_SPACE_BYTES:
        return None
    return f"Only {free / 1e9:.1f} GB free for the history"
