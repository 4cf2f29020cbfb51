"""Every difference between Dify versions that the client has to know, in one place.

Dify changes its API at patch level (1.9.1 -> 1.9.2, 1.11.1 -> 1.11.2), so versions are `(major, minor, patch)`.
The version comes from the server itself where it tells (`GET /v1/` answers `server_version` on every 1.x, see
`server_version_from_index`), else from `dify.version`; `resolve_version` decides and says why.

| difference | versions (shared/dify-api.md §10, checked in Dify's source and on running servers) |
|---|---|
| underscore document routes (`create_by_file`) are the originals; hyphen aliases | hyphens from 1.0.0 |
| `PATCH /datasets/{id}/documents/{doc}` replaces `update-by-file` (deprecated on newest) | from 1.14 (newest) |
| `doc_metadata` in document lists (the sync reads fingerprints from it) | from 1.1.0 |
| `partial_update` on metadata writes (older versions always replace every value) | from 1.10.1 |
| console login password sent base64-encoded (a plain one: 401 "Invalid encrypted data") | from 1.11.2 |
| console login: tokens in the body / cookies + `X-CSRF-Token` | <= 1.9.1 / >= 1.9.2 (read off the answer) |
| metadata write answers bare `200` / `{"result":"success"}` | 1.1.0-1.8.1 / >= 1.9.0 (both accepted) |
| delete answers `{"result":"success"}`, 200 with body `204`, empty 204 | <= 1.3 / 1.4-1.12 / >= 1.13.0 (all accepted) |
| unknown workflow run: 200 with null fields / 404 | <= 1.12 / >= 1.13.1 (both read as "no such run") |

Answers that differ by version are accepted in every known shape whatever the version: a server upgraded
before its settings were must not turn a successful delete into a failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Version = tuple[int, int, int]
# The newest behaviour known (Dify's own OpenAPI description, after the last recorded release).
NEWEST: Version = (1, 14, 0)
# Spoken when neither the server nor `dify.version` tells: the newest release recorded answering the product's
# calls (shared/dify-recordings), not the newest description, whose routes older servers lack.
FALLBACK: Version = (1, 13, 2)
AUTO = "auto"
_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> Version | None:
    """`1.13.2` -> (1, 13, 2); `1.13` -> (1, 13, 0); a suffix (`1.13.2-fix1`) is ignored; None if no version."""
    match = _VERSION.match(str(text))
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def server_version_from_index(body: Any) -> Version | None:
    """The version in the service API's index (`GET /v1/`: `{"welcome", "api_version", "server_version"}`;
    `api/controllers/service_api/index.py`, in every 1.x)."""
    if not isinstance(body, dict):
        return None
    return parse_version(str(body.get("server_version") or ""))


@dataclass(frozen=True)
class ResolvedVersion:
    version: Version
    source: str  # "server", "settings" or "default"
    warning: str | None = None


def resolve_version(configured: str, reported: Version | None) -> ResolvedVersion:
    """The version to speak: the server's own report wins (it cannot be stale); `dify.version` is used when the
    server does not tell. A configured version that disagrees with the server's is a warning naming the setting.

    A configured `major.minor` agrees with any patch of it: it says what the operator knows, not a patch.
    """
    wanted = None if configured == AUTO else parse_version(configured)
    if reported is not None:
        warning = None
        if wanted is not None and not _agrees(configured, wanted, reported):
            warning = (
                f"dify.version is {configured!r} but the Dify server reports {format_version(reported)} "
                f"(GET /v1/); following the server. Set dify.version to {format_version(reported)} or to auto."
            )
        return ResolvedVersion(reported, "server", warning)
    if wanted is not None:
        return ResolvedVersion(wanted, "settings")
    return ResolvedVersion(FALLBACK, "default")


def _agrees(configured: str, wanted: Version, reported: Version) -> bool:
    if configured.count(".") >= 2:
        return wanted == reported
    return wanted[:2] == reported[:2]


@dataclass(frozen=True)
class DifyCompat:
    version: Version

    @classmethod
    def parse(cls, text: str) -> DifyCompat:
        """From `dify.version` alone (`auto` or unparseable: the fallback release)."""
        return cls(parse_version(text) or FALLBACK)

    def _spell(self, hyphen: str) -> str:
        return hyphen if self.version >= (1, 0, 0) else hyphen.replace("-", "_")

    def create_document_path(self, dataset_id: str, by: str) -> str:
        """`by` is `file` or `text`."""
        return f"/datasets/{dataset_id}/document/" + self._spell(f"create-by-{by}")

    def update_document_route(self, dataset_id: str, document_id: str, by: str) -> tuple[str, str]:
        """(method, path) of a document update; `by` is `file` or `text`.

        Newest Dify deprecates `update-by-file` in favour of `PATCH …/documents/{doc}` (same multipart body);
        the text update keeps its route.
        """
        if by == "file" and self.version >= NEWEST:
            return "PATCH", f"/datasets/{dataset_id}/documents/{document_id}"
        return "POST", f"/datasets/{dataset_id}/documents/{document_id}/" + self._spell(f"update-by-{by}")

    @property
    def lists_document_metadata(self) -> bool:
        """Document lists carry `doc_metadata` (and metadata fields exist at all)."""
        return self.version >= (1, 1, 0)

    @property
    def has_partial_update(self) -> bool:
        """Metadata writes take `partial_update`; before, every write replaced all of a document's values
        (`MetadataService.update_documents_metadata` reads the flag from 1.10.1)."""
        return self.version >= (1, 10, 1)

    @property
    def base64_console_password(self) -> bool:
        """From 1.11.2 the console login decodes the password field as base64 before checking it (the web UI
        encodes it); a plain password is refused with 401 "Invalid encrypted data"."""
        return self.version >= (1, 11, 2)

    @staticmethod
    def metadata_written(body: Any) -> bool:
        """A metadata write's success answer: `{"result":"success"}` (>= 1.9.0) or the bare number 200
        (1.1.0-1.8.1: `DocumentMetadataEditServiceApi.post` ends `return 200`)."""
        return body == 200 or (isinstance(body, dict) and body.get("result") == "success")

    @staticmethod
    def delete_succeeded(status: int, body: str) -> bool:
        """Whether a DELETE's answer means "deleted", in any version's shape (see the table)."""
        if status == 204:
            return True
        if status != 200:
            return False
        text = body.strip()
        if text in ("", "204"):
            return True
        try:
            parsed = json.loads(text)
        except ValueError:
            return False
        return parsed == 204 or (isinstance(parsed, dict) and parsed.get("result") == "success")

    @staticmethod
    def known_run(status: int, body: Any) -> dict | None:
        """The run detail body, or None when Dify says it has no such run (404, or 200 with every field null)."""
        if status == 404 or not isinstance(body, dict) or body.get("id") is None:
            return None
        return body
