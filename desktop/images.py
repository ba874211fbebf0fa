"""numpy images to Qt images and pixmaps (GUI thread only) and back, and the verdict colours shared by the views."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage, QPixmap

from services.verdict_colours import NO_VERDICT_COLOUR, VERDICT_COLOURS


def to_qimage(image: np.ndarray) -> QImage:
    """A deep copy of a uint8 RGB, RGBA or grey array as a QImage."""
    array = np.ascontiguousarray(image)
    if array.ndim == 2:
        height, width = array.shape
        return QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    height, width, channels = array.shape
    if channels == 4:
        return QImage(array.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
    return QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """A QImage as a uint8 RGB array."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    return buffer.reshape(height, converted.bytesPerLine())[:, :width * 3].reshape(height, width, 3).copy()


def to_pixmap(image: np.ndarray) -> QPixmap:
    """A uint8 RGB array as a QPixmap."""
    return QPixmap.fromImage(to_qimage(image))


def verdict_colour(verdict: str) -> QColor:
    """The badge colour of a verdict."""
    return QColor(VERDICT_COLOURS.get(verdict, NO_VERDICT_COLOUR))
