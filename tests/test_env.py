"""``python -m alex_db env`` and the .env merging under it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alex_db.tools.cli import main
from alex_db.tools.shared import envfile

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
# Fragments that make real-looking and hostile .env files: quotes, exports, CRLF, duplicates.
ENV_PIECES = [
    "A=1",
    "AURORA_DATABASE=old",
    "export AURORA_CLUSTER_ARN=x",
    "AURORA_SECRET_ARN='q # r'",
    'B="multi',
    'line"',
    "'",
    '"',
    "#",
    " # c",
    "\n",
    "\r\n",
    "\r",
    " ",
    "=",
    "export ",
    "K",
    "\\",
    "${A}",
    "\x00",
    "é",
    "\ufeff",
]
REGION_LINES = "AWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\nDEFAULT_AWS_REGION=us-east-1\n"
WRITTEN = (
    f"AURORA_CLUSTER_ARN={CLUSTER_ARN}\nAURORA_SECRET_ARN={SECRET_ARN}\nAURORA_DATABASE=alex\n"
    + REGION_LINES
)
WRITTEN_KEYS = list(envfile.parse(WRITTEN))


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
        "AURORA_DATABASE=alex\n" + REGION_LINES
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


def test_without_a_source_env_points_only_at_sources_it_reads(project, capsys, monkeypatch):
    """env writes .env and never reads it or the environment, so it must not send users there."""
    monkeypatch.setenv("AURORA_CLUSTER_ARN", OUTPUTS["aurora_cluster_arn"])
    code = main(["env"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "✗ no AURORA_CLUSTER_ARN or AURORA_SECRET_ARN: pass --cluster-arn/--secret-arn, use "
        "--outputs FILE or --stack NAME\n"
    )
    assert not (project / ".env").exists()


def test_flags_override_outputs(project, capsys):
    env(capsys, "--database", "alex_test")
    assert envfile.parse((project / ".env").read_text())["AURORA_DATABASE"] == "alex_test"


def test_a_crash_while_writing_leaves_the_old_file_whole(project, capsys, monkeypatch):
    (project / ".env").write_text("KEEP=1\n")

    def crash(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    code, _, err = env(capsys)
    assert code == 2
    assert err == "✗ .env: cannot write it (No space left on device)\n"
    assert (project / ".env").read_text() == "KEEP=1\n"
    assert sorted(p.name for p in project.iterdir()) == [".env", "outputs.json"]


@pytest.mark.parametrize("during", ["fsync", "chmod", "replace"])
def test_ctrl_c_while_writing_is_exit_130_with_the_old_file_whole_and_no_temp(
    project, capsys, monkeypatch, during
):
    (project / ".env").write_text("KEEP=1\n")

    def interrupt(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, during, interrupt)
    code, out, err = env(capsys)
    assert (code, out, err) == (130, "", "✗ interrupted\n")
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


def test_a_quoted_value_with_an_inline_comment_loses_quotes_and_comment():
    """python-dotenv reads it (issue 10, item 5); the hand-written parser kept the quotes."""
    text = f'AURORA_CLUSTER_ARN="{CLUSTER_ARN}"  # note\n'
    assert envfile.parse(text) == {"AURORA_CLUSTER_ARN": CLUSTER_ARN}


def test_rewritten_lines_keep_their_export_prefix_and_crlf_endings(project, capsys):
    (project / ".env").write_bytes(
        b"# mine\r\nexport AURORA_CLUSTER_ARN=arn:old\r\n  export  AURORA_DATABASE=old # c\r\nZ=1"
    )
    assert env(capsys)[0] == 0
    assert (project / ".env").read_bytes() == (
        f"# mine\r\nexport AURORA_CLUSTER_ARN={CLUSTER_ARN}\r\n  export  AURORA_DATABASE=alex\r\n"
        f"Z=1\r\nAURORA_SECRET_ARN={SECRET_ARN}\r\n" + REGION_LINES.replace("\n", "\r\n")
    ).encode()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_owner_group_and_mode_are_kept(project, capsys):
    path = project / ".env"
    path.write_text("A=1\n")
    os.chown(path, 101, 104)
    os.chmod(path, 0o664)
    assert env(capsys)[0] == 0
    after = path.stat()
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (101, 104, 0o664)


def test_a_symlink_is_written_through_to_its_target_in_the_targets_folder(project, capsys):
    (project / "shared").mkdir()
    real = project / "shared" / "app.env"
    real.write_text("KEEP=1\n")
    (project / ".env").symlink_to("shared/app.env")
    assert env(capsys)[0] == 0
    assert (project / ".env").is_symlink()
    assert os.readlink(project / ".env") == "shared/app.env"
    assert real.read_text() == "KEEP=1\n" + WRITTEN
    assert sorted(p.name for p in (project / "shared").iterdir()) == ["app.env"]
    assert sorted(p.name for p in project.iterdir()) == [".env", "outputs.json", "shared"]


def test_a_symlink_loop_is_refused_and_stays_a_loop(project, capsys):
    """A loop once came back from realpath as the link itself, which was then replaced by a
    regular file."""
    (project / "loop-a").symlink_to("loop-b")
    (project / "loop-b").symlink_to("loop-a")
    untouched_after_refusal(project, capsys, ["--file", "loop-a"], "✗ loop-a: it is a symlink loop")
    assert os.readlink(project / "loop-a") == "loop-b"


def test_a_dangling_symlink_creates_its_target():
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / ".env"
        link.symlink_to("real.env")
        assert envfile.target_of(link) == Path(folder) / "real.env"


def test_a_byte_order_mark_survives_the_update(project, capsys):
    """python-dotenv drops a leading BOM from what it parses; the merge once dropped it from
    the file too."""
    (project / ".env").write_bytes(b"\xef\xbb\xbfAURORA_DATABASE=old\nA=1\n")
    assert env(capsys)[0] == 0
    assert (project / ".env").read_bytes().startswith(b"\xef\xbb\xbfAURORA_DATABASE=alex\nA=1\n")
    assert envfile.merge("\ufeff", {"K": "v"}) == "\ufeffK=v\n"


def untouched_after_refusal(project, capsys, args, message):
    listing = {p: p.read_bytes() if p.is_file() else None for p in project.rglob("*")}
    code, out, err = env(capsys, *args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("✗ ") and message in err, err
    assert "alex-db env" not in err and "alex_db" not in err
    after = {p: p.read_bytes() if p.is_file() else None for p in project.rglob("*")}
    assert after == listing, "a refused run changed or left a file"


def test_values_with_newlines_or_control_characters_are_refused(project, capsys):
    (project / ".env").write_text("A=1\n")
    untouched_after_refusal(
        project,
        capsys,
        ["--database", "alex\nEVIL=1"],
        "AURORA_DATABASE: the value 'alex\\nEVIL=1'",
    )
    untouched_after_refusal(project, capsys, ["--database", "a\x1b[2Jb"], "control character")


@pytest.mark.parametrize(
    ("make", "file", "message"),
    [
        (
            lambda p: (p / "adir").mkdir(),
            "adir",
            "✗ adir: it is a directory; give the path of a file",
        ),
        (lambda p: None, "missing/.env", "✗ missing/.env: the folder missing does not exist"),
        (
            lambda p: ((p / "ro.env").write_text("A=1\n"), (p / "ro.env").chmod(0o444)),
            "ro.env",
            "✗ ro.env: it is read-only",
        ),
        (
            lambda p: ((p / "rodir").mkdir(), (p / "rodir").chmod(0o555)),
            "rodir/.env",
            "✗ rodir/.env: the folder rodir is read-only",
        ),
        (
            lambda p: (p / "latin1.env").write_bytes(b"A=caf\xe9\n"),
            "latin1.env",
            "✗ latin1.env: not UTF-8 text (byte 5 cannot be decoded)",
        ),
    ],
    ids=["directory", "missing-folder", "read-only-file", "read-only-folder", "not-utf8"],
)
def test_files_that_cannot_be_updated_in_place_are_refused_untouched(
    project, capsys, make, file, message
):
    make(project)
    try:
        untouched_after_refusal(project, capsys, ["--file", file], message)
    finally:
        for path in project.iterdir():
            path.chmod(0o755)


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


@settings(max_examples=150, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from(ENV_PIECES), max_size=10).map(
            lambda parts: "".join(parts).encode()
        ),
    ),
    database=st.text(min_size=1, max_size=20),
)
@example(content=b"\xef\xbb\xbfA=1\n", database="alex")
@example(content=b"A=1\n", database="--")  # argparse once dropped it for the default database
def test_any_file_and_value_either_merges_exactly_or_is_refused_untouched(content, database):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ".env"
        path.write_bytes(content)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = main(
                [
                    "env",
                    "--cluster-arn",
                    CLUSTER_ARN,
                    "--secret-arn",
                    SECRET_ARN,
                    f"--database={database}",
                    "--file",
                    str(path),
                ]
            )
        assert code in (0, 2)
        assert stderr.getvalue().count("\n") == 1
        if code == 2:
            assert path.read_bytes() == content
            assert os.listdir(folder) == [".env"]
            return
        updates = {
            "AURORA_CLUSTER_ARN": CLUSTER_ARN,
            "AURORA_SECRET_ARN": SECRET_ARN,
            "AURORA_DATABASE": database,
        } | dict.fromkeys(("AWS_REGION", "AWS_DEFAULT_REGION", "DEFAULT_AWS_REGION"), "us-east-1")
        before = dotenv_values(stream=io.StringIO(content.decode()), interpolate=False)
        after = dotenv_values(stream=io.StringIO(path.read_bytes().decode()), interpolate=False)
        assert {k: after[k] for k in updates} == updates
        assert {k: v for k, v in after.items() if k not in updates} == {
            k: v for k, v in before.items() if k not in updates
        }
        if not any(key.encode() in content for key in updates):
            # Nothing to rewrite, so nothing is lost: the keys are appended to every old byte.
            assert path.read_bytes().startswith(content)


def test_the_stack_region_is_written_for_boto3_and_for_alexs_client_and_scripts(tmp_path, capsys):
    """boto3 reads AWS_DEFAULT_REGION, Alex's scripts AWS_REGION and its database client
    DEFAULT_AWS_REGION (ed-donner/alex backend/database/src/client.py): a stack outside
    us-east-1 must reach all three. The region is the cluster ARN's, which every source has."""
    cluster = CLUSTER_ARN.replace("us-east-1", "eu-west-2")
    secret = SECRET_ARN.replace("us-east-1", "eu-west-2")
    path = tmp_path / ".env"
    path.write_text("AWS_REGION=us-east-1\nOPENAI_API_KEY=sk-keep\n")
    code = main(["env", "--cluster-arn", cluster, "--secret-arn", secret, "--file", str(path)])
    assert code == 0
    assert envfile.parse(path.read_text()) == {
        "AWS_REGION": "eu-west-2",
        "OPENAI_API_KEY": "sk-keep",
        "AURORA_CLUSTER_ARN": cluster,
        "AURORA_SECRET_ARN": secret,
        "AURORA_DATABASE": "alex",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "DEFAULT_AWS_REGION": "eu-west-2",
    }
    err = capsys.readouterr().err
    assert err.endswith("AWS_REGION, AWS_DEFAULT_REGION, DEFAULT_AWS_REGION\n"), err


def test_env_removes_every_line_local_wrote_that_only_local_means(project, capsys):
    """Switching back to AWS: whatever `alex-db local` puts into .env for itself (its endpoints,
    its own key when the developer has none) must not survive `env`, or boto3 keeps talking to
    127.0.0.1. The lines come from local's own writer, so a name added there without adding it
    to the list that env reads fails here."""
    from alex_db.tools.local.access_keys import Keyring, own_key
    from alex_db.tools.local.command import env_update

    own = own_key(project)
    written_by_local = env_update("http://127.0.0.1:8432", Keyring(own=own), {}).updates
    (project / ".env").write_text(
        "# mine\nOPENAI_API_KEY=sk-keep\n" + envfile.merge("", written_by_local)
    )
    assert env(capsys)[0] == 0
    after = envfile.parse((project / ".env").read_text())
    rewritten_by_env = set(WRITTEN_KEYS)
    assert [key for key in written_by_local if key in after and key not in rewritten_by_env] == []
    assert {key: after[key] for key in rewritten_by_env} == envfile.parse(WRITTEN)
    assert after["OPENAI_API_KEY"] == "sk-keep"
    assert (project / ".env").read_text().startswith("# mine\nOPENAI_API_KEY=sk-keep\n")
