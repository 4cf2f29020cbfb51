"""Preparers of the knowledge cases (datasets, documents, metadata): the state each case was recorded in.

Each takes the case's `World`, seeds it, fills the placeholders its request names and answers how to send it
(`Send()`: the dataset key, as the recording script sent every dataset call). The scratch dataset is in the state
the recording script had it in at that point: empty before the first upload, then holding `rec-a.md` (uploaded
with a process rule), later `rec-t.txt` and the metadata fields.
"""

from __future__ import annotations

from collections.abc import Callable

from dify_standin.tests.conformance.replay import Send
from dify_standin.tests.conformance.world import World

Preparer = Callable[[World], Send]


def _fresh_scratch(world: World) -> Send:
    world.scratch(rule=False)
    return Send()


def _scratch(world: World) -> Send:
    world.scratch()
    return Send()


def _scratch_with_a(world: World) -> Send:
    world.document(world.scratch(), "rec-a.md")
    return Send()


def _scratch_with_fields(world: World) -> Send:
    world.fields(world.scratch())
    return Send()


def _document_in_scratch(world: World, **fields) -> Send:
    dataset = world.scratch()
    world.fields(dataset)
    world.document(dataset, "rec-a.md", **fields)
    return Send()


def _indexing_document(world: World) -> Send:
    return _document_in_scratch(world, indexing_status="indexing")


def _waiting_document(world: World) -> Send:
    return _document_in_scratch(world, indexing_status="waiting")


def _text_document(world: World) -> Send:
    world.document(world.scratch(), "rec-t.txt", created_from_text=True)
    return Send()


def _deleted_document(world: World) -> Send:
    dataset = world.scratch()
    document = world.document(dataset, "rec-a.md")
    world.api.ds("DELETE", f"/datasets/{dataset}/documents/{document['id']}")
    return Send()


def _unknown_dataset(world: World) -> Send:
    world.unknown()
    world.ids["<document_id>"] = world.unknown("<unknown document>")
    return Send()


def _unknown_document(world: World) -> Send:
    dataset = world.scratch()
    world.fields(dataset)
    world.ids["<document_id>"] = world.unknown("<unknown document>")
    return Send()


def _in_progress(world: World) -> Send:
    status = world.body()["data"][0]["indexing_status"]
    world.document(world.scratch(), "rec-c.md", indexing_status=status)
    return Send()


def _unknown_batch(world: World) -> Send:
    world.scratch()
    world.ids["<batch>"] = "20261203000000000000"
    return Send()


def _during_indexing_phase(world: World) -> Send:
    """The note says which stage indexing-status reported just before the DELETE."""
    status = "splitting" if "splitting" in world.case.note else "parsing"
    world.document(world.videos(), "rec-v.md", indexing_status=status)
    return Send()


def _blue(world: World) -> Send:
    world.blue()
    return Send()


def _blue_document(world: World) -> Send:
    """The document the detail case read: `kb-blue` holding that document (as the detail shows it)."""
    detail = world.body()
    item = {**detail, "doc_metadata": detail.get("doc_metadata")}
    dataset = world.dataset_like("<dataset_id:blue>", world.body("dataset_get") or {"name": "kb-blue"}, [item])
    world.ids["<document_id>"] = world.api.admin.documents(dataset)[0]["id"]
    return Send()


def _datasets_like_the_list(world: World) -> Send:
    """Every dataset the list shows, created oldest first so the list has them in the recorded order."""
    for index, item in enumerate(reversed(world.body()["data"])):
        world.dataset_like(f"<dataset {index}>", item)
    return Send()


def _scratch_like_the_list(world: World) -> Send:
    world.documents_like(world.scratch(), world.body()["data"])
    return Send()


def _scratch_like_the_fields(world: World) -> Send:
    dataset = world.scratch()
    world.fields(dataset, tuple(field["name"] for field in world.body()["doc_metadata"]))
    return Send()


def _duplicate_dataset(world: World) -> Send:
    world.api.admin.create_dataset(world.case.request["body_shape"]["name"], indexing_technique="economy")
    return Send()


def _no_technique(world: World) -> Send:
    world.dataset("<dataset_id:no_technique>", "rec-notech")
    return Send()


def _partial_update_probe(world: World) -> Send:
    """`x-partial.txt` in `kb-videos` with `source_key=a, fingerprint=fp1` written without `partial_update`."""
    dataset = world.videos()
    fields = world.fields(dataset)
    document = world.document(dataset, "x-partial.txt")
    items = [{"id": fields["source_key"], "name": "source_key", "value": "a"}]
    items.append({"id": fields["fingerprint"], "name": "fingerprint", "value": "fp1"})
    operation = {"document_id": document["id"], "metadata_list": items, "partial_update": False}
    world.api.ds("POST", f"/datasets/{dataset}/documents/metadata", json={"operation_data": [operation]})
    return Send()


