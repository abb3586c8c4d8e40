"""``python -m matching``: the batch commands of the contract (rank, assign, schedule)."""

import sys

from matching.cli import main

sys.exit(main())
