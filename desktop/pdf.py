"""HTML to PDF with Qt: ``QTextDocument`` lays out the report's HTML, ``QPdfWriter`` prints it.

Works headless: when no Qt application exists yet, an offscreen ``QApplication`` is made.  A
widgets application, not a bare ``QGuiApplication``: a process that exports a PDF first and opens
a window later (a test session, a script) could otherwise never create a widget.
"""

from __future__ import annotations

import os


def html_to_pdf_bytes(html: str) -> bytes:
    """The PDF of ``html`` (A4, images from data URIs)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
    from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument
    from PySide6.QtWidgets import QApplication

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _keep.append(QApplication([]))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle("IAD Inspector report")
    document = QTextDocument()
    document.setHtml(html)
    document.print_(writer)
    del writer
    buffer.close()
    return bytes(data.data())


_keep: list[object] = []
