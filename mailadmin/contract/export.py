"""Write the generated files: atomically, mode 0640, never over a file a person edited.

Each file carries a header with the SHA-256 of its body. On the next export a file whose body
no longer matches its header (or that has no header) was edited by hand: the export stops
before writing anything unless forced, so a set of files is never half-replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o640
SECRETS_MODE = 0o600
SECRETS_FILE = ".mailadmin-secrets.json"
# After the "#!" line of a script, which must stay the first line.
_HEADER = re.compile(
    r"^(#![^\n]*\n)?(#|--) mailadmin export_maps: generated file, sha256 ([0-9a-f]{64})\n"
)


class HandEdited(Exception):
    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        super().__init__(", ".join(str(p) for p in paths))


@dataclass(frozen=True)
class Written:
    path: Path
    status: str  # "created", "updated", "unchanged"


def _comment(relative: str) -> str:
    return "--" if relative.endswith(".sql") else "#"


def with_header(relative: str, body: str) -> str:
    shebang = ""
    if body.startswith("#!"):
        shebang, _, body = body.partition("\n")
        shebang += "\n"
    digest = hashlib.sha256(body.encode()).hexdigest()
    comment = _comment(relative)
    return f"{shebang}{comment} mailadmin export_maps: generated file, sha256 {digest}\n{body}"


def is_hand_edited(text: str) -> bool:
    match = _HEADER.match(text)
    if not match:
        return True
    body = text[match.end() :]
    return hashlib.sha256(body.encode()).hexdigest() != match.group(3)


def atomic_write(path: Path, content: str, mode: int = FILE_MODE) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # before any byte is written: the secret is never readable to others
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_private_dir(path: Path) -> None:
    """Create the export folder 0750 (mkdir's mode is masked by the umask, so chmod after)."""
    if not path.exists():
        path.mkdir(parents=True)
        path.chmod(0o750)


def write_files(out_dir: Path, files: dict[str, str], *, force: bool = False) -> list[Written]:
    """Write every file of `files` under `out_dir`; refuse all if one was edited by hand."""
    make_private_dir(out_dir)
    planned = []
    edited = []
    for relative, body in files.items():
        path = out_dir / relative
        content = with_header(relative, body)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old is not None and old != content and is_hand_edited(old) and not force:
            edited.append(path)
        planned.append((path, content, old))
    if edited:
        raise HandEdited(edited)
    results = []
    for path, content, old in planned:
        if old == content:
            os.chmod(path, FILE_MODE)
            results.append(Written(path, "unchanged"))
            continue
        atomic_write(path, content)
        results.append(Written(path, "created" if old is None else "updated"))
    return results


# The doveadm HTTP API key's name in the secrets file: a role name has no "-", so it never
# collides with one.
DOVEADM_API_KEY = "doveadm-api-key"


def new_secret() -> str:
    """32 letters and digits: no character that a config file or a shell would quote."""
    return secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")


def kept_secrets(
    out_dir: Path, names: tuple[str, ...], *, rotate: tuple[str, ...] = ()
) -> dict[str, str]:
    """The secrets of `names`: made once, kept in a 0600 file beside the export; those in
    `rotate` are made anew. Entries of other names stay as they are."""
    path = out_dir / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for name in names:
        if name in rotate or not stored.get(name):
            stored[name] = new_secret()
            changed = True
    if changed:
        atomic_write(path, json.dumps(stored, indent=2, sort_keys=True) + "\n", SECRETS_MODE)
    return {name: stored[name] for name in names}


def role_passwords(
    out_dir: Path, roles: tuple[str, ...], *, rotate: bool = False
) -> dict[str, str]:
    """The read-only roles' passwords: made once, kept in a 0600 file beside the export."""
    return kept_secrets(out_dir, roles, rotate=roles if rotate else ())


def doveadm_api_key(out_dir: Path, *, rotate: bool = False) -> str:
    """The doveadm HTTP API key, kept in the same file as the role passwords."""
    names = (DOVEADM_API_KEY,)
    return kept_secrets(out_dir, names, rotate=names if rotate else ())[DOVEADM_API_KEY]
