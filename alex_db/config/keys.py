"""Which ``alex-db:*`` keys a stack may set, and that none of them holds a secret (pure).

The Pulumi CLI type-checks only the keys ``Pulumi.yaml`` declares and passes every other key of
the project's namespace through unchecked, so a misspelt ``alex-db:prodution: true`` would
silently deploy the defaults (an unprotected database). The program therefore looks at every key
the stack sets and refuses the ones it does not know, naming the closest known key. The same goes
for a key in a namespace spelt like ours (``alexdb:production``, ``Alex-DB:production``): the CLI
accepts any namespace and nothing would ever read that one.

No key of this program is a secret, and their values end up in plaintext resource inputs and
error messages. A ``secure:`` value (``pulumi config set --secret``) for one of them would be
decrypted into plaintext state, so it is refused; the message never shows the value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable

from alex_db.config.values import NAMESPACE, SettingsError, key

# How alike a key must be to be suggested (difflib's ratio; 0.6 is its own default).
SIMILAR_ENOUGH = 0.6
# How alike a namespace must be to ours, compared without case and punctuation, to be taken for a
# misspelling of it: "alx-db" (0.91) is, a provider's "aws" or a separate "alex" (0.8) is not.
NAMESPACE_LOOK_ALIKE = 0.85
_PUNCTUATION = re.compile(r"[\W_]+")
# The one key of another namespace the program reads; the provider returns it inside every ARN.
REGION_KEY = "aws:region"


def closest_key(name: str, known: Iterable[str]) -> str | None:
    """The known key ``name`` most likely meant (case ignored), or None if none is close."""
    by_lower = {candidate.lower(): candidate for candidate in known}
    found = difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=SIMILAR_ENOUGH)
    return by_lower[found[0]] if found else None


def _unknown(name: str, known: Collection[str]) -> SettingsError:
    # repr() keeps a key with control characters on one line.
    shown = repr(key(name))
    suggestion = closest_key(name, known)
    hint = (
        f"did you mean {key(suggestion)}?"
        if suggestion
        else f"the keys are {', '.join(sorted(known, key=str.lower))}"
    )
    return SettingsError(
        f"config key {shown} is not one this program reads: {hint} "
        f"(an unknown key would silently leave the default in place)"
    )


def _folded(namespace: str) -> str:
    return _PUNCTUATION.sub("", namespace.casefold())


def looks_like_our_namespace(namespace: str) -> bool:
    """True for a namespace that is not ours but is spelt like it (case, punctuation, a typo), or
    is empty (``:production``, which the CLI accepts and nothing reads)."""
    if not namespace:
        return True
    ratio = difflib.SequenceMatcher(None, _folded(namespace), _folded(NAMESPACE)).ratio()
    return namespace != NAMESPACE and ratio >= NAMESPACE_LOOK_ALIKE


def check_namespaces(full_keys: Iterable[str], known: Collection[str]) -> None:
    """Refuse a configured key (``namespace:name``) whose namespace looks like ours but is not:
    the program would never read it. Messages name the key, never its value."""
    for full in sorted(full_keys):
        namespace, _, name = full.partition(":")
        if looks_like_our_namespace(namespace):
            suggestion = closest_key(name, known)
            hint = (
                f"did you mean {key(suggestion)}?"
                if suggestion
                else f"this program reads {key('<name>')} only"
            )
            raise SettingsError(
                f"config key {full!r} is in namespace {namespace!r}, which this program does not "
                f"read: {hint} (an unknown key would silently leave the default in place)"
            )


def not_a_secret(full: str, because: str) -> SettingsError:
    """The error for a ``secure:`` value the program could not keep secret; never the value."""
    return SettingsError(
        f"{full} is set as a secret (secure: value), but it is not a secret setting: {because}; "
        f"set it without --secret"
    )


def check_keys(configured: Iterable[str], secret: Collection[str], known: Collection[str]) -> None:
    """Refuse, before any value is read, a configured key that is not ``known`` and a known key
    whose value is secret. Keys are short names (``minCapacity``); messages never hold values."""
    names = sorted(configured)
    for name in names:
        if name not in known:
            raise _unknown(name, known)
    for name in names:
        if name in secret:
            raise not_a_secret(
                key(name), "its value would be stored in plaintext in the resources' state"
            )
