"""``python -m scalearc_lint``."""

import sys

from scalearc_lint.cli import main

sys.exit(main())
