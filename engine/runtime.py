"""Process-wide torch settings: thread count sized to the cores, and a peak-memory reading."""

from __future__ import annotations

import os
import sys

import torch


def configure_torch(threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: the usable cores) and return the count in force."""
    if threads is None:
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def peak_rss_mb() -> float | None:
    """Peak resident memory of this process in MiB, where the platform reports it."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0
