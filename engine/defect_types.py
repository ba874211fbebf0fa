"""Defect types from the project's own labelled examples, by nearest neighbour; never invented.

An operator names a region's type once ("scratch", "dent"); later regions take the type of the
nearest labelled region in descriptor space (``Region.descriptor``: size, shape, length,
lightness change, severity), each feature scaled by its spread over the examples.  When the
nearest example is farther than ``UNKNOWN_DISTANCE`` (root-mean-square over the scaled
features), the type is "unknown"; with no examples it stays "unclassified".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.regions import Region

UNKNOWN_DISTANCE = 1.0
MIN_SCALE = 0.25


@dataclass
class TypeExamples:
    """Labelled region descriptors of one project."""

    descriptors: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, region: Region, label: str) -> None:
        """Remember ``region`` as an example of ``label``."""
        self.descriptors.append(region.descriptor())
        self.labels.append(label.strip())

    def __len__(self) -> int:
        return len(self.labels)

    def nearest(self, descriptor: np.ndarray) -> tuple[str, float]:
        """(label, scaled distance) of the nearest example."""
        matrix = np.stack(self.descriptors)
        scale = np.maximum(matrix.std(axis=0), MIN_SCALE) if len(self) > 1 else np.full(matrix.shape[1], MIN_SCALE * 2)
        distances = np.sqrt((((matrix - descriptor) / scale) ** 2).mean(axis=1))
        best = int(np.argmin(distances))
        return self.labels[best], float(distances[best])


def classify_regions(regions: list[Region], examples: TypeExamples | None) -> str:
    """Set ``defect_type`` on each region; returns the source used ("labelled examples" or "none")."""
    if not examples:
        for region in regions:
            region.defect_type = "unclassified"
        return "none"
    for region in regions:
        label, distance = examples.nearest(region.descriptor())
        region.defect_type = label if distance <= UNKNOWN_DISTANCE else "unknown"
    return "labelled examples"
