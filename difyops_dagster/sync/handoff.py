"""Hand-offs between the sync's steps as JSON files in the artifact store, not pickles.

Why an IO manager at all: `s3_objects` -> `sync_plan_*` -> `synced_dataset_*` pass real data (a listing of up to
100,000 objects, a plan). Dagster's default pickles it under `$DAGSTER_HOME/storage`, which breaks once steps
run in separate containers or pods and yields files nobody can read. This writes compact JSON (rows as arrays,
about 100 bytes per object) through the configured artifact store (local folder or S3, atomic writes), at
`sync/handoff/<asset>.json`: the file a person opens to see exactly what a step planned or applied. Like
Dagster's own UPath IO managers it keeps the latest materialization per asset; two syncs of one dataset pair
never overlap (runs.py: a later one lists the bucket only after the earlier one ended).
"""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
from pydantic import Field

from difyops_dagster.storage.resources import ArtifactStoreResource
from difyops_dagster.sync.models import (
    DatasetDocument,
    DatasetSnapshot,
    Delete,
    RejectedObject,
    Repair,
    Restore,
    SourceItem,
    SourceListing,
    SyncPlan,
    Update,
)

HANDOFF_PREFIX = "sync/handoff/"
FORMAT = 2


def _row(item: Any) -> tuple:
    """A slotted dataclass as a positional row (`dataclasses.astuple` deep-copies: too slow for 100,000)."""
    return tuple(getattr(item, name) for name in item.__slots__)


def dump_handoff(value: SourceListing | DatasetSnapshot | SyncPlan) -> bytes:
    if isinstance(value, SourceListing):
        body: dict[str, Any] = {
            "kind": "source_listing",
            "accepted": [_row(s) for s in value.accepted],
            "rejected": [_row(r) for r in value.rejected],
        }
    elif isinstance(value, DatasetSnapshot):
        body = {
            "kind": "dataset_snapshot",
            "dataset_id": value.dataset_id,
            "documents": [_row(d) for d in value.documents],
        }
    elif isinstance(value, SyncPlan):
        body = {
            "kind": "sync_plan",
            "dataset_size": value.dataset_size,
            "create": [_row(s) for s in value.create],
            "update": [[_row(u.source), u.document_id, u.reason] for u in value.update],
            "delete": [[_row(d.document), d.reason] for d in value.delete],
            "unchanged": [_row(s) for s in value.unchanged],
            "repair": [[_row(r.source), list(r.delete_ids), r.recreate, r.reason] for r in value.repair],
            "restore": [[_row(r.document), _row(r.source) if r.source else None, r.reason] for r in value.restore],
            "rejected": [_row(r) for r in value.rejected],
        }
    else:
        raise TypeError(f"no JSON hand-off for {type(value).__name__}")
    return json.dumps({"format": FORMAT, **body}, ensure_ascii=False, separators=(",", ":")).encode()


def load_handoff(data: bytes) -> SourceListing | DatasetSnapshot | SyncPlan:
    body = json.loads(data)
    if body.get("format") != FORMAT:
        raise ValueError(f"hand-off format {body.get('format')!r} is not {FORMAT}; materialize the upstream again")
    kind = body["kind"]
    if kind == "source_listing":
        return SourceListing(
            tuple(SourceItem(*row) for row in body["accepted"]),
            tuple(RejectedObject(*row) for row in body["rejected"]),
        )
    if kind == "dataset_snapshot":
        return DatasetSnapshot(body["dataset_id"], tuple(DatasetDocument(*row) for row in body["documents"]))
    if kind == "sync_plan":
        return SyncPlan(
            create=tuple(SourceItem(*row) for row in body["create"]),
            update=tuple(Update(SourceItem(*s), doc_id, reason) for s, doc_id, reason in body["update"]),
            delete=tuple(Delete(DatasetDocument(*d), reason) for d, reason in body["delete"]),
            unchanged=tuple(SourceItem(*row) for row in body["unchanged"]),
            repair=tuple(
                Repair(SourceItem(*s), tuple(ids), recreate, reason) for s, ids, recreate, reason in body["repair"]
            ),
            restore=tuple(
                Restore(DatasetDocument(*d), SourceItem(*s) if s else None, reason) for d, s, reason in body["restore"]
            ),
            dataset_size=body["dataset_size"],
            rejected=tuple(RejectedObject(*row) for row in body["rejected"]),
        )
    raise ValueError(f"unknown hand-off kind {kind!r}")


class SyncHandoffIOManager(dg.ConfigurableIOManager):
    """Stores the sync's listings, snapshots and plans as JSON in the artifact store (`sync/handoff/`)."""

    artifacts: ArtifactStoreResource = Field(description="Where the JSON files go (local folder or S3).")

    @staticmethod
    def _key(asset_key: dg.AssetKey) -> str:
        return HANDOFF_PREFIX + "/".join(asset_key.path) + ".json"

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        data = dump_handoff(obj)
        location = self.artifacts.get_store().put_bytes(self._key(context.asset_key), data, "application/json")
        context.add_output_metadata({"handoff": dg.MetadataValue.path(location), "handoff_bytes": len(data)})

    def load_input(self, context: dg.InputContext) -> Any:
        store = self.artifacts.get_store()
        key = self._key(context.asset_key)
        data = store.get_bytes(key)
        if data is None:
            raise dg.Failure(
                description=f"{context.asset_key.to_user_string()} has no hand-off at {store.location(key)}: "
                "materialize it (or the whole `sync` group) first",
                allow_retries=False,
            )
        return load_handoff(data)
