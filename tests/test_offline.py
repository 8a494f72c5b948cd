"""The offline runner refuses what it cannot answer realistically, instead of planning with
made-up outputs."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

# A failed registration leaves Pulumi's pending tasks behind in the process, so the run happens
# in a child process of its own.
RUN = """
from pathlib import Path
from alex_db.tools.plan.runner import run_program
from tests.conftest import DEV_CONFIG, TEST_PLACEHOLDERS
run_program("dev", DEV_CONFIG, TEST_PLACEHOLDERS, program=Path(r"{program}"))
"""


def test_a_resource_type_without_placeholders_fails_loudly(tmp_path):
    program = tmp_path / "program.py"
    program.write_text(
        "import pulumi\npulumi.CustomResource('aws:sns/topic:Topic', 'topic', {'name': 'v'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", RUN.format(program=program)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert (
        "NotImplementedError: no placeholder outputs for resource type aws:sns/topic:Topic"
        in result.stderr
    )
