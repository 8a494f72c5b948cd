"""Which keys ``alex-db local`` accepts, and where they come from.

AWS answers only requests signed with a key it issued; ``local`` does likewise (``signatures``).
It accepts two kinds of key, so that code runs unchanged with or without an AWS account:

- **Its own key**, made once per data directory (``KEY_FILE``, mode 0600, in the data directory
  that only the user running ``local`` may enter) and written into ``.env`` when the developer has
  no AWS credentials of their own: loading ``.env`` is then all a process needs. Its id starts
  with ``LOCAL_KEY_PREFIX`` so that ``alex-db env`` can tell it from a real key and remove it.
- **The developer's own AWS credentials**, when they have some: those in the ``.env`` being
  updated, else what botocore's default chain finds for the user running ``local`` (environment,
  shared credentials and config files, SSO, credential processes; not instance or container
  metadata, which would make every start wait for a metadata service that is not there). Then
  ``.env`` gets no keys, and a process that loads it keeps signing every call, to AWS and to
  ``local`` alike, with the developer's credentials: Bedrock, SQS and the rest keep working in
  the same process. ``local`` reads the secret only to check signatures; it never writes or
  prints it. Credentials that rotate (SSO, assumed roles) are looked up again when an unknown
  key arrives, at most once every ``LOOKUP_AGAIN_SECONDS``.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import botocore.exceptions
import botocore.session

from alex_db.tools.local.signatures import AccessKey
from alex_db.tools.shared.local_identity import LOCAL_KEY_PREFIX, is_local_key

KEY_FILE = "access-key"
# AWS access key ids are 20 upper-case letters and digits; local's are too, under its prefix.
KEY_ID_LENGTH = 20
SECRET_LENGTH = 40
LOOKUP_AGAIN_SECONDS = 5.0
# botocore's providers that ask a metadata service over the network (botocore/credentials.py,
# ContainerProvider.METHOD and InstanceMetadataProvider.METHOD).
NETWORK_PROVIDERS = ("container-role", "iam-role")
OWN_SOURCE = "alex-db local's own key"


class AccessKeyError(Exception):
    """The key file cannot be made or read: one line for the user."""


def own_key(data_dir: Path) -> AccessKey:
    """This data directory's key, made at its first use. The file is created exclusively and
    never through a symlink, so nothing planted is written or read."""
    path = data_dir / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    alphabet = string.ascii_uppercase + string.digits
    key_id = LOCAL_KEY_PREFIX + "".join(
        secrets.choice(alphabet) for _ in range(KEY_ID_LENGTH - len(LOCAL_KEY_PREFIX))
    )
    secret = secrets.token_urlsafe(SECRET_LENGTH)[:SECRET_LENGTH]
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise AccessKeyError(f"cannot create {path} ({error.strerror or error})") from None
    with os.fdopen(handle, "w") as file:
        json.dump({"key_id": key_id, "secret": secret}, file)
        file.flush()
        os.fsync(file.fileno())
    return AccessKey(key_id, secret, None, OWN_SOURCE)


def _read_key(path: Path) -> AccessKey:
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ENOENT:
            raise
        raise AccessKeyError(
            f"cannot read {path} ({error.strerror or error}); remove it and start again"
        ) from None
    with os.fdopen(handle) as file:
        try:
            saved = json.loads(file.read(4096))
            return AccessKey(str(saved["key_id"]), str(saved["secret"]), None, OWN_SOURCE)
        except (ValueError, KeyError, TypeError):
            raise AccessKeyError(
                f"{path} is not a key alex-db local wrote; remove it and start again"
            ) from None


def key_in_env_file(values: Mapping[str, str]) -> AccessKey | None:
    """The developer's own key pair written in the ``.env`` being updated, if any."""
    key_id = values.get("AWS_ACCESS_KEY_ID")
    secret = values.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret or is_local_key(key_id):
        return None
    return AccessKey(key_id, secret, values.get("AWS_SESSION_TOKEN") or None, "the keys in .env")


def chain_credentials(environ: Mapping[str, str] = os.environ) -> AccessKey | None:
    """What botocore's default chain finds for this user, without metadata services; None when
    it finds nothing, or only ``local``'s own key (a shell that loaded ``.env``), or cannot
    resolve it (an expired SSO session is no key to accept; nor is a config file that does not
    parse, an ``AWS_PROFILE`` it lacks, or a ``credential_process`` that cannot be run)."""
    try:
        session = botocore.session.Session()
        resolver = session.get_component("credential_provider")
        for name in NETWORK_PROVIDERS:
            resolver.remove(name)
        if is_local_key(environ.get("AWS_ACCESS_KEY_ID", "")):
            resolver.remove("env")
        credentials = resolver.load_credentials()
        if credentials is None:
            return None
        frozen = credentials.get_frozen_credentials()
        profile = session.get_config_variable("profile") or "default"
    # botocore raises its own errors for what it reads, but lets a credential_process that
    # cannot be run (OSError from subprocess) or quoted (ValueError from shlex.split) through.
    except (botocore.exceptions.BotoCoreError, OSError, ValueError):
        return None
    if not frozen.access_key or not frozen.secret_key:
        return None
    return AccessKey(
        frozen.access_key,
        frozen.secret_key,
        frozen.token,
        f"your AWS credentials ({credentials.method}, profile {profile})",
    )


class Keyring:
    """The keys a request may be signed with: ``local``'s own and the developer's. Thread-safe:
    every connection's thread asks it."""

    def __init__(
        self,
        own: AccessKey | None = None,
        developer: Callable[[], AccessKey | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # local's own key: set once the data directory that keeps it exists (``own_key``).
        self.own = own
        self._look_up = developer
        self._clock = clock
        self._lock = threading.Lock()
        self._developer = developer()
        self._looked_up_at = clock()
        self._looking_up = False

    @property
    def developer(self) -> AccessKey | None:
        """The developer's credentials found at the last look-up (None without any)."""
        return self._developer

    def find(self, key_id: str) -> AccessKey | None:
        """The key with this id, looking the developer's credentials up again (rate-limited)
        when it is none of the known ones. The look-up runs the developer's credential chain
        (a ``credential_process``, SSO, a role to assume), which can take seconds or wait for a
        person, and anyone who reaches the port can set it off with an unknown key id: it runs
        outside the lock, one at a time, and every other call goes on with the keys known."""
        with self._lock:
            known = self._known(key_id)
            if (
                known is not None
                or self._looking_up
                or self._clock() - self._looked_up_at < LOOKUP_AGAIN_SECONDS
            ):
                return known
            self._looking_up = True
        try:
            found = self._look_up()
        finally:
            with self._lock:
                self._looking_up = False
                self._looked_up_at = self._clock()
        with self._lock:
            self._developer = found
            return self._known(key_id)

    def _known(self, key_id: str) -> AccessKey | None:
        for key in (self.own, self._developer):
            if key is not None and secrets.compare_digest(
                key.key_id.encode("utf-8"), key_id.encode("utf-8")
            ):
                return key
        return None
