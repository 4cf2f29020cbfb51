"""Every difference between Dify versions that the client has to know, in one place.

Driven by `DifySettings.version` ("major.minor"); nothing else in the client compares versions.

| difference | versions |
|---|---|
| underscore document routes (`create_by_file`) are the originals; hyphen aliases | hyphens from 1.0 |
| `PATCH /datasets/{id}/documents/{doc}` replaces `update-by-file` (deprecated on newest) | from 1.14 |
| `doc_metadata` in document lists (the sync reads fingerprints from it) | from 1.1 |
| `partial_update` on metadata writes (older versions always replace every value) | from 1.9 |
| delete answers `{"result":"success"}` (0.x), 200 with body `204` (1.0-1.13), empty 204 (1.14+) | all accepted |
| unknown workflow run: 200 with null fields (< 1.14) or 404 (1.14+) | both read as "no such run" |
| console login: tokens in the body (<= 1.8) or cookies + CSRF header (1.9+) | see console.py |

Answers that differ by version are accepted in every known shape whatever the configured version: a
server upgraded before its settings were must not turn a successful delete into a failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DifyCompat:
    version: tuple[int, int]

    @classmethod
    def parse(cls, text: str) -> DifyCompat:
        major, minor, *_ = (str(text) + ".0").split(".")
        return cls((int(major), int(minor)))

    def _spell(self, hyphen: str) -> str:
        return hyphen if self.version >= (1, 0) else hyphen.replace("-", "_")

    def create_document_path(self, dataset_id: str, by: str) -> str:
        """`by` is `file` or `text`."""
        return f"/datasets/{dataset_id}/document/" + self._spell(f"create-by-{by}")

    def update_document_route(self, dataset_id: str, document_id: str, by: str) -> tuple[str, str]:
        """(method, path) of a document update; `by` is `file` or `text`.

        Newest Dify deprecates `update-by-file` in favour of `PATCH …/documents/{doc}` (same multipart body);
        the text update keeps its route.
        """
        if by == "file" and self.version >= (1, 14):
            return "PATCH", f"/datasets/{dataset_id}/documents/{document_id}"
        return "POST", f"/datasets/{dataset_id}/documents/{document_id}/" + self._spell(f"update-by-{by}")

    @property
    def lists_document_metadata(self) -> bool:
        """Document lists carry `doc_metadata` (and metadata fields exist at all)."""
        return self.version >= (1, 1)

    @property
    def has_partial_update(self) -> bool:
        """Metadata writes take `partial_update`; before, every write replaced all of a document's values."""
        return self.version >= (1, 9)

    @property
    def cookie_console_login(self) -> bool:
        return self.version >= (1, 9)

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
