"""Version differences live in one place and route each call to the spelling that version understands."""

from __future__ import annotations

from difyops_dagster.dify.compat import DifyCompat


def test_routes_per_version():
    old, mid, new = DifyCompat.parse("0.15"), DifyCompat.parse("1.13"), DifyCompat.parse("1.14")
    assert old.create_document_path("d", "file") == "/datasets/d/document/create_by_file"
    assert mid.create_document_path("d", "file") == "/datasets/d/document/create-by-file"
    assert mid.update_document_route("d", "x", "file") == ("POST", "/datasets/d/documents/x/update-by-file")
    assert new.update_document_route("d", "x", "file") == ("PATCH", "/datasets/d/documents/x")
    assert new.update_document_route("d", "x", "text") == ("POST", "/datasets/d/documents/x/update-by-text")


def test_feature_thresholds():
    assert not DifyCompat.parse("1.0").lists_document_metadata and DifyCompat.parse("1.1").lists_document_metadata
    assert not DifyCompat.parse("1.8").has_partial_update and DifyCompat.parse("1.9").has_partial_update
    assert DifyCompat.parse("1.9").cookie_console_login and not DifyCompat.parse("1.8").cookie_console_login
