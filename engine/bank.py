"""The few-shot reference bank: patch features of k good images, saved as one versioned file.

The file carries the full ``EngineConfig`` (backbone, layers, input size, normalisation,
augmentations, post-processing), so loading it anywhere reproduces the same scores.  It is a
``torch.save`` of plain tensors and built-in types, read back with ``weights_only=True`` so a
bank file cannot run code.  Writes go to a temporary file that is renamed into place.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import ENGINE_VERSION
from engine.calibration import Calibration
from engine.config import EngineConfig
from engine.errors import ModelFileError
from engine.greyscale import is_grey

BANK_FORMAT_VERSION = 1


@dataclass
class ReferenceBank:
    """Per-layer unit patch features (N_l, C_l) of the reference views, plus their provenance.

    ``thumbnails`` are the references as uint8 RGB at the processing size: the fact sheet compares
    a defect's colour with the same area of the nearest reference, and the GUI shows it.
    ``scene_descriptors`` (k, C) describe each reference as a whole, for the scene check
    (``engine.scene``); None in banks built before it.  ``text_embeddings`` (2, D): the normal and
    abnormal prompt embeddings of the Text-Guided Enhancer (``engine.text_guidance``), when it is on.
    """

    config: EngineConfig
    features: dict[str, torch.Tensor]
    reference_ids: list[str]
    augmentation: str = "none"
    view_count: int = 0
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    engine_version: str = ENGINE_VERSION
    calibration: Calibration | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    thumbnails: list[np.ndarray] = field(default_factory=list)
    scene_descriptors: torch.Tensor | None = None
    text_embeddings: torch.Tensor | None = None

    @property
    def image_count(self) -> int:
        """Number of distinct reference images the bank was built from."""
        return len(self.reference_ids)

    def patch_count(self) -> int:
        """Total stored patches over all layers."""
        return sum(int(f.shape[0]) for f in self.features.values())

    def to_bytes(self) -> bytes:
        """The bank file's content."""
        payload = {
            "format": BANK_FORMAT_VERSION,
            "engine_version": self.engine_version,
            "config": self.config.to_dict(),
            "features": {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in self.features.items()},
            "reference_ids": list(self.reference_ids),
            "augmentation": self.augmentation,
            "view_count": self.view_count,
            "created": self.created,
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "meta": self.meta,
            "thumbnails": [torch.from_numpy(np.ascontiguousarray(t)) for t in self.thumbnails],
            "scene_descriptors": (None if self.scene_descriptors is None
                                  else self.scene_descriptors.detach().to("cpu", torch.float32).contiguous()),
            "text_embeddings": (None if self.text_embeddings is None
                                else self.text_embeddings.detach().to("cpu", torch.float32).contiguous()),
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the bank atomically to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_bytes()
        fd, tmp = tempfile.mkstemp(prefix=".bank-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReferenceBank:
        """Read a bank file; raises ModelFileError for missing, corrupt or newer-format files."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(path, "bank file not found")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for truncated or foreign files
            raise ModelFileError(path, f"not a readable bank file ({exc})") from exc
        if not isinstance(payload, dict) or "format" not in payload:
            raise ModelFileError(path, "not a bank file")
        if payload["format"] > BANK_FORMAT_VERSION:
            raise ModelFileError(path, f"bank format {payload['format']} is newer than this program supports")
        config = EngineConfig.from_dict(payload["config"])
        thumbnails = [t.numpy() for t in payload.get("thumbnails", [])]
        if "grey_references" not in payload["config"] and thumbnails:  # a bank built before the field
            config = replace(config, grey_references=all(is_grey(t) for t in thumbnails))
        text_embeddings = payload.get("text_embeddings")
        if config.text_guidance > 0 and text_embeddings is None:
            raise ModelFileError(path, "its settings use text guidance but it holds no prompt embeddings")
        return cls(
            config=config,
            features={k: v.float() for k, v in payload["features"].items()},
            reference_ids=list(payload["reference_ids"]),
            augmentation=payload.get("augmentation", "none"),
            view_count=int(payload.get("view_count", 0)),
            created=payload.get("created", ""),
            engine_version=payload.get("engine_version", ""),
            calibration=Calibration.from_dict(payload["calibration"]) if payload.get("calibration") else None,
            meta=payload.get("meta") or {},
            thumbnails=thumbnails,
            scene_descriptors=payload.get("scene_descriptors"),
            text_embeddings=text_embeddings,
        )
