"""``python -m adfs_readiness`` runs the command-line interface."""

import sys

from adfs_readiness.cli import main

sys.exit(main())
