"""Version differences live in `DifyCompat` and nowhere else: each call goes to the spelling its version
understands, and answers that changed shape between versions (deletes, unknown runs) read the same in all.
"""

from __future__ import annotations

import pytest

from difyops_dagster.dify.compat import DifyCompat


@pytest.mark.parametrize(
    ("version", "path"),
    [
        ("0.15", "/datasets/d/document/create_by_file"),
        ("1.0", "/datasets/d/document/create-by-file"),
        ("1.13", "/datasets/d/document/create-by-file"),
        ("1.16", "/datasets/d/document/create-by-file"),
    ],
)
def test_document_create_uses_underscores_before_1_0_and_hyphens_after(version, path):
    assert DifyCompat.parse(version).create_document_path("d", "file") == path
    assert DifyCompat.parse(version).create_document_path("d", "text") == path.replace("file", "text")


@pytest.mark.parametrize(
    ("version", "by", "route"),
    [
        ("0.15", "file", ("POST", "/datasets/d/documents/x/update_by_file")),
        ("1.13", "file", ("POST", "/datasets/d/documents/x/update-by-file")),
        ("1.14", "file", ("PATCH", "/datasets/d/documents/x")),
        ("1.14", "text", ("POST", "/datasets/d/documents/x/update-by-text")),
        ("0.15", "text", ("POST", "/datasets/d/documents/x/update_by_text")),
    ],
)
def test_file_updates_move_to_patch_on_the_newest_versions_while_text_updates_keep_their_route(version, by, route):
    assert DifyCompat.parse(version).update_document_route("d", "x", by) == route


@pytest.mark.parametrize(
    ("feature", "last_without", "first_with"),
    [
        ("lists_document_metadata", "1.0", "1.1"),
        ("has_partial_update", "1.8", "1.9"),
        ("cookie_console_login", "1.8", "1.9"),
    ],
)
def test_each_feature_switches_on_at_the_version_that_introduced_it(feature, last_without, first_with):
    assert not getattr(DifyCompat.parse(last_without), feature)
    assert getattr(DifyCompat.parse(first_with), feature)
    assert getattr(DifyCompat.parse("2.0"), feature)


def test_a_patch_level_in_the_version_is_ignored():
    assert DifyCompat.parse("1.13.3").version == (1, 13)
    assert DifyCompat.parse("1").version == (1, 0)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (204, ""),  # 1.14+
        (200, "204"),  # 1.0-1.13: flask-restx serialised the bare 204
        (200, "204\n"),
        (200, '{"result": "success"}'),  # 0.x
        (200, ""),
    ],
)
def test_every_versions_delete_answer_means_deleted(status, body):
    assert DifyCompat.delete_succeeded(status, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, "<html><title>Welcome</title></html>"), (200, '{"result": "fail"}'), (202, ""), (404, "")],
)
def test_an_answer_that_is_no_known_delete_success_is_not_taken_for_one(status, body):
    assert not DifyCompat.delete_succeeded(status, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"code": "not_found", "message": "Workflow run not found", "status": 404}),  # 1.14+
        (404, None),  # an HTML 404 page
        (200, {"id": None, "workflow_id": None, "status": None, "inputs": None, "outputs": None}),  # < 1.14
    ],
)
def test_an_unknown_run_is_none_whether_answered_by_404_or_by_a_null_object(status, body):
    assert DifyCompat.known_run(status, body) is None


def test_a_known_run_detail_is_passed_through():
    body = {"id": "r1", "status": "succeeded"}
    assert DifyCompat.known_run(200, body) is body
