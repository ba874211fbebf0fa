"""Reads off the GUI thread: answers come back by signal, and reads asked for while one runs do not pile up."""

from __future__ import annotations

import threading


def test_a_new_read_replaces_those_still_waiting_and_errors_come_back_as_messages(qtbot):
    from desktop.background_reads import BackgroundReader

    reader = BackgroundReader()
    answers, failures, ran = [], [], []
    reader.answered.connect(lambda generation, answer: answers.append((generation, answer)))
    reader.failed.connect(lambda generation, message: failures.append((generation, message)))
    reading, release = threading.Event(), threading.Event()

    def slow() -> str:
        reading.set()
        assert release.wait(30)
        ran.append(1)
        return "first"

    def read(generation: int):
        def run() -> str:
            ran.append(generation)
            return f"answer {generation}"
        return run

    reader.start(1, slow)
    assert reading.wait(5)
    for generation in (2, 3, 4):  # asked while the first runs, as after every part of a fast line
        reader.start(generation, read(generation))
    release.set()
    reader.wait()
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert ran == [1, 4] and answers == [(1, "first"), (4, "answer 4")]

    def broken() -> str:
        raise RuntimeError("database is locked")

    reader.start(5, broken)
    reader.wait()
    qtbot.waitUntil(lambda: failures == [(5, "database is locked")], timeout=5000)
    reader.close()


def test_a_read_that_ends_after_its_window_went_is_let_go_quietly(qtbot):
    import shiboken6

    from desktop.background_reads import BackgroundReader

    reader = BackgroundReader()
    pool = reader._pool
    reading, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> str:
        reading.set()
        assert release.wait(30)
        finished.set()
        return "too late"

    reader.start(1, slow)
    assert reading.wait(5)
    shiboken6.delete(reader)  # the window closed and took the reader while the read ran on
    release.set()
    pool.waitForDone(5000)
    assert finished.is_set()  # and nothing raised on the reader's thread (pytest-qt fails the test if it does)
