"""The plan is a pure function of the sources and the dataset, and it repairs whatever an interrupted run left.

Seed 000's defects are the cases: documents past the first page are seen (the plan gets them all), nested keys
and same-named files under two prefixes are distinct, unchanged files are not re-uploaded unless `push_all`,
and an empty listing shows up as a 100 % deletion the guard can refuse. Issue 13's: Dify retrieves no disabled
or archived document, so those are brought back (restored) rather than left looking unchanged, an archived one
is un-archived before it is deleted (Dify answers 403 to deleting it), and one source colliding with another is
set aside on its own instead of failing the whole plan.
"""

from __future__ import annotations

import pytest

from difyops_dagster.sync.models import DatasetDocument, RejectedObject, SourceItem, Update
from difyops_dagster.sync.plan import build_sync_plan, deletion_ratio


def src(key: str, fp: str = "v1:e:1") -> SourceItem:
    return SourceItem(key, fp, key.replace("/", "%2F"), 1)


def doc(
    id_: str,
    key: str | None,
    fp: str | None = "v1:e:1",
    name: str | None = None,
    status: str = "completed",
    enabled: bool = True,
    archived: bool = False,
) -> DatasetDocument:
    available = status == "completed" and enabled and not archived
    name = name or (key or id_).replace("/", "%2F")
    return DatasetDocument(id_, name, status, available, key, fp, None, enabled, archived)


def test_new_objects_are_created_and_unchanged_ones_left_alone():
    plan = build_sync_plan([src("a.md"), src("b.md")], [doc("1", "a.md")])
    assert [s.source_key for s in plan.create] == ["b.md"]
    assert [s.source_key for s in plan.unchanged] == ["a.md"]
    assert plan.write_count == 1


def test_push_all_re_uploads_unchanged_files():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md")], push_all=True)
    assert plan.update == (Update(src("a.md"), "1", "push_all"),)


def test_a_changed_fingerprint_is_an_update_of_the_same_document():
    plan = build_sync_plan([src("a.md", "v1:new:1")], [doc("1", "a.md", "v1:old:1")])
    assert plan.update == (Update(src("a.md", "v1:new:1"), "1", "content changed"),)


def test_a_changed_document_still_indexing_is_updated_once_it_is_available():
    plan = build_sync_plan([src("a.md", "v1:new:1")], [doc("1", "a.md", "v1:old:1", status="indexing")])
    assert [u.document_id for u in plan.update] == ["1"] and not plan.repair


def test_an_unchanged_document_still_indexing_is_left_to_finish():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", status="waiting")])
    assert plan.write_count == 0 and len(plan.unchanged) == 1


def test_documents_whose_key_left_the_bucket_are_deleted():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("2", "gone.md")])
    assert [d.document.id for d in plan.delete] == ["2"]
    assert deletion_ratio(plan) == 0.5


def test_same_file_name_under_two_prefixes_stays_two_documents():
    sources = [src("x/report.md"), src("y/report.md")]
    plan = build_sync_plan(sources, [doc("1", "x/report.md")])
    assert [s.source_key for s in plan.create] == ["y/report.md"]
    assert not plan.delete


def test_duplicates_for_one_key_keep_one_healthy_current_copy():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", "v1:old:1"), doc("2", "a.md"), doc("3", "a.md")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1", "3") and not repair.recreate
    assert [s.source_key for s in plan.unchanged] == ["a.md"]


