"""The offline plan refuses what it cannot answer realistically, instead of planning with
made-up outputs: a resource type with no entry in ``config/resource_types.py`` ends ``plan`` in
one line naming what to add where, even when the program stopped for want of its outputs."""

from __future__ import annotations

import subprocess
import sys

from alex_db.config.resource_types import entry_problem
from alex_db.tools.shared.exits import Exit
from tests.conftest import ROOT

# A failed registration leaves Pulumi's pending tasks behind in the process, so the run happens
# in a child process of its own: ``plan`` for stack dev, with the program replaced.
RUN = """
import functools, sys
from pathlib import Path
from alex_db.tools import cli
from alex_db.tools.plan import runner
runner.run_program = functools.partial(runner.run_program, program=Path(r"{program}"))
sys.exit(cli.main(["plan", "--stack", "dev"]))
"""


def test_a_type_without_an_entry_whose_outputs_the_program_needs_is_one_line(tmp_path):
    """The runner's stand-in has no ``version``, so the program stops; plan names the cause."""
    program = tmp_path / "program.py"
    program.write_text(
        "import pulumi\n"
        "topic = pulumi.CustomResource('aws:sns/topic:Topic', 'topic', {'name': 'v', "
        "'version': None})\n"
        "pulumi.export('next', topic.version.apply(lambda v: v + 1))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", RUN.format(program=program)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == Exit.FAILED, result.stderr
    assert result.stderr.splitlines() == [
        f"alex-db plan: {entry_problem('aws:sns/topic:Topic')}"
    ], result.stderr
