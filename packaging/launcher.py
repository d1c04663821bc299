"""Entry script of the frozen desktop build: the same `main` as the `kling-preview` console script."""

import multiprocessing
import sys

from kling_preview.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless when unused; required if a worker process is ever spawned
    sys.exit(main())
