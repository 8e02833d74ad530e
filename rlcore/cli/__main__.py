"""``python -m rlcore.cli``: the same as the ``rlcore`` command."""

import sys

from rlcore.cli import main

sys.exit(main())
