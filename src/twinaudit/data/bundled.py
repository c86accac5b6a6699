"""Data files bundled inside the package (gzip), verified against their published sha256.
"""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

from twinaudit.errors import TwinauditError


def read_bundled(filename: str, sha256: str) -> bytes:
    """The decompressed bytes of ``files/<filename>.gz``, checked against ``sha256``.

    The checksum is that of the raw, uncompressed file as published, so a corrupted or
    altered bundle is refused before anything is trained on it.
    """
    packed = resources.files("twinaudit.data").joinpath("files", f"{filename}.gz").read_bytes()
    raw = gzip.decompress(packed)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise TwinauditError(
            f"bundled {filename}: sha256 {digest} does not match the published {sha256}"
        )
    return raw
