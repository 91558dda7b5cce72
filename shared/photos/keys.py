"""Catalog keys: the only way an event may point at a photo.

An event never carries a URL (fetching one would let any publisher make our workers request
arbitrary addresses: server-side request forgery). It carries the key of an object that
`adgen catalog upload` stored under `catalog/`, and the key must stay inside that prefix.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from pydantic import AfterValidator, Field

CATALOG_PREFIX = "catalog/"
MAX_KEY_LENGTH = 256
# Path segments of safe characters, each starting with a letter or digit: no "", ".", "..",
# no leading "/", no "\\", no "%" escapes, no scheme ("http:" has a colon).
_KEY = re.compile(r"^catalog(/[A-Za-z0-9][A-Za-z0-9._-]*)+$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def check_catalog_key(key: str) -> str:
    """`key` if it names an object under `catalog/`; ValueError saying why not otherwise."""
    if not isinstance(key, str):
        raise ValueError("a catalog key is a string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"catalog key longer than {MAX_KEY_LENGTH} characters")
    if not key.startswith(CATALOG_PREFIX):
        raise ValueError(
            f"photo must be a key under {CATALOG_PREFIX!r} "
            "(from `adgen catalog upload`), not a URL or another path"
        )
    if ".." in key or not _KEY.fullmatch(key):
        raise ValueError(
            "catalog key may hold only letters, digits and . _ - in /-separated "
            "names (no '..', no empty names)"
        )
    return key


CatalogKey = Annotated[str, Field(max_length=MAX_KEY_LENGTH), AfterValidator(check_catalog_key)]


def safe_name(filename: str, max_len: int = 80) -> str:
    """A file name reduced to key-safe characters ("My Shoe (1).JPG" -> "My-Shoe-1-.JPG")."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("-", base)[-max_len:].strip("-.") or "photo"
    return name if name[0].isalnum() else "p" + name


def content_key(data: bytes, filename: str) -> str:
    """`catalog/<sha256 prefix>/<safe name>`: content addressed, so re-uploads are idempotent."""
    return check_catalog_key(
        f"{CATALOG_PREFIX}{hashlib.sha256(data).hexdigest()[:16]}/{safe_name(filename)}"
    )
