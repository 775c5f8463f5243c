"""``python -m berdaya``: the ``berdaya`` command."""

import sys

from berdaya.cli import main

if __name__ == "__main__":
    sys.exit(main())
