"""Models are parsed tolerantly: fields newer Dify versions add are ignored, optional fields a version leaves
out get neutral defaults, and the shapes that differ by version (metadata as a list of {name, value},
run inputs as a JSON string) come out as plain Python values.
"""

from __future__ import annotations

import pytest

from difyops_dagster.dify.models import (
    AppParameters,
    Dataset,
    Document,
    IndexingStatus,
    WorkflowLog,
    WorkflowRun,
)

DOCUMENT_1_13 = {
    "id": "d1",
    "position": 1,
    "data_source_type": "upload_file",
    "data_source_info": {"upload_file_id": "f1"},
    "name": "notes.md",
    "created_from": "api",
    "created_at": 1_760_000_000,
    "tokens": 12,
    "indexing_status": "completed",
    "error": None,
    "enabled": True,
    "archived": False,
    "display_status": "available",
    "word_count": 40,
    "hit_count": 0,
    "doc_form": "text_model",
    "doc_metadata": [
        {"id": "m1", "name": "source_key", "type": "string", "value": "docs/notes.md"},
        {"id": "m2", "name": "size", "type": "number", "value": 40},
        {"id": "m3", "name": "checked", "type": "time", "value": None},
    ],
    "summary_index_status": None,  # newer fields
    "need_summary": False,
}


def test_document_metadata_maps_each_field_name_to_its_value():
    document = Document.from_json(DOCUMENT_1_13)
    assert document.metadata == {"source_key": "docs/notes.md", "size": 40, "checked": None}
    assert (document.id, document.name, document.word_count, document.is_available) == ("d1", "notes.md", 40, True)


def test_a_document_from_a_version_without_doc_metadata_or_display_status_gets_defaults():
    document = Document.from_json({"id": "d1", "name": "a.md", "indexing_status": "completed", "enabled": False})
    assert document.metadata == {}
    assert document.display_status is None
    assert not document.is_available  # derived from status, enabled and archived when display_status is absent


def test_a_document_still_indexing_is_not_available():
    assert not Document.from_json(
        {**DOCUMENT_1_13, "indexing_status": "indexing", "display_status": "indexing"}
    ).is_available


def test_dataset_fields_newer_versions_add_are_ignored_and_metadata_fields_are_kept():
    dataset = Dataset.from_json(
        {
            "id": "ds",
            "name": "kb",
            "document_count": 3,
            "doc_metadata": [{"id": "m1", "name": "etag", "type": "string"}],
            "chunk_structure": "text_model",
            "total_documents": 3,
            "retrieval_model_dict": {"search_method": "semantic_search"},
        }
    )
    assert (dataset.name, dataset.document_count, dataset.indexing_technique) == ("kb", 3, None)
    assert [(f.name, f.type) for f in dataset.metadata_fields] == [("etag", "string")]


def test_indexing_status_is_finished_on_completed_error_paused_or_stopped():
    finished = [IndexingStatus.from_json({"id": "d", "indexing_status": s}).finished for s in ("completed", "error")]
    waiting = [IndexingStatus.from_json({"id": "d", "indexing_status": s}).finished for s in ("waiting", "indexing")]
    assert finished == [True, True] and waiting == [False, False]
    assert IndexingStatus.from_json({"id": "d", "indexing_status": "paused"}).finished


def test_run_detail_inputs_sent_as_a_json_string_are_decoded():
    run = WorkflowRun.from_json({"id": "r", "status": "succeeded", "inputs": '{"query": "hi"}', "finished_at": None})
    assert run.inputs == {"query": "hi"} and run.finished_at is None
    assert WorkflowRun.from_json({"id": "r", "status": "failed", "inputs": "not json"}).inputs == {"_raw": "not json"}


def test_a_blocking_run_result_with_newer_fields_parses():
    run = WorkflowRun.from_json(
        {
            "id": "r",
            "workflow_id": "w",
            "status": "partial-succeeded",
            "outputs": {"a": 1},
            "error": "",
            "elapsed_time": 1.5,
            "total_tokens": 9,
            "total_steps": 3,
            "created_at": 1,
            "finished_at": 2,
            "exceptions_count": 1,
            "files": [],
            "created_by": {"id": "u"},
        }
    )
    assert (run.status, run.error, run.outputs, run.finished_at) == ("partial-succeeded", None, {"a": 1}, 2)


