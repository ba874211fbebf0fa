"""HTML to PDF with Qt: ``QTextDocument`` lays out the report's HTML, ``QPdfWriter`` prints it.

The document is laid out on pages of a fixed width in CSS pixels (``LAYOUT_WIDTH``), which is
then scaled to the printable width of an A4 page: the templates' pixel sizes (images side by
side, tables) mean the same on paper whatever the writer's resolution.  Left to itself,
``QTextDocument.print_`` lays out in the printer's pixels with 2 cm margins of its own, and two
340-pixel images side by side ran off the page.  Each page gets "page n of N" at the bottom.

Works headless: when no Qt application exists yet, an offscreen ``QApplication`` is made.  A
widgets application, not a bare ``QGuiApplication``: a process that exports a PDF first and opens
a window later (a test session, a script) could otherwise never create a widget.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QTextDocument

LAYOUT_WIDTH = 720
PAGE_MARGIN_MM = 15
FOOTER_HEIGHT = 28
RESOLUTION_DPI = 150


def _ensure_application() -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _keep.append(QApplication([]))


def layout_document(html: str, page_aspect: float) -> QTextDocument:
    """``html`` laid out on pages ``LAYOUT_WIDTH`` wide and ``page_aspect`` times as tall (less the footer)."""
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument

    _ensure_application()
    document = QTextDocument()
    document.setPageSize(QSizeF(LAYOUT_WIDTH, LAYOUT_WIDTH * page_aspect - FOOTER_HEIGHT))
    document.setHtml(html)
    return document


def html_to_pdf_bytes(html: str) -> bytes:
    """The PDF of ``html`` (A4, images from data URIs), numbered pages."""
    _ensure_application()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
    from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(*[PAGE_MARGIN_MM] * 4), QPageLayout.Unit.Millimeter)
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle("IAD Inspector report")
    document = layout_document(html, writer.height() / writer.width())
    page_height = document.pageSize().height()
    scale = writer.width() / LAYOUT_WIDTH
    pages = document.pageCount()
    painter = QPainter(writer)
    footer = QFont(document.defaultFont())
    footer.setPointSizeF(7.5)
    for page in range(pages):
        if page:
            writer.newPage()
        painter.save()
        painter.scale(scale, scale)
        painter.translate(0, -page * page_height)
        document.drawContents(painter, QRectF(0, page * page_height, LAYOUT_WIDTH, page_height))
        painter.restore()
        painter.setFont(footer)
        painter.setPen(Qt.GlobalColor.darkGray)
        painter.drawText(QRectF(0, writer.height() - FOOTER_HEIGHT * scale, writer.width(), FOOTER_HEIGHT * scale),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom), f"page {page + 1} of {pages}")
    painter.end()
    del writer
    buffer.close()
    return bytes(data.data())


_keep: list[object] = []
