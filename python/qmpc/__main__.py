"""``python -m qmpc``: the same as the ``qmpc`` command."""

import sys

from .cli import main

sys.exit(main())
