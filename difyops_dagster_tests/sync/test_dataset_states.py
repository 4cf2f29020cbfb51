"""Disabled and archived documents (issue 13): Dify retrieves neither, so a colour holding one must not pass for
mirroring the bucket, and an archived one must not freeze the sync (Dify answers 403 `archived_document_immutable`
to deleting it, service_api/dataset/document.py).

The standby colour is put into each state through Dify's own status route (`PATCH /datasets/{id}/documents/status/
{action}`, as an operator's click in Dify's UI does), with current and with stale content. The next sync brings
every one back through the same route (`un_archive` before `enable`; Dify holds a document for its index task
after each, so the second is refused for a moment and asked again), updates the stale ones in place, deletes the
unwanted one after un-archiving it, counts them, and promotes. When Dify refuses to restore, the document is left
unserved and reported, its source gets a fresh copy, and the colour is still promoted.
"""

from __future__ import annotations

import requests

from difyops_dagster_tests.hardening.crashes import dataset_documents

FILES = {f"{name}.md": f"{name}, first version" for name in ("a", "b", "c", "d", "e", "gone")}


def set_status(world, dataset_id: str, action: str, keys: list[str]) -> None:
    ids = [d["id"] for d in world.documents(dataset_id) if d["metadata"].get("source_key") in keys]
    answer = requests.patch(
        f"{world.standin.api_url}/datasets/{dataset_id}/documents/status/{action}",
        json={"document_ids": ids},
        headers={"Authorization": f"Bearer {world.standin.dataset_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def blue_is_standby(world) -> None:
    """blue synced from FILES, then green from FILES plus one more file: green serves, blue is next."""
    for key, body in FILES.items():
        world.put(key, body)
    assert world.run().success
    world.put("f.md", "f")
    assert world.run().success and world.active() == "green"


def served(world, dataset_id: str) -> dict[str, str]:
    """source key -> text of every document Dify serves (enabled, not archived, indexed)."""
    return {
        d["metadata"]["source_key"]: d["text"]
        for d in dataset_documents(world.standin.admin, dataset_id)
        if d["enabled"] and not d["archived"] and d["indexing_status"] == "completed"
    }


def test_disabled_and_archived_documents_are_restored_updated_or_deleted_and_counted(world):
    blue_is_standby(world)
    set_status(world, world.blue, "disable", ["a.md", "c.md", "e.md"])
    set_status(world, world.blue, "archive", ["b.md", "c.md", "d.md", "gone.md"])
    ids = {d["metadata"]["source_key"]: d["id"] for d in world.documents(world.blue)}
    for key in ("c.md", "d.md", "e.md"):
        world.put(key, f"{key}, second version")
    world.delete("gone.md")
    world.standin.admin.set_indexing(seconds=0.3)  # Dify re-indexes after each un_archive / enable

    result = world.run()

    assert result.success and world.active() == "blue"
    expected = {key: body for key, body in FILES.items() if key != "gone.md"}
    expected |= {"f.md": "f", **{key: f"{key}, second version" for key in ("c.md", "d.md", "e.md")}}
    assert served(world, world.blue) == expected
    documents = world.documents(world.blue)
    assert len(documents) == len(expected), "nothing left behind, nothing twice"
    kept = {d["metadata"]["source_key"]: d["id"] for d in documents}
    assert all(kept[key] == ids[key] for key in ("a.md", "b.md", "c.md", "d.md", "e.md")), "restored in place"
    plan = result.asset_materializations_for_node("sync_plan_blue")[0].metadata
    synced = result.asset_materializations_for_node("synced_dataset_blue")[0].metadata
    assert plan["restore"].value == 6 and synced["restored"].value == 6 and synced["unserved"].value == 0
    assert plan["update"].value == 3 and plan["delete"].value == 1


def test_a_document_dify_will_not_restore_is_reported_and_never_freezes_the_sync(world):
    blue_is_standby(world)
    set_status(world, world.blue, "archive", ["a.md", "gone.md"])
    world.delete("gone.md")
    world.standin.admin.set_faults(
        [{"method": "PATCH", "path": r"/status/un_archive$", "status": 400, "code": "invalid_action",
          "message": "Document is locked by a retention policy."}]
    )  # fmt: skip

    result = world.run()

    assert result.success and world.active() == "blue", "the rest of the dataset is promoted"
    assert served(world, world.blue)["a.md"] == FILES["a.md"], "its source got a fresh, served copy"
    assert "gone.md" not in served(world, world.blue)
    archived = sorted(d["metadata"]["source_key"] for d in world.documents(world.blue) if d["archived"])
    assert archived == ["a.md", "gone.md"], "left where they are, unserved"
    (warning,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "unserved_documents"]
    assert not warning.passed and warning.metadata["immovable"].value == 2
    assert "Document is locked by a retention policy" in warning.metadata["examples"].value
