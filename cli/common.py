"""Helpers shared by the headless commands: the data folder, input gathering, errors, progress."""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def program_name() -> str:
    """How the user starts the commands: ``main.py``, or the frozen app's executable."""
    return Path(sys.argv[0]).name if getattr(sys, "frozen", False) else "main.py"


@contextlib.contextmanager
def finish_on_terminate() -> Iterator[threading.Event]:
    """An event set when the system asks the process to end: SIGTERM (a service manager's stop,
    shutdown) or SIGHUP (its terminal closed).

    A long-running command checks it between images and stops as Ctrl+C stops it, with its
    summary, instead of dying with an image half handled (inspected but not yet sorted).  The
    handlers from before come back on leaving; off the main thread, where Python cannot take
    signals, the event is never set.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    numbers = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in numbers}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def add_home_option(parser: argparse.ArgumentParser) -> None:
    """``--home`` and ``--database-url``: which data folder and database to use."""
    parser.add_argument("--home", type=Path, help="data folder (default: $IAD_INSPECTOR_HOME or the user data dir)")
    parser.add_argument("--database-url", help="SQLAlchemy database URL (default: SQLite in the data folder)")


def open_from_args(args: argparse.Namespace) -> Any:
    """Open the workspace the arguments name; ``--home`` and ``--database-url`` beat the environment."""
    from services.workspace import open_workspace

    return open_workspace(getattr(args, "home", None), getattr(args, "database_url", None), explicit=True)


def user_errors(handler: Handler) -> Handler:
    """Print the errors a user can cause as one clear line and exit with 2."""

    @functools.wraps(handler)
    def wrapper(args: argparse.Namespace) -> int:
        from db.errors import StorageError
        from db.repository import NotFoundError
        from engine.errors import EngineError

        try:
            return handler(args)
        except NotFoundError as exc:
            hint = f" See '{program_name()} {exc.listing}'." if exc.listing else ""
            print(f"error: {exc}{hint}", file=sys.stderr)
            return 2
        except (StorageError, EngineError, ValueError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return wrapper


def gather_images(items: Iterable[Path]) -> list[Path]:
    """Image files named directly, and those inside named folders and their sub-folders
    (``engine.imageio.find_images``, as the app reads them); folders that cannot be read, or that hold no
    image while others do, are named on stderr."""
    from engine.imageio import empty_folders_note, find_images, unreadable_folders_note

    unreadable: list[Path] = []
    empty: list[Path] = []
    files = find_images(items, unreadable, empty)
    if unreadable:
        print(f"warning: {unreadable_folders_note(unreadable)}", file=sys.stderr)
    if empty and files:
        print(f"warning: {empty_folders_note(empty)}", file=sys.stderr)
    return files


def progress(items: list[Any], label: str, enabled: bool = True) -> Iterator[Any]:
    """Iterate with a progress bar on stderr (for more than one item)."""
    if not enabled or len(items) < 2:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, unit="img", file=sys.stderr, dynamic_ncols=True)


@contextlib.contextmanager
def progress_callback(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback that draws a bar on stderr from its first call, for work that
    reports its own progress (a CSV export of a long history)."""
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def print_benchmark(run: Callable[[], Any], table: Callable[[Any], str], save: Callable[[Any, Path], None],
                    json_path: Path | None) -> int:
    """Run a benchmark, print its table and write its JSON (callers wrap it in ``user_errors``)."""
    result = run()
    print(table(result))
    if json_path:
        save(result, json_path)
    return 0


def add_benchmark_options(parser: argparse.ArgumentParser, seeds: list[int]) -> None:
    """The options every benchmark over packs takes: ``--data``, ``--seeds``, ``--device`` and ``--json``."""
    parser.add_argument("--data", type=Path, required=True, help="one pack in the MVTec layout, or a folder of packs")
    parser.add_argument("--seeds", type=int, nargs="+", default=seeds,
                        help=f"reference draws (default {' '.join(str(seed) for seed in seeds)})")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (shots, threads, sizes, limits)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def unit_fraction(text: str) -> float:
    """An argparse type: a number above 0 and at most 1."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {value}")
    return value


def add_period_options(parser: argparse.ArgumentParser) -> None:
    """``--since`` and ``--until``: a period of the history, as the history, report and audit commands take it."""
    parser.add_argument("--since", type=parse_date, help="from this date/time (ISO, UTC)")
    parser.add_argument("--until", type=parse_date, help="before this date/time (ISO, UTC)")


def parse_date(text: str) -> datetime:
    """An ISO date or date-time; naive values are taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date: {text!r} (e.g. 2026-11-26 or 2026-11-26T14:00)") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)
