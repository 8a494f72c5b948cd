"""A Terraform state file holding a Pulumi stack's outputs, so a Terraform configuration that
reads the stack through ``terraform_remote_state`` (Alex's part 7 reads part 5 with the ``local``
backend) keeps working unchanged.

The file is a version-4 snapshot as hashicorp/terraform reads one
(``internal/states/statefile/version4.go``, ``type stateV4``): ``version``,
``terraform_version``, ``serial``, ``lineage``, root ``outputs`` (each a ``value`` and its
``type`` in go-cty's JSON form) and ``resources``, which is always empty: the file describes
outputs, never infrastructure, so nothing Terraform manages can be lost by rewriting it. A file
that tracks any resource (the user's own Terraform part 5, say) is never touched.

The file is written with ``envfile``'s rules (atomic, through a symlink to its target, owner and
mode kept; a directory, FIFO, read-only file or folder refused), the rules ``.env`` has.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from pathlib import Path

from alex_db.tools.shared import envfile
from alex_db.tools.shared.files import JSON_LIMIT

# internal/states/statefile/read.go reads formats 1-4 and refuses any other.
FORMAT_VERSION = 4
# Terraform before 0.15 refused a snapshot whose terraform_version was newer than itself
# (states/statefile/read.go until hashicorp/terraform dc2e7520e5, "states: Disable Terraform
# version check", first in v0.15.0); later versions read any version-4 snapshot. Every Alex
# part requires terraform >= 1.5, so the oldest version they accept is what the file claims:
# never newer than whichever Terraform the user runs.
WRITTEN_BY = "1.5.0"
# `pulumi stack output --json` prints a secret output as this string (pulumi/pulumi
# pkg/backend/display/json.go, massagePropertyValue): it is left out rather than written.
SECRET_PLACEHOLDER = "[secret]"
# Deeper than any stack output is nested (alex-db's are strings); json.loads reads about 990
# levels, more than Python's stack can walk again, so an output past this is left out.
NESTING_LIMIT = 64
# Terraform reads a snapshot with Go's encoding/json, which fills a struct field from any key
# equal to its name ignoring case, each rune folded as unicode.ToUpper(unicode.ToLower(r))
# (go/src/encoding/json/fold.go), the last such key winning: "Resources" and "reſources" are
# Terraform's "resources" too. These are the fields alex-db reads before it rewrites a file.
FIELDS_READ = ("version", "serial", "lineage", "resources")


def cty_type(value: object, depth: int = 0) -> str | list | None:
    """The go-cty type, in its JSON form (zclconf/go-cty ``cty/json/type.go``), that decodes
    ``value`` as it stands: None when no type can hold it (null has no type of its own, and a
    number that is not finite is not JSON) or it is nested deeper than NESTING_LIMIT."""
    if depth > NESTING_LIMIT:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number" if math.isfinite(value) else None
    if isinstance(value, list | dict):
        items = value.values() if isinstance(value, dict) else value
        types = [cty_type(item, depth + 1) for item in items]
        if any(t is None for t in types):
            return None
        if isinstance(value, dict):
            return ["object", dict(zip(value, types, strict=True))]
        return ["tuple", types]
    return None


def _holds_secret(value: object) -> bool:
    if isinstance(value, dict):
        return any(_holds_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_secret(item) for item in value)
    return value == SECRET_PLACEHOLDER


def state_outputs(outputs: Mapping[str, object]) -> dict[str, dict]:
    """Every output that is not secret and has a type, as ``outputStateV4`` holds it."""
    written = {}
    for name in sorted(outputs):
        value = outputs[name]
        kind = cty_type(value)
        if kind is not None and not _holds_secret(value):
            written[name] = {"value": value, "type": kind}
    return written


def go_folded(key: str) -> str:
    """``key`` as Go's encoding/json compares it with a field name: each character lower-cased,
    then upper-cased (a character whose mapping is not one character kept, as Go's simple case
    mapping keeps it)."""
    folded = []
    for char in key:
        upper = char.lower()[:1].upper()
        folded.append(upper if len(upper) == 1 else char)
    return "".join(folded)


def _resource_names(resources: list) -> str:
    names = []
    for item in resources[:3]:
        kind = item.get("type") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        names.append(f"{kind}.{name}" if isinstance(kind, str) and isinstance(name, str) else "?")
    shown = ", ".join(repr(n)[1:-1] for n in names)  # escaped: a name cannot forge a line
    return shown + (", …" if len(resources) > 3 else "")


def _previous(text: str) -> tuple[str, int] | None:
    """(lineage, serial) of the snapshot in ``text``, None for an empty file (no state yet:
    read.go's ErrNoState); an ``EnvFileError`` for anything that must not be replaced."""
    if not text:
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        reason = " ".join(str(error).split())
        raise envfile.EnvFileError(f"not a Terraform state file (not JSON: {reason})") from None
    if not isinstance(document, dict):
        raise envfile.EnvFileError('not a Terraform state file (no "version"); move it away first')
    tracked = [
        item
        for key, value in document.items()
        if go_folded(key) == "RESOURCES" and isinstance(value, list)
        for item in value
    ]
    if tracked:
        count = len(tracked)
        raise envfile.EnvFileError(
            f"it tracks {count} resource{'s' * (count != 1)} of a Terraform deployment "
            f"({_resource_names(tracked)}); run `terraform destroy` in its folder, or move "
            f"the file away, before alex-db writes the Pulumi stack's outputs there"
        )
    folded_fields = {go_folded(field): field for field in FIELDS_READ}
    for key in document:
        field = folded_fields.get(go_folded(key))
        if field is not None and key != field:
            raise envfile.EnvFileError(
                f'the key {json.dumps(key)[:40]}, which Terraform reads as "{field}" (it '
                f"ignores case): not a file alex-db wrote; move it away first"
            )
    if "version" not in document:
        raise envfile.EnvFileError('not a Terraform state file (no "version"); move it away first')
    resources = document.get("resources", [])
    version = document["version"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise envfile.EnvFileError(
            f"a Terraform state in format version {json.dumps(version)[:20]}, not "
            f"{FORMAT_VERSION}; move it away first"
        )
    if not isinstance(resources, list):
        raise envfile.EnvFileError('not a valid Terraform state ("resources" is not a list)')
    lineage, serial = document.get("lineage"), document.get("serial")
    # stateV4: serial is a uint64 and lineage a string; Terraform keeps both across rewrites.
    if not isinstance(serial, int) or isinstance(serial, bool) or not 0 <= serial < 2**64 - 1:
        raise envfile.EnvFileError('not a valid Terraform state ("serial" is not a whole number)')
    if not isinstance(lineage, str) or not lineage:
        raise envfile.EnvFileError('not a valid Terraform state (no "lineage")')
    return lineage, serial


def render(lineage: str, serial: int, outputs: dict[str, dict]) -> str:
    """The snapshot as Terraform writes one: fields in ``stateV4``'s order, two-space indent;
    ASCII, so a lone surrogate in an output (JSON allows the escape) cannot stop the write."""
    document = {
        "version": FORMAT_VERSION,
        "terraform_version": WRITTEN_BY,
        "serial": serial,
        "lineage": lineage,
        "outputs": outputs,
        "resources": [],
    }
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def updated(text: str | None, outputs: Mapping[str, object]) -> str | None:
    """The new text of the state file that said ``text`` (None: there is none), or None when it
    already holds exactly these outputs. A rewrite keeps the lineage and takes the next serial,
    as Terraform's own writer does only when the state changed (internal/states/statemgr/
    filesystem.go, WriteState); a new file gets a fresh random lineage (statemgr/lineage.go)."""
    written = state_outputs(outputs)
    previous = _previous(text or "")
    if previous is None:
        return render(str(uuid.uuid4()), 1, written)
    lineage, serial = previous
    if text == render(lineage, serial, written):
        return None
    return render(lineage, serial + 1, written)


def planned(path: Path, outputs: Mapping[str, object]) -> str | None:
    """What ``path`` (or its symlink's target) would say afterwards, None when it needs no
    change; raises ``EnvFileError``/``OSError`` for a file that must be left as it is."""
    return updated(envfile.read_existing(envfile.target_of(path), JSON_LIMIT), outputs)
