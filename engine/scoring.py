"""Nearest-neighbour scoring against the reference bank, map fusion and the image score.

Per layer, IAD-GPT's few-shot map is M = 1 - max_b cos(f, b): the cosine distance of each test
patch to its nearest reference patch.  The search runs in chunks of the bank so that memory
stays bounded however many references and augmented views there are.  A bank with augmented
views (three rotations of each reference) is searched in two steps (``LayerSearch``): every patch
against the references as taken, then only the patches that lie farthest from them against the
augmented views too, which can only bring a distance down.  Layer maps are resized to
the processing resolution, averaged (fine layers see texture, coarse layers structure), smoothed
with a Gaussian, and the image score is the mean of the top fraction of the fused map's scored
pixels (``engine.detector.scored_image_score``), which is steadier than the single maximum.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

SEARCH_PRECISION_VARIABLE = "IAD_SEARCH_PRECISION"
BFLOAT16_COLUMN_BLOCK = 2048
BFLOAT16_ROW_BLOCKS = (256, 512, 1024)


def search_layout(rows: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Bank rows (N, C) as the contiguous (C, N) matrix ``nearest_distance`` searches.

    In ``search_dtype(device)``: fp16 on CUDA, on a CPU float32 or bfloat16.  The bfloat16 form
    differs in two ways:

    * an extra row of -1, so that the product with a query (given a last column of 1) is its
      similarity minus one, the negative distance: bfloat16 rounds a similarity near 1 to steps
      of 0.004, but a distance of 0.05 to steps of 0.0002;
    * columns padded to whole ``BFLOAT16_COLUMN_BLOCK`` blocks with a column that scores the
      largest distance, 2: the CPU library compiles and keeps code for every matrix shape it
      meets in bfloat16 (0.7-1.5 MB each), so shapes are kept to a few (see
      ``_bfloat16_nearest_distance``).  Without this, a bench over crops of varying size grew
      the process by 355 MB.

    The bank itself stays float32.
    """
    dtype = search_dtype(device)
    if dtype is not torch.bfloat16:
        return rows.T.to(device, dtype).contiguous()
    count, channels = rows.shape
    columns = torch.zeros(channels + 1, _round_up(count, BFLOAT16_COLUMN_BLOCK), device=device)
    columns[:channels, :count] = rows.T.to(device, torch.float32)
    columns[channels, :count] = -1.0
    columns[channels, count:] = -2.0
    return columns.to(torch.bfloat16).contiguous()


@functools.cache
def cpu_search_dtype() -> torch.dtype:
    """bfloat16 where the CPU has bfloat16 arithmetic (AVX512-BF16 or AMX), else float32.

    The similarity products dominate an inspection's search.  On a 2-core AMD EPYC with
    AVX512-BF16 they ran twice as fast in bfloat16 (1024 query patches against 32768 reference
    patches: 18.6 ms in float32, 9 ms), with sums accumulated in float32.  Rounding the features
    to bfloat16 moves a distance by 0.0005 on average (at most 0.002).  Elsewhere bfloat16 is
    emulated and slower, so float32 stays.
    ``IAD_SEARCH_PRECISION=fp32`` (or ``bf16``) forces one.
    """
    forced = os.environ.get(SEARCH_PRECISION_VARIABLE, "").strip().lower()
    if forced in ("fp32", "bf16"):
        return torch.bfloat16 if forced == "bf16" else torch.float32
    try:
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except AttributeError:  # a torch without these private probes
        native = False
    return torch.bfloat16 if native else torch.float32


def search_dtype(device: torch.device) -> torch.dtype:
    """The number format the search multiplies in on ``device``: fp16 on CUDA, else ``cpu_search_dtype()``."""
    return torch.float16 if device.type == "cuda" else cpu_search_dtype()


@torch.inference_mode()
def nearest_distance(query: torch.Tensor, bank_t: torch.Tensor, chunk_size: int = 2048) -> torch.Tensor:
    """1 - max cosine similarity of each query row (Q, C) to the bank columns ``bank_t`` (C, N).

    The bank is passed transposed and contiguous, and searched in column chunks: measured on a
    2-core CPU, this layout with 2048-column chunks was 3x faster than (N, C) rows in large
    chunks, since each chunk's similarity block stays in cache.  The query is cast to the bank's
    device and precision (fp16 on CUDA, maybe bfloat16 on a CPU), whatever its own.
    """
    if bank_t.dtype == torch.bfloat16 and bank_t.shape[0] == query.shape[1] + 1:
        return _bfloat16_nearest_distance(query, bank_t)
    best = _best_product(query.to(bank_t.device, bank_t.dtype), bank_t, chunk_size)
    return (1.0 - best.float()).clamp_(min=0.0)


