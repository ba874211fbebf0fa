"""Inspection history: SQLAlchemy models, migrations, the content-addressed image store.

No Qt and no torch here: the engine's results arrive as plain data (numbers, numpy maps, dicts).
"""
