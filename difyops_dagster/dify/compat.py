"""Every difference between Dify versions that the client has to know, in one place.

| difference | versions |
|---|---|
| underscore document routes (`create_by_file`) are the originals; hyphen aliases | hyphens from 1.0 |
| `PATCH /datasets/{id}/documents/{doc}` replaces `update-by-file` / `update-by-text` | from 1.14 |
| `doc_metadata` in document lists (the sync reads fingerprints from it) | from 1.1 |
| `partial_update` on metadata writes (older versions always replace every value) | from 1.9 |
| delete answers `{"result":"success"}` (0.x), 200 with body `204` (1.0-1.13), empty 204 (1.14+) | all accepted |
| unknown workflow run: 200 with null fields (< 1.14) or 404 (1.14+) | both read as "no such run" |
| console login: tokens in the body (<= 1.8) or cookies + CSRF header (1.9+) | see console.py |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DifyCompat:
    version: tuple[int, int]

    @classmethod
    def parse(cls, text: str) -> DifyCompat:
        major, minor, *_ = (text + ".0").split(".")
        return cls((int(major), int(minor)))

    def _spell(self, hyphen: str) -> str:
        return hyphen if self.version >= (1, 0) else hyphen.replace("-", "_")

    def create_document_path(self, dataset_id: str, by: str) -> str:
        return f"/datasets/{dataset_id}/document/" + self._spell(f"create-by-{by}")

    def update_document_route(self, dataset_id: str, document_id: str, by: str) -> tuple[str, str]:
        """(method, path) of a document update; `by` is `file` or `text`."""
        if by == "file" and self.version >= (1, 14):
            return "PATCH", f"/datasets/{dataset_id}/documents/{document_id}"
        return "POST", f"/datasets/{dataset_id}/documents/{document_id}/" + self._spell(f"update-by-{by}")

    @property
    def lists_document_metadata(self) -> bool:
        return self.version >= (1, 1)

    @property
    def has_partial_update(self) -> bool:
        return self.version >= (1, 9)

    @property
    def cookie_console_login(self) -> bool:
        return self.version >= (1, 9)