def _best_product(query: torch.Tensor, bank_t: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Each query row's largest product with a bank column, over the bank in column chunks."""
    best: torch.Tensor | None = None
    for start in range(0, bank_t.shape[1], chunk_size):
        block_best = (query @ bank_t[:, start:start + chunk_size]).amax(dim=1)
        best = block_best if best is None else torch.maximum(best, block_best)
    assert best is not None, "empty bank"
    return best


def _bfloat16_nearest_distance(query: torch.Tensor, bank_t: torch.Tensor) -> torch.Tensor:
    """``nearest_distance`` against ``search_layout``'s bfloat16 form.

    The query gets its column of 1 and is searched in row blocks of 256, 512 or 1024 (the last
    padded), against whole column blocks of the bank (whatever the caller's chunk size), so that
    each layer's products come in at most three shapes whatever the image size.  Blocks of 1024
    rows were as fast as one product over all rows; blocks of 256 took 1.8x as long.
    """
    rows, channels = query.shape
    block = next((size for size in BFLOAT16_ROW_BLOCKS if rows <= size), BFLOAT16_ROW_BLOCKS[-1])
    padded = torch.zeros(_round_up(rows, block), channels + 1, device=bank_t.device)
    padded[:rows, :channels] = query.to(bank_t.device, torch.float32)
    padded[:, channels] = 1.0
    padded = padded.to(torch.bfloat16)
    best = torch.cat([_best_product(padded[row:row + block], bank_t, BFLOAT16_COLUMN_BLOCK).float()
                      for row in range(0, padded.shape[0], block)])
    return (-best[:rows]).clamp_(min=0.0)


def _round_up(count: int, multiple: int) -> int:
    """``count`` rounded up to a whole number of ``multiple``."""
    return -(-count // multiple) * multiple


@dataclass(frozen=True)
class LayerSearch:
    """One layer's bank laid out for the search (``search_layout``): the references as taken, and
    their augmented views (None when the bank has none)."""

    as_taken: torch.Tensor
    augmented: torch.Tensor | None = None

    @classmethod
    def of_rows(cls, as_taken: torch.Tensor, augmented: torch.Tensor | None, device: torch.device) -> LayerSearch:
        """From bank rows (N, C); an empty ``augmented`` counts as none."""
        extra = search_layout(augmented, device) if augmented is not None and len(augmented) else None
        return cls(search_layout(as_taken, device), extra)


@torch.inference_mode()
def searched_distance(query: torch.Tensor, search: LayerSearch, chunk_size: int,
                      augmented_share: float = 1.0) -> torch.Tensor:
    """Each query row's distance to its nearest patch of ``search``.

    Every row is searched against the references as taken; the ``augmented_share`` of rows that
    lie farthest from them (all rows at 1.0) against the augmented views as well.  The rows left
    out keep their distance to the references as taken, at most that of the rows searched again,
    so the high end of a map, where the image score and the regions come from, is exact.  On the
    dev packs at 4 shots (``docs/measurements.md``), a share of 0.5 gave every image AUROC and
    false-reject rate of the full search, pixel AUROC and AUPRO within 0.001, and cut the search of
    a bank with four rotations per reference to 62 % of the products.
    """
    distance = nearest_distance(query, search.as_taken, chunk_size)
    if search.augmented is None or augmented_share <= 0:
        return distance
    if augmented_share >= 1:
        return torch.minimum(distance, nearest_distance(query, search.augmented, chunk_size))
    count = max(1, int(round(distance.numel() * augmented_share)))
    rows = distance.topk(count).indices
    distance[rows] = torch.minimum(distance[rows], nearest_distance(query[rows], search.augmented, chunk_size))
    return distance


def layer_distance_map(features: torch.Tensor, search: LayerSearch, chunk_size: int,
                       augmented_share: float = 1.0) -> torch.Tensor:
    """Distance map (h, w) of one image's layer features (C, h, w) against that layer's bank."""
    channels, height, width = features.shape
    query = features.reshape(channels, -1).T
    return searched_distance(query, search, chunk_size, augmented_share).reshape(height, width)


def fuse_layer_maps(layer_maps: list[torch.Tensor], size: tuple[int, int], sigma: float) -> np.ndarray:
    """Average the layer maps at ``size`` (h, w) and smooth them: the fused map, float32."""
    resized = [F.interpolate(m[None, None].float().cpu(), size=size, mode="bilinear", align_corners=False)[0, 0]
               for m in layer_maps]
    fused = torch.stack(resized).mean(dim=0).numpy()
    if sigma > 0:
        fused = cv2.GaussianBlur(fused, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    return fused.astype(np.float32)


def image_score(fused: np.ndarray, top_fraction: float) -> float:
    """Mean of the highest ``top_fraction`` of the map's values (at least one value)."""
    flat = fused.ravel()
    count = max(1, int(round(flat.size * top_fraction)))
    return float(np.partition(flat, flat.size - count)[-count:].mean())


def to_original_size(fused: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize the fused map to the input image's own resolution."""
    if fused.shape == (height, width):
        return fused
    return cv2.resize(fused, (width, height), interpolation=cv2.INTER_LINEAR)
