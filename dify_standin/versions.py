"""Behaviours that differ between Dify versions, chosen by `--dify-version` (major.minor).

| behaviour | versions |
|---|---|
| `doc_metadata` in document lists and metadata routes | >= 1.1 |
| `partial_update` honoured on `POST /documents/metadata` (else every write replaces all values) | >= 1.9 |
| console login sets cookies + CSRF token (else tokens in the body) | >= 1.9 |
| delete document: `{"result":"success"}` 200 (0.x), body `204` with 200 (1.0-1.13), empty 204 (>= 1.14) | |
| `PATCH /datasets/{id}/documents/{doc}` update route | >= 1.14 |
| unknown workflow run: 200 with every field null (< 1.14), 404 (>= 1.14) | |
| `WWW-Authenticate: Bearer realm="api"` on 401 | >= 1.9 |
"""

from __future__ import annotations

from dataclasses import dataclass


def parse_version(text: str) -> tuple[int, int]:
    parts = text.split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


@dataclass(frozen=True)
class Behaviour:
    version: tuple[int, int]

    @property
    def has_doc_metadata(self) -> bool:
        return self.version >= (1, 1)

    @property
    def has_partial_update(self) -> bool:
        return self.version >= (1, 9)

    @property
    def cookie_login(self) -> bool:
        return self.version >= (1, 9)

    @property
    def has_patch_update(self) -> bool:
        return self.version >= (1, 14)

    @property
    def run_detail_404(self) -> bool:
        return self.version >= (1, 14)

    @property
    def www_authenticate(self) -> bool:
        return self.version >= (1, 9)

    @property
    def delete_style(self) -> str:
        if self.version < (1, 0):
            return "result"
        return "body204" if self.version < (1, 14) else "empty204"
