"""Qt-free, database-free anomaly engine of IAD Inspector.

The engine implements the few-shot part of IAD-GPT (Li et al., 2025): patch features of a
pretrained image encoder are compared with a memory bank built from a few good images of the
part (M = 1 - max cos per layer), the per-layer maps are fused into one anomaly map, and an image
score is read off that map.  Everything here is usable from a plain Python script.

``OMP_WAIT_POLICY=PASSIVE`` is set before torch is imported: with a GUI thread or another busy
process on a small CPU, spin-waiting OpenMP threads made inference 50-70x slower.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ENGINE_VERSION = "0.1.0"

__all__ = ["ENGINE_VERSION"]
