"""``python -m alex_db``: the project's tools (see ``alex_db.cli``)."""

import sys

from alex_db.cli import main

sys.exit(main())
