"""Qt-free, database-free anomaly engine of IAD Inspector.

The engine implements the few-shot part of IAD-GPT (Li et al., 2025): patch features of a
pretrained image encoder are compared with a memory bank built from a few good images of the
part (M = 1 - max cos per layer), the per-layer maps are fused into one anomaly map, and an image
score is read off that map.  Everything here is usable from a plain Python script.

Three settings are made before torch and OpenCV are imported (a value already in the environment wins):

- ``OMP_WAIT_POLICY=PASSIVE``: with a GUI thread or another busy process on a small CPU,
  spin-waiting OpenMP threads made inference 50-70x slower.
- ``ONEDNN_PRIMITIVE_CACHE_CAPACITY=128``: oneDNN keeps compiled kernels per input shape, 1024
  by default; parts photographed at varying sizes grew the process by 400 MB.  128 still holds
  a full network's kernels for one shape (bench peak on magnetic_tile 1.7 GB -> 1.3 GB, latency
  unchanged).
- ``OPENCV_LOG_LEVEL=ERROR`` (before OpenCV is imported): a damaged file is reported by an
  ``ImageLoadError`` that names it; OpenCV's own warning ("PNG input buffer is incomplete")
  printed a cryptic line beside that message.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "128")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

ENGINE_VERSION = "0.5.2"

__all__ = ["ENGINE_VERSION"]
