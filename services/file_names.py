"""File names suggested from what people type (project names, source file names), valid on Windows, macOS
and Linux: a project called "Valve/Cover 3" must not suggest a file in a folder "Valve" that does not exist."""

from __future__ import annotations

# Characters Windows refuses in a file name; "/" separates folders everywhere.
FORBIDDEN_CHARACTERS = frozenset('<>:"/\\|?*')
# Device names Windows reserves, with any extension.
RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)),
                            *(f"LPT{n}" for n in range(1, 10))})
# Leaves room for a suffix and a folder within the 255 characters most file systems allow.
MAX_STEM_LENGTH = 100


def file_stem(text: str, fallback: str = "export") -> str:
    """``text`` made a file name without its suffix.

    Forbidden and control characters become "_", leading and trailing dots and spaces go (a leading
    dot hides a file, Windows drops trailing ones), the result is cut to ``MAX_STEM_LENGTH``, and a
    reserved Windows device name gets a leading "_".  ``fallback`` when nothing is left.
    """
    cleaned = "".join("_" if char in FORBIDDEN_CHARACTERS or ord(char) < 32 else char for char in text)
    cleaned = cleaned.strip(". ")[:MAX_STEM_LENGTH].rstrip(". ")
    if not cleaned:
        return fallback
    if cleaned.split(".")[0].upper() in RESERVED_NAMES:
        return "_" + cleaned
    return cleaned
