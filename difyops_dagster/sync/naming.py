"""S3 key <-> Dify document name.

Dify refuses names containing `/` or `\\` and cuts names at 200 characters (keeping the extension), while S3
keys nest and can be 1,024 bytes long. The mapping must be injective, because Dify upserts by name: two keys with
one name would be merged into one document (seed 000 uploaded base names, so `a/x.md` and `b/x.md` fought over
one document and nested files were re-created every run). And it should be readable in Dify's UI.

So: the key relative to the sync prefix, with `%`, `/` and `\\` percent-encoded (`team a/report.md` ->
`team a%2Freport.md`; `a/b.md` and `a%2Fb.md` stay apart; spaces, unicode and regex characters pass through
untouched: nothing here is a pattern). A name still over 200 characters keeps its extension and ends its stem
with `~` and 16 hex digits of the full key's SHA-256. `key_from_name` reverses every name that was not
shortened; the full key always travels in the document's `source_key` metadata, which is what the sync reads.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 200
MAX_EXTENSION = 16
DIGEST_CHARS = 16


def document_name(key: str, prefix: str = "") -> str:
    relative = key[len(prefix) :] if prefix and key.startswith(prefix) else key
    relative = relative.lstrip("/") or key
    name = relative.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(key.encode()).hexdigest()[:DIGEST_CHARS]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION or "%" in extension:
        stem, extension = name, ""
    suffix = f"~{digest}" + (f".{extension}" if extension else "")
    return stem[: MAX_NAME - len(suffix)] + suffix


_SHORTENED = re.compile(rf"~[0-9a-f]{{{DIGEST_CHARS}}}(\.[^.]{{1,{MAX_EXTENSION}}})?$")


def is_shortened(name: str) -> bool:
    return len(name) == MAX_NAME and _SHORTENED.search(name) is not None


def key_from_name(name: str, prefix: str = "") -> str | None:
    """The key a name was made from, or None for shortened names (their key is read from metadata)."""
    if is_shortened(name):
        return None
    return prefix + name.replace("%2F", "/").replace("%5C", "\\").replace("%25", "%")
