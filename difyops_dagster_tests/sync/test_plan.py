"""The plan is a pure function of the listing and the dataset, and it repairs whatever an interrupted run left.

Seed 000's defects are the cases: documents past the first page are seen (the plan gets them all), nested keys
and same-named files under two prefixes are distinct, unchanged files are not re-uploaded unless `push_all`.
"""

from __future__ import annotations

from difyops_dagster.sync.models import DatasetDocument, SourceItem
from difyops_dagster.sync.plan import build_sync_plan, deletion_ratio


def src(key: str, fp: str = "v1:e:1") -> SourceItem:
    return SourceItem(key, fp, key.replace("/", "%2F"), 1)


def doc(
    id_: str, key: str | None, fp: str | None = "v1:e:1", name: str | None = None, status: str = "completed"
) -> DatasetDocument:
    return DatasetDocument(id_, name or (key or id_).replace("/", "%2F"), status, status == "completed", key, fp)


def test_new_objects_are_created_and_unchanged_ones_left_alone():
    plan = build_sync_plan([src("a.md"), src("b.md")], [doc("1", "a.md")])
    assert [s.source_key for s in plan.create] == ["b.md"]
    assert [s.source_key for s in plan.unchanged] == ["a.md"]
    assert plan.write_count == 1


def test_push_all_re_uploads_unchanged_files():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md")], push_all=True)
    assert plan.update == ((src("a.md"), "1"),)


def test_a_changed_fingerprint_is_an_update_of_the_same_document():
    plan = build_sync_plan([src("a.md", "v1:new:1")], [doc("1", "a.md", "v1:old:1")])
    assert plan.update == ((src("a.md", "v1:new:1"), "1"),)


def test_documents_whose_key_left_the_bucket_are_deleted():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("2", "gone.md")])
    assert [d.id for d in plan.delete] == ["2"]
    assert deletion_ratio(plan) == 0.5


def test_same_file_name_under_two_prefixes_stays_two_documents():
    sources = [src("x/report.md"), src("y/report.md")]
    plan = build_sync_plan(sources, [doc("1", "x/report.md")])
    assert [s.source_key for s in plan.create] == ["y/report.md"]
    assert not plan.delete


def test_duplicates_for_one_key_keep_one_healthy_copy():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("2", "a.md")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("2",) and not repair.recreate
    assert [s.source_key for s in plan.unchanged] == ["a.md"]


def test_a_document_without_metadata_is_recreated_not_duplicated():
    """An upload killed before its metadata was written leaves an untagged document with the right name."""
    plan = build_sync_plan([src("a.md")], [doc("1", None, None, name="a.md")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1",) and repair.recreate
    assert not plan.create and not plan.delete


def test_a_document_whose_indexing_failed_is_deleted_and_created_again():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md", status="error")])
    (repair,) = plan.repair
    assert repair.delete_ids == ("1",) and repair.recreate and "indexing failed" in repair.reason


def test_foreign_documents_matching_no_object_are_deleted():
    plan = build_sync_plan([src("a.md")], [doc("1", "a.md"), doc("9", None, None, name="manual upload.pdf")])
    assert [d.id for d in plan.delete] == ["9"]


def test_an_empty_listing_plans_to_delete_everything_so_the_guard_can_refuse_it():
    plan = build_sync_plan([], [doc("1", "a.md"), doc("2", "b.md")])
    assert deletion_ratio(plan) == 1.0
