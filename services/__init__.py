"""Application services: the glue between the engine and the history, shared by the CLI and the GUI.

Qt-free.  The engine (``engine``) and the history (``db``) do not know each other; this layer
runs an inspection with the engine and records it with ``db`` through one code path, so a
verdict reads the same in the CLI, the GUI, the benchmark and a report.
"""
