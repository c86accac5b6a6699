"""Reading a TOML file a user wrote (an audit definition, a gate rule set), with one-line errors.

A byte-order mark is tolerated (some editors write one), the file must be UTF-8 text of
reasonable size, and a folder or a missing file is named as such.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from twinaudit.errors import InputError

#: A TOML file larger than this is no hand-written definition.
MAX_BYTES = 16 * 1024 * 1024


def read_toml(path: Path, *, what: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """The parsed table of ``path``; ``what`` names the file in messages ("audit definition")."""
    if path.is_dir():
        raise error(f"{path}: is a directory (expected a TOML file: the {what})")
    if not path.is_file():
        raise error(f"{path}: {what} not found (expected a TOML file)")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise error(f"{path}: the {what} is larger than {MAX_BYTES // 2**20} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise error(f"{path}: the {what} is not UTF-8 text (byte {problem.start}: "
                    f"{problem.reason})") from None
    except OSError as problem:
        raise error(f"{path}: cannot read the {what}: {problem.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML ({problem})") from None