def test_duplicates_none_of_them_current_are_all_replaced():
    plan = build_sync_plan([src("a.md", "v1:new:1")], [doc("1", "a.md", "v1:old:1"), doc("2", "a.md", "v1:old:1")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1", "2") and repair.recreate
    assert plan.write_count == 3


def test_a_document_without_metadata_is_recreated_not_duplicated():
    """An upload killed before its metadata was written leaves an untagged document with the right name."""
    plan = build_sync_plan([src("a.md")], [doc("1", None, None, name="a.md")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1",) and repair.recreate
    assert not plan.create and not plan.delete


def test_an_untagged_twin_of_a_healthy_document_is_deleted():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("2", None, None, name="a.md")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("2",) and not repair.recreate


def test_a_document_whose_indexing_failed_is_deleted_and_created_again():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", status="error")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1",) and repair.recreate and "indexing failed" in repair.reason


def test_a_document_with_a_key_but_no_fingerprint_is_replaced():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", None)])
    (repair,) = plan.repair
    assert repair.recreate and repair.reason == "no fingerprint in its metadata"


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        ({"enabled": False}, ("enable",)),
        ({"archived": True}, ("un_archive",)),
        ({"enabled": False, "archived": True}, ("un_archive", "enable")),
    ],
    ids=["disabled", "archived", "both"],
)
def test_a_current_document_dify_does_not_serve_is_restored_not_left_unchanged(state, actions):
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", **state)])
    (restore,) = plan.restore
    assert restore.document.id == "1" and restore.actions == actions and restore.source == src("a.md")
    assert [s.source_key for s in plan.unchanged] == ["a.md"] and plan.write_count == 1 and not plan.repair


@pytest.mark.parametrize("state", [{"enabled": False}, {"archived": True}, {"enabled": False, "archived": True}])
def test_a_stale_document_dify_does_not_serve_is_restored_then_updated_in_place(state):
    plan = build_sync_plan([src("a.md", "v1:new:1")], [doc("1", "a.md", "v1:old:1", **state)])
    assert [r.document.id for r in plan.restore] == ["1"]
    assert plan.update == (Update(src("a.md", "v1:new:1"), "1", "content changed"),) and not plan.repair


def test_an_archived_document_to_delete_is_un_archived_first_and_a_disabled_one_is_deleted_as_it_is():
    documents = [doc("1", "gone.md", archived=True), doc("2", "also-gone.md", enabled=False), doc("3", "a.md")]
    plan = build_sync_plan([src("a.md")], documents)
    assert sorted(d.document.id for d in plan.delete) == ["1", "2"]
    (restore,) = plan.restore
    assert restore.document.id == "1" and restore.actions == ("un_archive",) and restore.source is None


def test_an_archived_duplicate_is_un_archived_so_it_can_be_deleted():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("2", "a.md", archived=True)])
    (repair,) = plan.repair
    assert repair.delete_ids == ("2",) and not repair.recreate
    assert [(r.document.id, r.actions) for r in plan.restore] == [("2", ("un_archive",))]


def test_foreign_documents_matching_no_object_are_deleted_when_mirroring():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("9", None, None, name="manual upload.pdf")])
    assert [d.document.id for d in plan.delete] == ["9"]


def test_without_mirror_only_the_given_sources_documents_are_touched():
    documents = [doc("1", "a.md", "v1:old:1"), doc("2", "other.md"), doc("3", None, None, name="manual.pdf")]
    plan = build_sync_plan([src("a.md")], documents, mirror=False)
    assert not plan.delete and [u.document_id for u in plan.update] == ["1"]


def test_an_empty_listing_plans_to_delete_everything_so_the_guard_can_refuse_it():
    plan = build_sync_plan([], [doc("1", "a.md"), doc("2", "b.md")])
    assert deletion_ratio(plan) == 1.0


def test_repairs_do_not_count_as_deletions_for_the_guard():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", status="error")])
    assert deletion_ratio(plan) == 0.0 and plan.delete_count == 1


def test_a_source_whose_document_name_another_has_is_set_aside_and_the_rest_is_planned():
    sources = [SourceItem("a", "f", "same.md", 1), SourceItem("b", "f", "same.md", 2), SourceItem("c", "f", "c.md", 1)]
    plan = build_sync_plan(sources, [])
    assert [s.source_key for s in plan.create] == ["a", "c"]
    (rejected,) = plan.rejected
    assert rejected == RejectedObject("b", 2, "same document name 'same.md' as 'a' (Dify would merge them): not synced")


def test_a_plan_over_many_pages_sees_every_document():
    """Seed 000 read 20 documents and re-created the rest; the plan works on the whole snapshot."""
    sources = [src(f"{i:04d}.md") for i in range(2500)]
    documents = [doc(str(i), f"{i:04d}.md") for i in range(2500)]
    plan = build_sync_plan(sources, documents)
    assert plan.write_count == 0 and len(plan.unchanged) == 2500
