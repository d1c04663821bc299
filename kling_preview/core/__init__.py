"""The headless core: model, motion, rendering, spec and file IO. Never imports Qt."""