def test_a_log_row_reads_its_run_and_who_started_it():
    log = WorkflowLog.from_json(
        {
            "id": "l1",
            "workflow_run": {
                "id": "r1",
                "version": "2026-11-01 10:00:00",
                "status": "failed",
                "error": "boom",
                "elapsed_time": 2.5,
                "total_tokens": 7,
                "total_steps": 4,
                "created_at": 100,
                "finished_at": 103,
                "exceptions_count": 0,
                "triggered_from": "app-run",
            },
            "created_from": "service-api",
            "created_by_role": "end_user",
            "created_by_account": None,
            "created_by_end_user": {"id": "e", "type": "service_api", "is_anonymous": False, "session_id": "u-7"},
            "created_at": 100,
            "details": None,
        }
    )
    assert (log.run_id, log.status, log.error, log.created_at, log.finished_at) == ("r1", "failed", "boom", 100, 103)
    assert (log.end_user_session_id, log.account_email, log.created_from) == ("u-7", None, "service-api")


def test_parameters_read_every_input_kind_and_ignore_the_rest_of_the_payload():
    parameters = AppParameters.from_json(
        {
            "opening_statement": "",
            "user_input_form": [
                {"text-input": {"label": "Query", "variable": "query", "required": True, "max_length": 48}},
                {"select": {"label": "Tone", "variable": "tone", "required": False, "options": ["dry", "warm"]}},
                {"number": {"label": "N", "variable": "n", "required": False, "default": 3}},
            ],
            "file_upload": {"image": {"enabled": False}},
            "system_parameters": {"file_size_limit": 15},
        }
    )
    kinds = [(f.variable, f.kind, f.required, f.max_length, f.options, f.default) for f in parameters.user_input_form]
    assert kinds == [
        ("query", "text-input", True, 48, (), None),
        ("tone", "select", False, None, ("dry", "warm"), None),
        ("n", "number", False, None, (), 3),
    ]


# The run detail as real Dify answered it (shared/dify-recordings/<version>/workflow_run_detail.json).
RUN_DETAIL_1_7_2 = {
    "id": "r1",
    "workflow_id": "w1",
    "status": "succeeded",
    "inputs": '{"query": "recording blocking", "sys.files": [], "sys.user_id": "rec-user", "sys.app_id": "a1"}',
    "outputs": '{"answer": "recording blocking"}',  # a JSON string on 1.7.2, 1.9.1 and 1.11.1
    "error": None,
    "total_steps": 2,
    "total_tokens": 0,
    "created_at": 1796319076,
    "finished_at": 1796319076,
    "elapsed_time": 0.058437,
}
RUN_DETAIL_1_13_2 = {**RUN_DETAIL_1_7_2, "outputs": {"answer": "recording blocking"}}


@pytest.mark.parametrize("body", [RUN_DETAIL_1_7_2, RUN_DETAIL_1_13_2], ids=["outputs-json-text", "outputs-object"])
def test_run_detail_outputs_read_the_same_whether_sent_as_json_text_or_as_an_object(body):
    run = WorkflowRun.from_json(body)
    assert run.outputs == {"answer": "recording blocking"}
    assert run.inputs == {"query": "recording blocking"}  # Dify's own `sys.*` variables are not the run's inputs


@pytest.mark.parametrize(
    "created_at",
    [
        1_700_000_000,
        "1700000000",
        "2023-11-14T22:13:20",
        "2023-11-14T22:13:20+00:00",
        "Tue, 14 Nov 2023 22:13:20 -0000",
    ],
)
def test_run_detail_timestamps_of_1_0_and_1_1_are_date_time_strings_read_as_unix_seconds(created_at):
    run = WorkflowRun.from_json({**RUN_DETAIL_1_13_2, "created_at": created_at, "finished_at": created_at})
    assert (run.created_at, run.finished_at) == (1_700_000_000, 1_700_000_000)


def test_outputs_that_are_not_an_object_are_kept_visibly_rather_than_dropped():
    assert WorkflowRun.from_json({**RUN_DETAIL_1_13_2, "outputs": "plain text"}).outputs == {"_raw": "plain text"}
    assert WorkflowRun.from_json({**RUN_DETAIL_1_13_2, "outputs": None}).outputs is None


def test_a_dataset_reports_its_document_form_under_either_name():
    assert Dataset.from_json({"id": "d", "doc_form": "hierarchical_model"}).doc_form == "hierarchical_model"
    assert Dataset.from_json({"id": "d", "doc_form": None, "chunk_structure": "qa_model"}).doc_form == "qa_model"
