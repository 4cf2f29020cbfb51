"""Creating documents (shared/dify-api.md §3.2-§3.4): the first upload needs `indexing_technique` and a
process rule; names with `/` or `\\` are refused and long ones cut as Dify's FileService cuts them; the extension
allow-list and the 15 MB limit are 400 `invalid_param` on create (the type error with an empty message); and a
create with an enabled same-named document reuses it (same id, new batch, back to `waiting`) unless
`duplicate: false`. Both hyphen and underscore routes work in 1.x; 0.x has only the underscores."""

from __future__ import annotations

import json

import pytest

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import AUTOMATIC, Api


def test_the_first_upload_needs_a_technique_then_a_process_rule(api):
    bare = api.admin.create_dataset("bare")["id"]
    no_technique = api.upload(bare, "a.md")
    assert no_technique.json() == {"code": "invalid_param", "message": "indexing_technique is required.", "status": 400}
    no_rule = api.upload(bare, "a.md", data='{"indexing_technique": "economy"}')
    assert no_rule.json()["message"] == "process_rule is required."
    assert api.upload(bare, "a.md", data=json.dumps(AUTOMATIC)).status_code == 200
    assert api.upload(bare, "b.md").status_code == 200  # later uploads use the dataset's latest rule
    dataset = api.ds("GET", f"/datasets/{bare}").json()
    assert (dataset["indexing_technique"], dataset["doc_form"]) == ("economy", "text_model")


def test_the_data_part_must_be_json_and_its_options_are_validated(api, dataset):
    assert api.upload(dataset, "a.md", data="{not json").json()["code"] == "invalid_param"
    bad_mode = api.upload(dataset, "a.md", data='{"process_rule": {"mode": "magic"}}')
    assert bad_mode.json()["message"] == "Process rule mode is invalid"
    custom = api.upload(
        dataset, "a.md", data='{"process_rule": {"mode": "custom", "rules": {"pre_processing_rules": []}}}'
    )
    assert custom.json()["message"] == "Process rule segmentation is required"
    assert api.upload(dataset, "first.md").json()["document"]["doc_form"] == "text_model"
    assert api.upload(dataset, "a.md", data='{"doc_form": "qa_model"}').json()["message"] == (
        "doc_form is different from the dataset doc_form."
    )
    assert api.upload(dataset, "a.md", data='{"doc_form": "table"}').json()["message"] == "Invalid doc_form."


def test_the_file_part_errors_are_difys(api, dataset):
    none = api.ds("POST", f"/datasets/{dataset}/document/create-by-file", data={"data": "{}"})
    assert (none.status_code, none.json()["code"]) == (400, "no_file_uploaded")
    two = api.ds(
        "POST",
        f"/datasets/{dataset}/document/create-by-file",
        files=[("file", ("a.md", b"a")), ("file", ("b.md", b"b"))],
    )
    assert two.json()["code"] == "too_many_files"


def test_a_created_document_starts_waiting_with_a_dify_style_batch(standin_process):
    api = Api(standin_process)
    api.admin.reset()
    api.admin.set_indexing(seconds=30)
    body = api.upload(api.dataset(), "a.md").json()
    assert body["document"]["indexing_status"] == "waiting" and body["document"]["display_status"] == "queuing"
    assert len(body["batch"]) == 20 and body["batch"].isdigit()


@pytest.mark.parametrize("name", ["a/b.md", "a\\\\b.md"])
def test_a_name_with_a_path_separator_is_refused(api, dataset, name):
    """(A backslash reaches Dify only escaped in the multipart header; requests sends the name as given.)"""
    response = api.upload(dataset, name)
    assert response.json() == {
        "code": "invalid_param",
        "message": "Filename contains invalid characters",
        "status": 400,
    }


def test_a_long_file_name_keeps_the_stem_before_its_first_dot_cut_to_200_and_the_extension(api, dataset):
    name = "n" * 250 + ".v2.MD"
    document = api.upload(dataset, name).json()["document"]
    assert document["name"] == "n" * 200 + ".md"
    assert api.upload(dataset, "a" * 200 + ".md").json()["document"]["name"] == "a" * 200 + ".md"


def test_a_long_text_name_is_cut_to_200_characters(api, dataset):
    body = api.ds(
        "POST",
        f"/datasets/{dataset}/document/create-by-text",
        json={"name": "t" * 300, "text": "x", "indexing_technique": "economy"},
    ).json()
    assert body["document"]["name"] == "t" * 200
    assert body["document"]["data_source_detail_dict"]["upload_file"]["extension"] == "txt"


