"""Defect types from the project's own labelled examples, by nearest neighbour; never invented.

An operator names a region's type once ("scratch", "dent"); later regions take the type of the
nearest labelled region in descriptor space (``Region.descriptor``: log size, elongation, log
length, lightness change, log severity), each feature divided by a fixed tolerance
(``FEATURE_SCALES``: a factor of 2 in size or severity, 1.6 in length, 10 lightness units, and
elongated vs compact).  When the nearest example is farther than ``UNKNOWN_DISTANCE``
(root-mean-square over the scaled features), the type is "unknown"; with no examples it stays
"unclassified".  Fixed tolerances behave the same with one example as with fifty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.regions import Region

UNKNOWN_DISTANCE = 1.0
# Where a fact sheet's types came from (``FactSheet.type_source``).
EXAMPLES_SOURCE = "labelled examples"
PROMPTS_SOURCE = "CLIP prompts"
NO_SOURCE = "none"
FEATURE_SCALES = np.array([0.3, 0.5, 0.2, 1.0, 0.3])


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
        distances = np.sqrt((((matrix - descriptor) / FEATURE_SCALES) ** 2).mean(axis=1))
        best = int(np.argmin(distances))
        return self.labels[best], float(distances[best])


def classify_regions(regions: list[Region], examples: TypeExamples | None) -> str:
    """Set ``defect_type`` on each region; returns the source used ("labelled examples" or "none")."""
    if not examples:
        for region in regions:
            region.defect_type = "unclassified"
        return NO_SOURCE
    for region in regions:
        label, distance = examples.nearest(region.descriptor())
        region.defect_type = label if distance <= UNKNOWN_DISTANCE else "unknown"
    return EXAMPLES_SOURCE
