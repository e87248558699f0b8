"""``python -m deepilst.cli``."""

import sys

from deepilst.cli import main

sys.exit(main())