@pytest.mark.parametrize("name", ["tool.exe", "slides.pptx", "noextension", "archive.tar.gz"])
def test_types_outside_the_allow_list_are_400_with_an_empty_message_on_create(api, dataset, name):
    assert api.upload(dataset, name).json() == {"code": "invalid_param", "message": "", "status": 400}


@pytest.mark.parametrize(
    "name", ["a.txt", "a.MD", "a.mdx", "a.pdf", "a.htm", "a.xlsx", "a.csv", "a.vtt", "a.properties"]
)
def test_the_allow_list_accepts_either_case(api, dataset, name):
    assert api.upload(dataset, name).status_code == 200


@pytest.mark.parametrize("version", ["1.7.2", "1.9.1", "1.9.2", "1.11.1", "1.11.2", "1.13.2"])
def test_every_recorded_version_refuses_xml_and_office_types_with_the_default_etl(api_for, version):
    api = api_for(version)
    dataset = api.dataset()
    for name in ("feed.xml", "old.doc", "mail.eml", "mail.msg", "deck.pptx", "deck.ppt", "book.epub"):
        assert api.upload(dataset, name).json() == {"code": "invalid_param", "message": "", "status": 400}, name
    assert api.upload(dataset, "talk.vtt").status_code == 200


@pytest.mark.parametrize(("version", "status"), [("1.3.1", 400), ("1.4.0", 200)])
def test_vtt_and_properties_join_the_default_list_in_1_4(api_for, version, status):
    api = api_for(version)
    dataset = api.dataset()
    assert [api.upload(dataset, name).status_code for name in ("a.vtt", "a.properties")] == [status, status]


def test_the_unstructured_etl_accepts_office_and_mail_types():
    with StandinProcess(extra_args=("--etl-type", "Unstructured")) as server:
        api = Api(server)
        assert api.upload(api.dataset(), "slides.pptx").status_code == 200


def test_a_file_over_the_upload_limit_is_400_on_create_with_an_empty_message(api, dataset):
    response = api.upload(dataset, "big.md", b"x" * (15 * 1024 * 1024 + 1))
    assert response.json() == {"code": "invalid_param", "message": "", "status": 400}
    api.admin.set_upload_limit(10)
    assert api.upload(dataset, "small.md", b"x" * 11).status_code == 400
    assert api.upload(dataset, "small.md", b"x" * 10).status_code == 200


def test_a_same_named_enabled_document_is_reused_with_a_new_batch(api, dataset):
    first = api.upload(dataset, "a.md", b"v1").json()
    api.admin.set_indexing(seconds=30)
    second = api.upload(dataset, "a.md", b"version two").json()
    assert second["document"]["id"] == first["document"]["id"] and second["batch"] != first["batch"]
    assert second["document"]["indexing_status"] == "waiting"
    (stored,) = api.admin.documents(dataset)
    assert (stored["batch"], stored["content_size"]) == (second["batch"], len(b"version two"))
    text = api.ds(
        "POST",
        f"/datasets/{dataset}/document/create-by-text",
        json={"name": "a.md", "text": "t", "indexing_technique": "economy"},
    ).json()
    assert text["document"]["id"] == first["document"]["id"]  # text uploads upsert too


def test_duplicate_false_creates_a_second_document_and_disabled_ones_are_not_matched(api, dataset):
    first = api.upload(dataset, "a.md").json()["document"]["id"]
    second = api.upload(dataset, "a.md", data='{"duplicate": false}').json()["document"]["id"]
    assert second != first
    api.ds("PATCH", f"/datasets/{dataset}/documents/status/disable", json={"document_ids": [first, second]})
    third = api.upload(dataset, "a.md").json()["document"]["id"]
    assert third not in (first, second)
    assert api.documents(dataset)["total"] == 3


@pytest.mark.parametrize(("route", "status"), [("create-by-file", 200), ("create_by_file", 200)])
def test_1_x_accepts_both_route_spellings(api, dataset, route, status):
    assert api.upload(dataset, "a.md", route=route).status_code == status


def test_0_x_has_only_the_underscore_routes(api_for):
    api = api_for("0.15")
    dataset = api.dataset()
    hyphen = api.upload(dataset, "a.md", route="create-by-file")
    assert hyphen.status_code == 404 and hyphen.text.lstrip().lower().startswith("<!doctype html>")
    assert api.upload(dataset, "a.md", route="create_by_file").status_code == 200
