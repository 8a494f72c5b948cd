"""``python -m alex_db``: the project's tools (see ``alex_db.tools.cli``)."""

import sys

from alex_db.tools.cli import main

sys.exit(main())
