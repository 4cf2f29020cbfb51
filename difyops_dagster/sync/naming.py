"""S3 key <-> Dify document name.

Dify refuses names containing `/` or `\\` and cuts names at 200 characters, while S3 keys nest and can be
1,024 bytes long. The mapping must be injective (two keys with one name would be merged by Dify's upsert by
name) and readable. So: the key relative to the sync prefix, with `%`, `/` and `\\` percent-encoded (the
same file name under two prefixes stays two names; `a/b.md` and `a%2Fb.md` stay apart); a name still over
200 characters keeps its extension and ends its stem with `~` and 12 hex digits of the key's SHA-256. The
full key always travels in the document's `source_key` metadata, which is what the sync reads back.
"""

from __future__ import annotations

import hashlib

MAX_NAME = 200


def document_name(key: str, prefix: str = "") -> str:
    relative = key[len(prefix) :] if prefix and key.startswith(prefix) else key
    name = relative.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 16:
        stem, extension = name, ""
    suffix = f"~{digest}" + (f".{extension}" if extension else "")
    return stem[: MAX_NAME - len(suffix)] + suffix


def key_from_name(name: str, prefix: str = "") -> str | None:
    """The key a name was made from, or None for shortened names (those are read from metadata instead)."""
    if len(name) == MAX_NAME and "~" in name:
        return None
    return prefix + name.replace("%2F", "/").replace("%5C", "\\").replace("%25", "%")
