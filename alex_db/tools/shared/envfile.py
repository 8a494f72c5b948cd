"""Reading and updating ``.env`` files without disturbing anything the user wrote.

Reading is python-dotenv's (``dotenv_values``), so quotes, ``export`` and inline comments mean
what they mean to every other dotenv tool. Values are taken literally (no ``${VAR}``
expansion): ARNs and database names never need it.

Updating rewrites only the assignments of the keys being set, keeping each one's ``export``
prefix and line ending (CRLF stays CRLF); every other byte stays as it was. The file is replaced
atomically (temporary file in the same directory, then rename), keeping its owner, group and
mode; a symlink is written through to its target, in the target's directory. Whatever cannot be
done that way is refused with an ``EnvFileError`` before anything is touched.
"""

from __future__ import annotations

import errno
import io
import os
import pwd
import re
import stat
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import Binding, parse_stream

from alex_db.tools.shared.files import TEXT_LIMIT, read_at_most

# A new .env may end up holding credentials one day: readable by its owner only.
NEW_FILE_MODE = 0o600
# Values written bare; anything else is single-quoted the way python-dotenv's own ``set_key``
# quotes (``dotenv/main.py``: escape ``\\`` then ``'``; ``dotenv/parser.py`` decodes both).
_BARE_VALUE = re.compile(r"[A-Za-z0-9_./:@+,=-]*")
_LINE_END = re.compile(r"(\r\n|\n|\r)$")
WRITABLE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# Links followed in a row before giving up, as Linux does (path_resolution(7): 40).
SYMLINK_HOPS = 40


class EnvFileError(ValueError):
    """The file cannot be read or updated as promised: one line for the user, which the caller
    prefixes with the file's name."""


