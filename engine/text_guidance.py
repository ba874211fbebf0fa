"""IAD-GPT's Text-Guided Enhancer, for CLIP backbones: the few-shot map weighted by the prompts.

IAD-GPT weights the image features by how they relate to normal and abnormal text.  Here the
same idea weights the few-shot anomaly map.  Each patch of the image tower's last block is
carried into CLIP's joint space (its final layer norm and projection) and compared by cosine with
two prompt embeddings: the mean of the part's normal prompts and the mean of all its defect
prompts (``engine.prompts``).  A softmax at CLIP's logit scale gives ``p``, the patch's
probability of looking abnormal rather than normal, and the map becomes

    M' = M * (1 + w * (2p - 1))

with ``w`` the project's text-guidance weight (0 to 1).  A deviation from the references that
the text calls abnormal counts up to (1 + w) times; one it calls normal down to (1 - w) times.
A patch that matches the references (M near 0) stays near 0 whatever the text says, so the text
alone cannot raise a false alarm.  The prompt embeddings are computed when the bank is built and
stored in it, so the bank scores the same way wherever it is loaded; the calibration, made
through the same map, places the thresholds on the weighted scale.

Not measured on real weights: no CLIP checkpoint installs here, and the tests use a randomly
initialised tower.  Off (``w = 0``) unless a project turns it on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.prompts import PromptLibrary, encode_prompts

# CLIP's trained logit scale (exp of its temperature parameter) is 100 in the released models.
LOGIT_SCALE = 100.0
DEFAULT_WEIGHT = 0.5


def prompt_embeddings(backbone: object, library: PromptLibrary) -> torch.Tensor:
    """(2, D) unit embeddings: the part's normal prompts, then all its defect prompts together."""
    import open_clip

    clip = backbone.clip  # type: ignore[attr-defined]
    tokenizer = open_clip.get_tokenizer(backbone.spec.variant)  # type: ignore[attr-defined]
    device = backbone.device  # type: ignore[attr-defined]
    with torch.inference_mode():
        normal = encode_prompts(clip, tokenizer, library.normal, device)
        abnormal = encode_prompts(clip, tokenizer, [p for prompts in library.defects.values() for p in prompts],
                                  device)
    return torch.stack([normal, abnormal]).cpu()


@dataclass(frozen=True)
class TextGuide:
    """What the enhancer needs: the tower's final norm and projection, the prompt embeddings, the weight,
    and ``layer``, the name of the last block, whose map it reads."""

    layer: str
    norm: torch.nn.Module
    projection: torch.Tensor | None
    embeddings: torch.Tensor
    weight: float

    @classmethod
    def for_backbone(cls, backbone: object, embeddings: torch.Tensor, weight: float, layer: str) -> TextGuide:
        """The guide for a loaded ``ClipBackbone``, a bank's stored prompt embeddings and its last block."""
        visual = backbone.clip.visual  # type: ignore[attr-defined]
        projection = visual.proj.detach().float() if getattr(visual, "proj", None) is not None else None
        norm = _float_copy(visual.ln_post)
        return cls(layer, norm, projection, embeddings.float(), weight)

    @torch.inference_mode()
    def abnormal_probability(self, tokens: torch.Tensor) -> torch.Tensor:
        """(h, w) probability that each patch of the last block's map (C, h, w) looks abnormal.

        The tokens may be pooled and unit-normalised (``engine.features``): the layer norm does not
        change when its input is scaled, so that normalisation costs nothing here.
        """
        rows = tokens.float().permute(1, 2, 0).reshape(-1, tokens.shape[0]).cpu()
        joint = self.norm(rows)
        if self.projection is not None:
            joint = joint @ self.projection
        similarities = F.normalize(joint, dim=-1) @ self.embeddings.T
        probability = torch.softmax(LOGIT_SCALE * similarities, dim=-1)[:, 1]
        return probability.reshape(tokens.shape[1], tokens.shape[2])

    def factor(self, tokens: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The map's weight 1 + w (2p - 1) at ``size`` (h, w), from the last block's map."""
        probability = self.abnormal_probability(tokens)
        resized = F.interpolate(probability[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
        return 1.0 + self.weight * (2.0 * resized - 1.0)


def _float_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A float32 CPU copy of a small module (the tower may be fp16 on a GPU)."""
    return copy.deepcopy(module).float().cpu().eval()