def _after_partial_update(world: World) -> Send:
    """The probe, then the recorded partial write of `fingerprint=fp2`; the list shows what the version kept."""
    _partial_update_probe(world)
    dataset, document = world.ids["<dataset_id:videos>"], world.ids["<document_id>"]
    item = {"id": world.ids["<metadata_id:fingerprint>"], "name": "fingerprint", "value": "fp2"}
    operation = {"document_id": document, "metadata_list": [item], "partial_update": True}
    world.api.ds("POST", f"/datasets/{dataset}/documents/metadata", json={"operation_data": [operation]})
    return Send()


def _nothing(world: World) -> Send:
    world.unknown()
    return Send()


def _blue_and_an_unknown_id(world: World) -> Send:
    world.blue()
    return _nothing(world)


def _scratch_with_a_and_an_unknown_id(world: World) -> Send:
    _scratch_with_a(world)
    return _nothing(world)


def _scratch_with_source_key(world: World) -> Send:
    world.fields(world.scratch(), ("source_key",))
    return Send()


PREPARERS: dict[str, Preparer] = {
    "datasets_list": _datasets_like_the_list,
    "datasets_list_limit_101": _datasets_like_the_list,
    "dataset_create": _nothing,
    "dataset_create_missing_name": _nothing,
    "dataset_create_without_technique": _nothing,
    "dataset_create_duplicate_name": _duplicate_dataset,
    "dataset_get": _blue,
    "dataset_get_non_uuid": _nothing,
    "dataset_get_unknown_id": _nothing,
    "dataset_metadata_list_blue": _blue,
    "documents_list": _blue,
    "documents_list_exact_multiple": _blue,
    "documents_list_keyword": _blue,
    "documents_list_limit_101": _blue,
    "documents_list_page_past_end": _blue,
    "documents_list_non_uuid_dataset": _nothing,
    "documents_list_unknown_dataset": _nothing,
    "documents_list_after_metadata": _scratch_like_the_list,
    "document_get_metadata_all": _blue_document,
    "document_get_unknown": _blue_and_an_unknown_id,
    "create_by_file_first": _fresh_scratch,
    "create_by_file_first_without_technique": _no_technique,
    "create_by_file_second": _scratch_with_a,
    "create_by_file_same_name_upsert": _scratch_with_a,
    "create_by_file_duplicate_false": _scratch_with_a,
    "create_by_file_no_data_field": _scratch_with_a,
    "create_by_file_no_file": _scratch_with_a,
    "create_by_file_slash_in_name": _scratch_with_a,
    "create_by_file_too_large": _scratch_with_a,
    "create_by_file_unsupported_type": _scratch_with_a,
    "create_by_text": _scratch_with_a,
    "create_by_text_without_technique": _scratch_with_a,
    "update_by_file": _scratch_with_a,
    "update_by_file_unknown_document": _scratch_with_a_and_an_unknown_id,
    "update_by_file_while_indexing": _indexing_document,
    "update_by_text": _text_document,
    "indexing_status_completed": _scratch_with_a,
    "indexing_status_in_progress": _in_progress,
    "indexing_status_unknown_batch": _unknown_batch,
    "document_delete": _scratch_with_a,
    "document_delete_twice": _deleted_document,
    "document_delete_unknown_dataset": _unknown_dataset,
    "delete_while_indexing": _waiting_document,
    "delete_during_indexing_phase": _during_indexing_phase,
    "metadata_create": _scratch_with_a,
    "metadata_create_second": _scratch_with_source_key,
    "metadata_create_duplicate_name": _scratch_with_fields,
    "metadata_create_builtin_name": _scratch,
    "metadata_create_bad_type": _scratch,
    "metadata_create_missing_name": _scratch,
    "metadata_list": _scratch_like_the_fields,
    "metadata_list_empty": _scratch,
    "document_metadata_set": _document_in_scratch,
    "document_metadata_unknown_field": _document_in_scratch,
    "document_metadata_unknown_document": _unknown_document,
    "document_metadata_unknown_dataset": _unknown_dataset,
    "document_metadata_missing_metadata_list": _document_in_scratch,
    "document_metadata_missing_operation_data": _document_in_scratch,
    "document_metadata_operation_data_not_list": _document_in_scratch,
    "x_document_metadata_partial_update": _partial_update_probe,
    "x_documents_list_after_partial_update": _after_partial_update,
    "x_metadata_builtin_dataset_route": _scratch,
    "x_metadata_builtin_legacy_route": _scratch,
}
