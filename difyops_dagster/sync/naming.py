"""S3 key <-> Dify document name.

Dify refuses names containing `/` or `\\` and cuts names at 200 characters (keeping the extension), while S3
keys nest and can be 1,024 bytes long. The mapping must be injective, because Dify upserts by name: two keys with
one name would be merged into one document (seed 000 uploaded base names, so `a/x.md` and `b/x.md` fought over
one document and nested files were re-created every run). And Dify shows the name to end users in citations, so
it must read like the file's path.

So: the key relative to the sync prefix, with `/` written as `∕` (U+2215 DIVISION SLASH, which looks like a
slash) and `\\` as `⧵` (U+29F5 REVERSE SOLIDUS OPERATOR): `team a/report.md` -> `team a∕report.md`. Spaces,
unicode, `%` and regex characters pass through untouched (nothing here is a pattern). The two stand-ins are
characters keys practically never hold; one that does is escaped with `%` (`∕` -> `%∕`, `⧵` -> `%⧵`), and a
`%` is doubled only where it stands before `/`, `\\`, `∕`, `⧵` or `%`, so that reading a name back is never
ambiguous: `key_from_name(document_name(k)) == k` for every key, hence two keys never share a name. A leading
`/` of the relative key (`docs//x.md` under `docs/`) is kept (`∕x.md`), so it never collides with `docs/x.md`.
A name still over 200 characters keeps its extension and ends its stem with `~` and 16 hex digits of the full
key's SHA-256; `key_from_name` returns None for those (their key is read from metadata). The full key always
travels in the document's `source_key` metadata, which is what the sync matches documents by.

Documents named by the earlier scheme (`team a%2Freport.md`) carry the same `source_key`, so the plan finds them
and never uploads a second copy; they take the new name when their content next changes (an update renames the
document). Renaming an unchanged document would make Dify re-index it, so the sync does not do that on its own:
one run with `sync.push_all: true` renames every document at once.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 200
MAX_EXTENSION = 16
DIGEST_CHARS = 16
ESCAPE = "%"
SLASH, BACKSLASH = "\u2215", "\u29f5"
_WRITTEN = {"/": SLASH, "\\": BACKSLASH, SLASH: ESCAPE + SLASH, BACKSLASH: ESCAPE + BACKSLASH}
# A `%` before one of these would read as the start of an escape, so it is written `%%`.
_ESCAPE_BEFORE = frozenset({"/", "\\", SLASH, BACKSLASH, ESCAPE})


def _encode(relative: str) -> str:
    out = []
    for i, char in enumerate(relative):
        if char == ESCAPE:
            following = relative[i + 1 : i + 2]
            out.append(ESCAPE * 2 if following and following in _ESCAPE_BEFORE else ESCAPE)
        else:
            out.append(_WRITTEN.get(char, char))
    return "".join(out)


def _decode(name: str) -> str:
    out = []
    i = 0
    while i < len(name):
        char, following = name[i], name[i + 1 : i + 2]
        if char == ESCAPE and following in (ESCAPE, SLASH, BACKSLASH):
            out.append(following)
            i += 2
            continue
        out.append({SLASH: "/", BACKSLASH: "\\"}.get(char, char))
        i += 1
    return "".join(out)


def document_name(key: str, prefix: str = "") -> str:
    relative = key[len(prefix) :] if prefix and key.startswith(prefix) and len(key) > len(prefix) else key
    name = _encode(relative)
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(key.encode()).hexdigest()[:DIGEST_CHARS]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > MAX_EXTENSION or any(c in extension for c in (ESCAPE, SLASH)):
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
    return prefix + _decode(name)
