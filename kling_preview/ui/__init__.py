"""The PySide6 desktop app: a thin view and controller over `kling_preview.core`."""
