"""Version differences live in `DifyCompat` and nowhere else: each call goes to the spelling its version
understands, and answers that changed shape between versions (deletes, unknown runs) read the same in all.
"""

from __future__ import annotations

import pytest

from difyops_dagster.dify.compat import (
    FALLBACK,
    DifyCompat,
    ResolvedVersion,
    parse_version,
    resolve_version,
    server_version_from_index,
)


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
        ("1.13.2", "file", ("POST", "/datasets/d/documents/x/update-by-file")),
        ("1.14", "text", ("POST", "/datasets/d/documents/x/update-by-text")),
        ("0.15", "text", ("POST", "/datasets/d/documents/x/update_by_text")),
    ],
)
def test_file_updates_move_to_patch_on_the_newest_versions_while_text_updates_keep_their_route(version, by, route):
    assert DifyCompat.parse(version).update_document_route("d", "x", by) == route


@pytest.mark.parametrize(
    ("feature", "last_without", "first_with"),
    [
        ("lists_document_metadata", "1.0.1", "1.1.0"),
        ("has_partial_update", "1.10.0", "1.10.1"),  # 1.9.1 and 1.9.2 were seen ignoring the flag
        ("base64_console_password", "1.11.1", "1.11.2"),  # seen on running 1.11.1 and 1.11.2
    ],
)
def test_each_feature_switches_on_at_the_patch_that_introduced_it(feature, last_without, first_with):
    assert not getattr(DifyCompat.parse(last_without), feature)
    assert getattr(DifyCompat.parse(first_with), feature)
    assert getattr(DifyCompat.parse("2.0"), feature)


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.13.2", (1, 13, 2)), ("1.13", (1, 13, 0)), ("v1.9.1", (1, 9, 1)), ("1.11.2-fix.1", (1, 11, 2))],
)
def test_versions_are_read_to_the_patch(text, version):
    assert parse_version(text) == version


def test_an_unknown_or_auto_version_speaks_the_newest_recorded_release():
    assert DifyCompat.parse("auto").version == FALLBACK
    assert parse_version("latest") is None


def test_the_servers_own_report_wins_and_a_disagreeing_setting_is_a_warning_naming_it():
    resolved = resolve_version("1.11.1", (1, 11, 2))
    assert resolved.version == (1, 11, 2) and resolved.source == "server"
    assert "dify.version is '1.11.1'" in resolved.warning and "1.11.2" in resolved.warning


@pytest.mark.parametrize("configured", ["auto", "1.11", "1.11.2"])
def test_a_setting_that_agrees_with_the_server_is_silent(configured):
    assert resolve_version(configured, (1, 11, 2)) == ResolvedVersion((1, 11, 2), "server")


def test_the_setting_counts_where_the_server_does_not_tell():
    assert resolve_version("1.9.1", None) == ResolvedVersion((1, 9, 1), "settings")
    assert resolve_version("auto", None) == ResolvedVersion(FALLBACK, "default")


def test_the_version_comes_from_the_service_apis_index():
    index = {"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": "1.9.2"}
    assert server_version_from_index(index) == (1, 9, 2)
    assert server_version_from_index({"welcome": "Dify OpenAPI"}) is None
    assert server_version_from_index("<html>") is None


@pytest.mark.parametrize("body", [200, {"result": "success"}])
def test_both_shapes_of_a_metadata_write_success_are_read_as_written(body):
    assert DifyCompat.metadata_written(body)  # bare 200 on 1.1.0-1.8.1


@pytest.mark.parametrize("body", [{"result": "fail"}, 204, [], "200"])
def test_other_metadata_write_answers_are_not_taken_for_success(body):
    assert not DifyCompat.metadata_written(body)


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
