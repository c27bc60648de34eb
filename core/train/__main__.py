"""`python -m core.train`: the headless trainer (see `core.train.cli`)."""

import sys

from core.train.cli import main

if __name__ == "__main__":
    sys.exit(main())
