"""Defect types from CLIP: a region's crop against the normal and abnormal prompts of the part.

IAD-GPT's Abnormal Prompt Generator writes object-specific normal and abnormal prompts; here
they come from a curated library (``resources/prompts/defects.json``) with ``{object}`` filled
by the project's part name, extended by prompts the local language model wrote for the part
when the project has them (``engine.prompt_writer``).  Only a CLIP backbone has the text tower
this needs.

Rule, per region: the crop (its box grown to at least 1.5 times and made square) is encoded and
compared by cosine with each type's mean prompt embedding and with the normal prompts.  The
best type is kept only when the crop is closer to it than to "normal", and ahead of the
runner-up by ``MIN_MARGIN``; otherwise the type is "unknown".  A type is never invented.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from engine.defect_types import PROMPTS_SOURCE
from engine.regions import Region

LIBRARY = Path(__file__).resolve().parents[1] / "resources" / "prompts" / "defects.json"
MIN_MARGIN = 0.01
CROP_GROWTH = 1.5
DEFAULT_NORMAL_KEYWORDS = ("flawless", "perfect")


@functools.lru_cache(maxsize=4)
def _library_data(path: Path) -> dict:
    """The library file's contents, read once: every CLIP inspection and page refresh asks for it."""
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class PromptLibrary:
    """Normal prompts and prompts per defect type for one part.

    ``keywords``: word beginnings that name each type (the type's own words when the library
    gives none), and ``normal_keywords`` those that name a part without defect; they check the
    prompts a language model writes.
    """

    normal: list[str]
    defects: dict[str, list[str]]
    keywords: dict[str, list[str]] = field(default_factory=dict)
    normal_keywords: list[str] = field(default_factory=lambda: list(DEFAULT_NORMAL_KEYWORDS))

    def __post_init__(self) -> None:
        self.keywords = {kind: list(self.keywords.get(kind) or kind.split()) for kind in self.defects}

    @classmethod
    def load(cls, object_name: str, path: Path = LIBRARY) -> PromptLibrary:
        """The library with ``{object}`` replaced by ``object_name``."""
        data = _library_data(path)
        fill = [p.replace("{object}", object_name) for p in data["normal"]]
        defects = {kind: [p.replace("{object}", object_name) for p in prompts]
                   for kind, prompts in data["defects"].items()}
        normal_keywords = list(data.get("normal_keywords") or DEFAULT_NORMAL_KEYWORDS)
        return cls(fill, defects, data.get("keywords", {}), normal_keywords)

    def digest(self) -> str:
        """A short fingerprint of the prompts: a bank whose text guidance used other prompts is rebuilt."""
        text = json.dumps([self.normal, self.defects], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def prompt_count(self) -> int:
        """All prompts, normal ones included."""
        return len(self.normal) + sum(len(v) for v in self.defects.values())


def encode_prompts(clip: object, tokenizer: object, prompts: list[str], device: torch.device) -> torch.Tensor:
    """The unit mean of the prompts' unit text embeddings (one vector for a set of phrasings)."""
    tokens = tokenizer(prompts).to(device)  # type: ignore[operator]
    embedded = torch.nn.functional.normalize(clip.encode_text(tokens).float(), dim=-1).mean(dim=0)  # type: ignore[attr-defined]
    return torch.nn.functional.normalize(embedded, dim=0)


class ClipDefectTyper:
    """Sets ``defect_type`` on regions by CLIP similarity (a ``ClipBackbone`` is required)."""

    source = PROMPTS_SOURCE

    def __init__(self, backbone: object, object_name: str, library: PromptLibrary | None = None) -> None:
        import open_clip

        self.backbone = backbone
        self.clip = backbone.clip  # type: ignore[attr-defined]
        self.spec = backbone.spec  # type: ignore[attr-defined]
        self.library = library or PromptLibrary.load(object_name)
        tokenizer = open_clip.get_tokenizer(self.spec.variant)
        with torch.inference_mode():
            device = backbone.device  # type: ignore[attr-defined]
            self.normal = encode_prompts(self.clip, tokenizer, self.library.normal, device)
            self.kinds = list(self.library.defects)
            self.types = torch.stack([encode_prompts(self.clip, tokenizer, self.library.defects[k], device)
                                      for k in self.kinds])

    def crop(self, image: np.ndarray, region: Region) -> np.ndarray:
        """The square, grown crop around a region, at the model's input size (float RGB)."""
        x, y, w, h = region.bbox
        side = int(max(w, h) * CROP_GROWTH) + 2
        cx, cy = x + w / 2, y + h / 2
        height, width = image.shape[:2]
        x0, y0 = int(max(0, min(width - side, cx - side / 2))), int(max(0, min(height - side, cy - side / 2)))
        patch = image[y0:y0 + side, x0:x0 + side]
        size = self.spec.fixed_size or 224
        return cv2.resize(patch.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)

    @torch.inference_mode()
    def __call__(self, image: np.ndarray, regions: list[Region]) -> None:
        """Type each region in place."""
        if not regions:
            return
        mean = np.asarray(self.spec.mean, np.float32)
        std = np.asarray(self.spec.std, np.float32)
        batch = np.stack([(self.crop(image, r) - mean) / std for r in regions]).transpose(0, 3, 1, 2)
        tensor = torch.from_numpy(batch).to(self.backbone.device, next(self.clip.parameters()).dtype)  # type: ignore[attr-defined]
        embedded = torch.nn.functional.normalize(self.clip.encode_image(tensor).float(), dim=-1)
        for region, vector in zip(regions, embedded):
            region.defect_type = self.decide(vector)

    def decide(self, vector: torch.Tensor) -> str:
        """The type for one unit image embedding, or "unknown" (see the module rule)."""
        similarities = self.types @ vector
        order = torch.argsort(similarities, descending=True)
        best = float(similarities[order[0]])
        runner_up = float(similarities[order[1]]) if len(order) > 1 else -1.0
        if best <= float(self.normal @ vector) or best - runner_up < MIN_MARGIN:
            return "unknown"
        return self.kinds[int(order[0])]
