"""`python -m kling_preview` runs the same entry point as the `kling-preview` script."""

import sys

from kling_preview.cli import main

sys.exit(main())
