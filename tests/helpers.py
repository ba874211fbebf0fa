"""Test helpers: synthetic parts written as image files, and fact sheets with chosen regions."""

from __future__ import annotations

from pathlib import Path

import cv2

from engine.synthetic import Defect, synthetic_part


def write_parts(folder: Path, seeds, defects: tuple[Defect, ...] = (), suffix: str = ".png",
                side: int = 256) -> list[Path]:
    """One synthetic part per seed (with ``defects`` drawn) saved as ``part<seed><suffix>`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in seeds:
        path = folder / f"part{seed:03d}{suffix}"
        if not cv2.imwrite(str(path), synthetic_part(seed, side=side, defects=defects)[..., ::-1]):
            raise OSError(f"cannot write {path}")
        paths.append(path)
    return paths


def pdf_images_off_page(path: Path, margin_pt: float = 20.0) -> list[str]:
    """Images of a PDF that reach into the outer ``margin_pt`` of their page or beyond it, as 'page N: name'.

    Each image is drawn as the unit square under the current transform at its ``Do`` operator.
    """
    from pypdf import PdfReader

    outside = []
    for number, page in enumerate(PdfReader(path).pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(operator, operands, cm, tm, number=number, width=width, height=height):
            if operator != b"Do":
                return
            a, b, c, d, e, f = cm
            xs, ys = (e, e + a, e + c, e + a + c), (f, f + b, f + d, f + b + d)
            inside_x = margin_pt <= min(xs) and max(xs) <= width - margin_pt
            if not (inside_x and margin_pt <= min(ys) and max(ys) <= height - margin_pt):
                outside.append(f"page {number}: {operands[0]}")

        page.extract_text(visitor_operand_before=visit)
    return outside


def fact_sheet_with_regions(regions, mm_per_pixel: float | None = None):
    """A fact sheet of an NG part with one region per (area in px, length in px) of ``regions``, in order."""
    from engine.facts import FactSheet
    from engine.regions import Region

    return FactSheet(verdict="NG", score=0.8, raw_score=0.3, threshold=0.2, grey_zone=(0.15, 0.25),
                     confidence="high", image_size=(100, 100), part_box=(0, 0, 100, 100), part_basis="image",
                     part_colour="grey", mm_per_pixel=mm_per_pixel,
                     regions=[Region(index=number + 1, bbox=(number, number, 5, 5), centroid=(50.0, 50.0),
                                     cell=(1, 1), position="centre", area_px=area, area_percent=area / 100,
                                     shape="compact", orientation_deg=0.0, major_axis_px=length, peak=0.9,
                                     mean=0.5, severity=0.7)
                              for number, (area, length) in enumerate(regions)])
