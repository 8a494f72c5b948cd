"""``python -m alex_db env`` and the .env merging under it."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex_db.tools import envfile
from alex_db.tools.cli import main

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:alex-aurora-cluster"
SECRET_ARN = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:alex-aurora-credentials-0a1b2c3d-AbCdEf"
)
OUTPUTS = {
    "aurora_cluster_arn": CLUSTER_ARN,
    "aurora_secret_arn": SECRET_ARN,
    "database_name": "alex",
    "setup_instructions": "not for .env",
}
WRITTEN = (
    f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\nAURORA_SECRET_ARN={SECRET_ARN}\nAURORA_DATABASE=alex\n"
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    return tmp_path


def env(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["env", "--outputs", "outputs.json", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_new_env_file_gets_the_three_keys_and_owner_only_permissions(project, capsys):
    code, _, err = env(capsys)
    assert code == 0
    assert (project / ".env").read_text() == WRITTEN
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    assert "wrote AURORA_CLUSTER_ARN, AURORA_SECRET_ARN, AURORA_DATABASE" in err


def test_existing_file_keeps_every_other_line_and_replaces_stale_duplicates(project, capsys):
    original = (
        "# Alex backend settings\n"
        "OPENAI_API_KEY=sk-keep-me\n"
        "\n"
        "AURORA_CLUSTER_ARN=arn:old:one\n"
        "export LOG_LEVEL=debug  # inline comment stays\n"
        "AURORA_CLUSTER_ARN=arn:old:duplicate\n"
        "QUOTED='a b c'"  # no final newline
    )
    (project / ".env").write_text(original)
    assert env(capsys)[0] == 0
    assert (project / ".env").read_text() == (
        "# Alex backend settings\n"
        "OPENAI_API_KEY=sk-keep-me\n"
        "\n"
        f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\n"
        "export LOG_LEVEL=debug  # inline comment stays\n"
        f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\n"
        "QUOTED='a b c'\n"
        f"AURORA_SECRET_ARN={SECRET_ARN}\n"
        "AURORA_DATABASE=alex\n"
    )


def test_second_run_changes_nothing(project, capsys):
    (project / ".env").write_text("A=1\n")
    env(capsys)
    first = (project / ".env").read_bytes()
    inode = (project / ".env").stat().st_ino
    code, _, err = env(capsys)
    assert code == 0
    assert (project / ".env").read_bytes() == first
    assert (project / ".env").stat().st_ino == inode, "an unchanged file is not rewritten"
    assert "already up to date" in err


def test_existing_permissions_are_kept(project, capsys):
    (project / ".env").write_text("A=1\n")
    os.chmod(project / ".env", 0o640)
    env(capsys)
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o640


def test_stdout_and_another_file(project, capsys):
    code, out, _ = env(capsys, "--file", "-")
    assert (code, out) == (0, WRITTEN)
    assert not (project / ".env").exists()
    (project / "config").mkdir()
    env(capsys, "--file", "config/app.env")
    assert (project / "config" / "app.env").read_text() == WRITTEN


def test_flags_override_outputs(project, capsys):
    env(capsys, "--database", "alex_test")
    assert envfile.parse((project / ".env").read_text())["AURORA_DATABASE"] == "alex_test"


def test_a_crash_while_writing_leaves_the_old_file_whole(project, capsys, monkeypatch):
    (project / ".env").write_text("KEEP=1\n")

    def crash(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        env(capsys)
    assert (project / ".env").read_text() == "KEEP=1\n"
    assert sorted(p.name for p in project.iterdir()) == [".env", "outputs.json"]


def test_without_any_source_it_says_how_to_give_one(project, capsys):
    code = main(["env"])
    assert code == 2
    assert "--outputs FILE or --stack NAME" in capsys.readouterr().err
    assert not (project / ".env").exists()


def test_parse_reads_quotes_exports_comments_and_last_duplicate():
    text = "# c\nexport A='x y'\nB=\"q\"\nC=plain # note\nA=last\nnot a line\n"
    assert envfile.parse(text) == {"A": "last", "B": "q", "C": "plain"}


lines = st.lists(
    st.one_of(
        st.from_regex(r"[A-Z_]{1,6}=[a-z0-9:/ ]{0,10}", fullmatch=True),
        st.from_regex(r"# [a-z ]{0,10}", fullmatch=True),
        st.just(""),
    ),
    max_size=8,
)


@given(existing=lines)
def test_merge_sets_the_keys_keeps_the_rest_and_is_idempotent(existing):
    text = "".join(f"{line}\n" for line in existing)
    updates = {"AURORA_CLUSTER_ARN": CLUSTER_ARN, "AURORA_DATABASE": "alex"}
    merged = envfile.merge(text, updates)
    assert envfile.merge(merged, updates) == merged
    parsed = envfile.parse(merged)
    assert {key: parsed[key] for key in updates} == updates
    untouched = [line for line in existing if not line.startswith(tuple(f"{k}=" for k in updates))]
    kept = [line for line in merged.splitlines() if not line.startswith(tuple(updates))]
    assert kept == untouched
