"""Behaviours that differ between Dify versions, chosen by `--dify-version` (major.minor), all in one place.

"Newest" in shared/dify-api.md is modelled as 1.14 and later. The table is repeated in README.md.

| behaviour | versions |
|---|---|
| hyphen route aliases (`create-by-file`, `update-by-text`, ...); underscores work everywhere | >= 1.0 |
| error envelope carries `status` (0.x: `{code, message}` only) | >= 1.0 |
| delete document: 200 `{"result":"success"}` (0.x), 200 with body `204` (1.0-1.13), empty 204 (>= 1.14) | |
| `doc_metadata` in document lists and datasets; metadata routes exist | >= 1.1 |
| built-in fields route `/datasets/metadata/built-in` (1.1-1.7), `/datasets/{id}/metadata/built-in` (>= 1.8) | |
| `partial_update` honoured on `POST /documents/metadata` (else every write replaces all values) | >= 1.9 |
| `WWW-Authenticate: Bearer realm="api"` on 401 | >= 1.9 |
| console login sets cookies + CSRF token (else tokens in the body) | >= 1.9 |
| `PATCH /datasets/{id}/documents/{doc}` update route; `status` filter on the document list | >= 1.14 |
| a document without metadata lists `doc_metadata: []` (before: `null`) | >= 1.14 |
| unknown workflow run: 200 with every field null (< 1.14), 404 (>= 1.14) | |
| streamed `node_started` / `node_finished` carry `index: 1` for every node (1.7: 1, 2, ...) | >= 1.9 |
"""

from __future__ import annotations

from dataclasses import dataclass

NEWEST = (1, 14)


def parse_version(text: str) -> tuple[int, int]:
    parts = text.split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


@dataclass(frozen=True)
class Behaviour:
    version: tuple[int, int]

    @property
    def hyphen_routes(self) -> bool:
        return self.version >= (1, 0)

    @property
    def envelope_status(self) -> bool:
        return self.version >= (1, 0)

    @property
    def has_doc_metadata(self) -> bool:
        return self.version >= (1, 1)

    @property
    def dataset_built_in_route(self) -> bool:
        """`/datasets/{id}/metadata/built-in`; 1.1-1.7 served `/datasets/metadata/built-in`."""
        return self.version >= (1, 8)

    @property
    def legacy_built_in_route(self) -> bool:
        return self.has_doc_metadata and not self.dataset_built_in_route

    @property
    def has_partial_update(self) -> bool:
        return self.version >= (1, 9)

    @property
    def cookie_login(self) -> bool:
        return self.version >= (1, 9)

    @property
    def www_authenticate(self) -> bool:
        return self.version >= (1, 9)

    @property
    def has_patch_update(self) -> bool:
        return self.version >= NEWEST

    @property
    def has_status_filter(self) -> bool:
        return self.version >= NEWEST

    @property
    def empty_metadata_as_list(self) -> bool:
        return self.version >= NEWEST

    @property
    def run_detail_404(self) -> bool:
        return self.version >= NEWEST

    @property
    def delete_style(self) -> str:
        if self.version < (1, 0):
            return "result"
        return "body204" if self.version < NEWEST else "empty204"

    @property
    def stream_node_index_is_one(self) -> bool:
        """Recorded: 1.9.1 to 1.13.2 stream `index: 1` for every node, 1.7.2 counts 1, 2 (workflow_run_streaming)."""
        return self.version >= (1, 9)
