"""Document forms (shared/dify-api.md §3.2, §10; dify issues #24176, #27147): a dataset holds classic
(`text_model`), parent-child (`hierarchical_model`) or Q&A (`qa_model`) documents, fixed by its first document (or,
for a dataset made in Dify's UI, by the admin's `doc_form`). From 1.9.0 a create or update without `doc_form` is a
`text_model` one (a knowledge-pipeline dataset's `chunk_structure` when it has one) and a form other than the
dataset's is refused with 400 "doc_form is different from the dataset doc_form."; before 1.9.0 nothing is
checked, a missing form is `text_model`, and a dataset can end up holding several forms."""

from __future__ import annotations

import json

import pytest

from dify_standin.tests.conftest import AUTOMATIC, Api

MISMATCH = {"code": "invalid_param", "message": "doc_form is different from the dataset doc_form.", "status": 400}
HIERARCHICAL_RULE = {
    "mode": "hierarchical",
    "rules": {
        "pre_processing_rules": [],
        "segmentation": {"separator": "\n\n", "max_tokens": 500},
        "parent_mode": "paragraph",
        "subchunk_segmentation": {"separator": "\n", "max_tokens": 200},
    },
}


def form_dataset(api: Api, form: str, **fields) -> str:
    return api.admin.create_dataset(f"kb-{form}", doc_form=form, **{**AUTOMATIC, **fields})["id"]


def update(api: Api, dataset: str, document: str, data: dict | None = None):
    form = {"data": json.dumps(data)} if data is not None else {}
    return api.ds(
        "POST", f"/datasets/{dataset}/documents/{document}/update-by-file", files={"file": ("a.md", b"v2")}, data=form
    )


@pytest.mark.parametrize("form", ["hierarchical_model", "qa_model"])
@pytest.mark.parametrize("version", ["1.9.0", "1.13.2"])
def test_from_1_9_an_upload_without_doc_form_into_a_parent_child_or_qa_dataset_is_refused(api_for, version, form):
    api = api_for(version)
    dataset = form_dataset(api, form)
    assert api.ds("GET", f"/datasets/{dataset}").json()["doc_form"] == form
    assert api.upload(dataset, "a.md").json() == MISMATCH
    assert api.upload(dataset, "a.md", data=json.dumps({"doc_form": "text_model"})).json() == MISMATCH
    created = api.upload(dataset, "a.md", data=json.dumps({"doc_form": form}))
    assert created.status_code == 200 and created.json()["document"]["doc_form"] == form
    text = api.ds("POST", f"/datasets/{dataset}/document/create-by-text", json={"name": "t", "text": "x", **AUTOMATIC})
    assert text.json() == MISMATCH


def test_from_1_9_an_update_without_the_datasets_form_is_refused_before_anything_else(api):
    dataset = form_dataset(api, "hierarchical_model")
    document = api.upload(dataset, "a.md", data=json.dumps({"doc_form": "hierarchical_model"})).json()["document"]
    assert update(api, dataset, document["id"]).json() == MISMATCH
    assert update(api, dataset, "00000000-0000-4000-8000-00000000000d").json() == MISMATCH
    kept = update(api, dataset, document["id"], {"doc_form": "hierarchical_model", "process_rule": HIERARCHICAL_RULE})
    assert kept.status_code == 200 and kept.json()["document"]["doc_form"] == "hierarchical_model"


def test_a_classic_dataset_takes_the_form_of_its_first_document(api):
    dataset = api.dataset()
    assert api.ds("GET", f"/datasets/{dataset}").json()["doc_form"] is None
    first = api.upload(dataset, "a.md", data=json.dumps({"doc_form": "qa_model"}))
    assert first.json()["document"]["doc_form"] == "qa_model"
    assert api.ds("GET", f"/datasets/{dataset}").json()["doc_form"] == "qa_model"
    assert api.upload(dataset, "b.md").json() == MISMATCH


def test_a_knowledge_pipeline_datasets_chunk_structure_is_the_default_form(api):
    dataset = api.admin.create_dataset("pipeline", chunk_structure="hierarchical_model", **AUTOMATIC)["id"]
    created = api.upload(dataset, "a.md")
    assert created.status_code == 200 and created.json()["document"]["doc_form"] == "hierarchical_model"


def test_before_1_9_nothing_is_checked_and_a_missing_form_is_text_model(api_for):
    api = api_for("1.8.1")
    dataset = form_dataset(api, "hierarchical_model")
    plain = api.upload(dataset, "a.md")
    assert plain.status_code == 200 and plain.json()["document"]["doc_form"] == "text_model"
    qa = api.upload(dataset, "b.md", data=json.dumps({"doc_form": "qa_model"}))
    assert qa.status_code == 200 and qa.json()["document"]["doc_form"] == "qa_model"
    assert {d["doc_form"] for d in api.documents(dataset)["data"]} == {"text_model", "qa_model"}


def test_the_admin_refuses_an_unknown_form(api):
    with pytest.raises(Exception, match="doc_form must be one of"):
        api.admin.create_dataset("bad", doc_form="table_model")
