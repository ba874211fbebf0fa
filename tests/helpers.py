"""Test helpers: synthetic parts written as image files."""

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
