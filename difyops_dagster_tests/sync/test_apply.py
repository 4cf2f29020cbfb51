"""What every upload tells Dify beyond the file, and how a refused upload is reported.

From Dify 1.9.0 a create or update without `doc_form` is taken as `text_model`, and a form that differs from the
dataset's is refused ("doc_form is different from the dataset doc_form."), so the sync names the dataset's own
form on every create and update. A stock Dify refuses a file type its ETL does not read with an empty 400: the
report must still say which file, which extension and what to change.
"""

from __future__ import annotations

import pytest

from difyops_dagster.dify.errors import NO_MESSAGE, DifyError
from difyops_dagster.dify.models import Dataset
from difyops_dagster.sync.apply import document_form, upload_refusal

FIRST = {"indexing_technique": "economy", "process_rule": {"mode": "automatic"}}


@pytest.mark.parametrize("form", ["text_model", "hierarchical_model", "qa_model"])
def test_a_dataset_with_a_form_has_its_own_form_sent(form):
    assert document_form(Dataset("d", "kb", doc_form=form), FIRST) == form


def test_an_empty_dataset_takes_the_form_its_first_rule_implies():
    hierarchical = {"process_rule": {"mode": "hierarchical", "rules": {}}}
    assert document_form(Dataset("d", "kb"), hierarchical) == "hierarchical_model"


def test_an_empty_dataset_with_a_classic_rule_leaves_difys_default():
    assert document_form(Dataset("d", "kb"), FIRST) is None
    assert document_form(Dataset("d", "kb"), None) is None


def test_an_empty_400_is_explained_with_the_file_its_extension_and_difys_code():
    error = DifyError("POST /datasets/d/document/create-by-file", 400, "invalid_param", NO_MESSAGE)
    text = upload_refusal("docs/feed.XML", error)
    assert text.startswith("Dify refused docs/feed.XML (extension .xml; HTTP 400, invalid_param)")
    assert "ETL does not take .xml files" in text and "sync.accepted_extensions" in text


def test_a_refusal_with_difys_own_message_keeps_it():
    error = DifyError("POST /datasets/d/document/create-by-file", 400, "invalid_param", "File size exceeded. 9 > 8")
    assert upload_refusal("big.md", error) == (
        "Dify refused big.md (extension .md; HTTP 400, invalid_param): File size exceeded. 9 > 8"
        " (POST /datasets/d/document/create-by-file failed)"
    )


def test_an_unsupported_type_answer_of_an_update_points_at_the_setting():
    error = DifyError(
        "POST /datasets/d/documents/x/update-by-file", 415, "unsupported_file_type", "File type not allowed."
    )
    assert "narrow sync.accepted_extensions" in upload_refusal("slides.ppt", error)
