"""PySide6 desktop application: windows, widgets, Qt models and the inference worker."""
