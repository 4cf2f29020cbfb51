"""Hand-offs between sync steps are JSON that round-trips exactly: listings, dataset snapshots and plans."""

from __future__ import annotations

import json

import pytest

from difyops_dagster.sync.handoff import dump_handoff, load_handoff
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

SOURCE = SourceItem("docs/中文 文档.md", "v1:abc:12", "中文 文档.md", 12)
DOCUMENT = DatasetDocument("d1", "x.md", "error", False, "docs/x.md", None, "boom", True)
ARCHIVED = DatasetDocument("d5", "y.md", "completed", False, "docs/y.md", "v1:y:1", None, False, True)


@pytest.mark.parametrize(
    "value",
    [
        SourceListing((SOURCE,), (RejectedObject("docs/a.exe", 3, "type not supported: .exe"),)),
        DatasetSnapshot("ds", (DOCUMENT,)),
        SyncPlan(
            create=(SOURCE,),
            update=(Update(SOURCE, "d2", "content changed"),),
            delete=(Delete(DOCUMENT, "its source is gone"),),
            unchanged=(SOURCE,),
            repair=(Repair(SOURCE, ("d3", "d4"), True, "2 documents for one key"),),
            restore=(Restore(ARCHIVED, SOURCE, "archived"), Restore(ARCHIVED, None, "to delete")),
            dataset_size=7,
            rejected=(RejectedObject("docs/z.md", 1, "same key"),),
        ),
    ],
)
def test_every_hand_off_round_trips_through_json(value):
    data = dump_handoff(value)
    assert json.loads(data)["format"] == 2
    assert load_handoff(data) == value


def test_unicode_stays_readable_in_the_file():
    assert "中文 文档.md".encode() in dump_handoff(SourceListing((SOURCE,)))


def test_a_hand_off_of_another_format_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="materialize the upstream again"):
        load_handoff(b'{"format": 0, "kind": "sync_plan"}')
