"""IAD Inspector entry point: the desktop app by default, subcommands for headless work."""

from __future__ import annotations

import os
import sys

# Before torch and OpenCV are imported anywhere; engine/__init__.py says why.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "128")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


def main(argv: list[str] | None = None) -> int:
    """Run the GUI when no subcommand is given, else the named headless command."""
    from cli.parser import run_cli

    return run_cli(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    try:
        code = main()
        if sys.stdout is not None:  # None in a windowed build (PyInstaller, pythonw)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader of piped output stopped early (``| head``): end quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