def decode(data: bytes) -> str:
    """``data`` as text; a file that is not UTF-8 is refused, not guessed at."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EnvFileError(
            f"not UTF-8 text (byte {error.start} cannot be decoded); save it as UTF-8 first"
        ) from None


def parse(text: str) -> dict[str, str]:
    """The values ``text`` assigns, as python-dotenv reads them; a key assigned twice takes its
    last value, a key without ``=`` is left out."""
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {key: value for key, value in values.items() if value is not None}


def read(path: Path) -> dict[str, str]:
    """The values of the ``.env`` file at ``path``."""
    try:
        data = read_at_most(path, TEXT_LIMIT)
    except OSError as error:
        raise EnvFileError(f"cannot read it ({error.strerror or error})") from None
    return parse(decode(data))


def refuse_unprintable(updates: Mapping[str, str]) -> None:
    """A value must be one line of printable characters: a newline or control character would
    change other lines of the file, or forge them for whoever prints it."""
    for key, value in updates.items():
        if not value.isprintable():
            raise EnvFileError(
                f"{key}: the value {value!r} contains a newline or control character; "
                f"only printable characters on one line can be written"
            )


def _quoted(value: str) -> str:
    if _BARE_VALUE.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _key_position(binding: Binding) -> int:
    return re.search(rf"'?{re.escape(binding.key)}", binding.original.string).start()


def _rewritten(binding: Binding, value: str) -> str:
    """The binding's text with its value replaced: what came before the key (blank lines,
    indentation, ``export ``) and its line ending stay."""
    original = binding.original.string
    ending = _LINE_END.search(original)
    return (
        f"{original[: _key_position(binding)]}{binding.key}={_quoted(value)}"
        f"{ending.group(1) if ending else ''}"
    )


def _bom(text: str) -> str:
    """The byte order mark ``text`` starts with, if any: python-dotenv's parser drops it
    (``dotenv/parser.py``, Reader), and the file keeps it."""
    return "\ufeff" if text.startswith("\ufeff") else ""


def merge(text: str, updates: Mapping[str, str]) -> str:
    """``text`` with every assignment of an updated key rewritten in place (duplicates too, so
    no stale value survives further down) and the keys it lacked appended, in order. Refused
    when the result would not read back as exactly the old values plus the updates."""
    refuse_unprintable(updates)
    newline = "\r\n" if "\r\n" in text else "\n"
    seen = set()
    parts = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.key in updates and not binding.error:
            seen.add(binding.key)
            parts.append(_rewritten(binding, updates[binding.key]))
        else:
            parts.append(binding.original.string)
    merged = "".join(parts)
    missing = [key for key in updates if key not in seen]
    if missing and merged and not merged.endswith(("\n", "\r")):
        merged += newline
    appended = "".join(f"{key}={_quoted(updates[key])}{newline}" for key in missing)
    merged = _bom(text) + merged + appended
    _refuse_unless_only_updates_changed(text, merged, updates)
    return merged


def _refuse_unless_only_updates_changed(before: str, after: str, updates: Mapping[str, str]):
    # A line python-dotenv cannot parse (an unclosed quote, say) can swallow what follows it;
    # rather than guess, compare what a reader sees before and after.
    old, new = parse(before), parse(after)
    others_kept = {k: v for k, v in old.items() if k not in updates} == {
        k: v for k, v in new.items() if k not in updates
    }
    if not others_kept or any(new.get(key) != value for key, value in updates.items()):
        raise EnvFileError(
            "cannot update it without changing other values: python-dotenv cannot parse part "
            "of it (an unclosed quote?); fix that part of the file first"
        )


def _writable(path: Path, mode: int) -> bool:
    # os.access alone says yes to root for everything; the mode bits say what the owner meant.
    return os.access(path, os.W_OK) and bool(mode & WRITABLE_BITS)


def target_of(path: Path) -> Path:
    """The file that is really written: a symlink's final target, never the link itself (a
    dangling link's target is created). A loop has no target: non-strict ``realpath`` would
    return the link itself, and the link would be replaced by a file."""
    if not path.is_symlink():
        return path
    _refuse_links_root_does_not_own(path)
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        return Path(os.path.realpath(path))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise EnvFileError("it is a symlink loop; point it at a file") from None
        raise EnvFileError(f"cannot follow the symlink ({error.strerror or error})") from None


def _refuse_links_root_does_not_own(path: Path) -> None:
    """As root, follow only root's own links. A link another user put where the file goes (a
    ``.env`` in ``/tmp`` or a shared checkout) would have root rewrite, re-own or chmod any
    file it names, and ``realpath`` resolves links itself, so the kernel's rule for links in
    sticky folders never gets to refuse it (proc(5), ``/proc/sys/fs/protected_symlinks``)."""
    if os.geteuid() != 0:
        return
    link = path
    for _ in range(SYMLINK_HOPS):
        try:
            info = link.lstat()
        except OSError:  # a dangling link's end, or one realpath reports on
            return
        if not stat.S_ISLNK(info.st_mode):
            return
        if info.st_uid != 0:
            which = "it is a symbolic link" if link == path else f"it leads through {link}, a link"
            raise EnvFileError(
                f"{which} that belongs to {_user_named(info.st_uid)}; as root, alex-db follows "
                f"only root's links"
            )
        link = link.parent / os.readlink(link)


def _user_named(uid: int) -> str:
    try:
        return f"user '{pwd.getpwuid(uid).pw_name}' (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def read_existing(path: Path, limit: int = TEXT_LIMIT) -> str | None:
    """The text of the file to update, or None when it does not exist yet; refuses a path that
    cannot be updated in place (a directory, a missing or read-only folder, a read-only file).
    The same rules serve every file the tools update in place (``.env``, Terraform's files)."""
    folder = path.parent
    if not folder.is_dir():
        raise EnvFileError(f"the folder {folder} does not exist")
    if path.is_dir():
        raise EnvFileError("it is a directory; give the path of a file")
    if not _writable(folder, folder.stat().st_mode):
        raise EnvFileError(f"the folder {folder} is read-only")
    if not path.exists():
        return None
    if not path.is_file():
        raise EnvFileError("it is not a regular file")
    if not _writable(path, path.stat().st_mode):
        raise EnvFileError("it is read-only")
    try:
        return decode(read_at_most(path, limit))
    except OSError as error:
        raise EnvFileError(f"cannot read it ({error.strerror or error})") from None


def write_atomically(path: Path, text: str, private: bool = False) -> None:
    """Replace ``path`` with ``text`` in one rename in its own folder, keeping an existing file's
    owner, group and mode (a new file gets NEW_FILE_MODE, and so does any file that is to hold a
    secret: ``private``)."""
    existing = path.stat() if path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())
        owner = (os.getuid(), os.getgid())
        if existing is not None and (existing.st_uid, existing.st_gid) != owner:
            os.chown(temporary, existing.st_uid, existing.st_gid)
        keep_mode = existing is not None and not private
        os.chmod(temporary, stat.S_IMODE(existing.st_mode) if keep_mode else NEW_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _lines_before(binding: Binding) -> str:
    """The whole lines python-dotenv counts into a binding before its own (blank lines)."""
    original = binding.original.string
    key_at = _key_position(binding)
    return original[: max(original.rfind("\n", 0, key_at), original.rfind("\r", 0, key_at)) + 1]


def remove(text: str, keys: Collection[str]) -> str:
    """``text`` without the assignments of ``keys`` (as python-dotenv parses them); every other
    line, blank ones included, stays byte for byte."""
    return _bom(text) + "".join(
        _lines_before(binding)
        if binding.key in keys and not binding.error
        else binding.original.string
        for binding in parse_stream(io.StringIO(text))
    )


def planned(path: Path, updates: Mapping[str, str], drop: Collection[str] = ()) -> str | None:
    """What the ``.env`` at ``path`` (or its symlink's target) says once ``updates`` are merged
    and the assignments of ``drop`` removed; None when it says exactly that already. Raises
    EnvFileError (or OSError) for a file that cannot be updated in place."""
    before = read_existing(target_of(path))
    after = remove(merge(before or "", updates), drop)
    return None if after == before else after


def update_file(
    path: Path, updates: Mapping[str, str], drop: Collection[str] = (), private: bool = False
) -> bool:
    """Merge ``updates`` into the ``.env`` at ``path`` and remove the assignments of ``drop``,
    written atomically through a symlink to its target (mode 0600 when ``private``: it holds a
    secret); False when the file already said exactly that (nothing is written). Raises
    EnvFileError (or OSError) with the file untouched."""
    target = target_of(path)
    if private:
        _refuse_a_secret_for_a_stranger(target)
    after = planned(path, updates, drop)
    if after is None:
        if not (private and _readable_by_others(target)):
            return False
        after = read_existing(target) or ""
    write_atomically(target, after, private)
    return True


def _refuse_a_secret_for_a_stranger(path: Path) -> None:
    """As root, a secret goes only into root's file or one of its folder's owner. A rewrite
    keeps the file's owner (``write_atomically``), so another user's file left in a folder they
    do not own (``/tmp``, a shared checkout) would hand them the secret; ``sudo`` in one's own
    project (file and folder the developer's) is what keeping the owner is for."""
    if os.geteuid() != 0 or not path.exists():
        return
    owner = path.stat().st_uid
    if owner in (0, path.parent.stat().st_uid):
        return
    raise EnvFileError(
        f"it belongs to {_user_named(owner)}, who does not own its folder, and would get a secret "
        f"key; as root, alex-db writes one only into root's files or the folder owner's"
    )


def _readable_by_others(path: Path) -> bool:
    return path.exists() and bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
