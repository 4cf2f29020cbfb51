"""`/v1/datasets/{id}/document(s)…`: list, create, update, delete, status, detail (shared/dify-api.md §3-§4).

The quirks a sync meets are kept: `has_more = len(data) == limit` (wrong at exact multiples and above 100),
`keyword` as an unescaped, case-sensitive SQL `LIKE %kw%`, upsert by name on create (an *enabled* same-named
document is reused: same id, new file, new batch, back to `waiting`) unless `duplicate: false`, updates only
while `available` (the update keeps the document's batch and re-indexes it), a `doc_form` that differs from the
dataset's refused from 1.9.0 (`uploads.document_form`), deletes never refused for indexing (`DocumentService.
delete_document` has no status check in any 1.x; recorded on 1.7.2-1.13.2 during `parsing` / `splitting`).
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, request

from dify_standin.errors import DifyCrash, DifyHTTPError, invalid_param, not_found
from dify_standin.knowledge import (
    behaviour,
    dataset_for_write,
    dataset_or_404,
    document_or_404,
    forbidden_method,
    json_body,
    now,
    options,
    page_args,
    store,
)
from dify_standin.knowledge_json import document_detail_json, document_json, indexing_status_json
from dify_standin.state import BUSY_STATUSES, Dataset, Document, new_batch, new_id
from dify_standin.uploads import (
    MAX_SEGMENT_TOKENS,
    allowed_extensions,
    check_file,
    check_options,
    check_process_rule,
    document_form,
    parse_data_field,
    segment_tokens,
    stored_file_name,
    stored_text_name,
)
from dify_standin.validation import KnowledgeConfig, pydantic_error

bp = Blueprint("documents", __name__, url_prefix="/v1")

DS = "/datasets/<uuid:dataset_id>"
DOC = DS + "/documents/<uuid:document_id>"
# Rules only some versions serve (full rule -> Behaviour property); app.py answers Flask's HTML 404 for the rest.
ROUTE_GATES = {
    f"/v1{DS}/document/create-by-file": "hyphen_routes",
    f"/v1{DS}/document/create-by-text": "hyphen_routes",
    f"/v1{DOC}/update-by-file": "hyphen_routes",
    f"/v1{DOC}/update-by-text": "hyphen_routes",
}
STATUS_ACTIONS = ("enable", "disable", "archive", "un_archive")


def like_pattern(keyword: str) -> re.Pattern:
    """`name LIKE '%kw%'` on PostgreSQL: case-sensitive, and `%` / `_` inside kw still act as wildcards."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in keyword]
    return re.compile("".join(parts), re.DOTALL)


@bp.get(DS + "/documents")
def list_documents(dataset_id):
    page, limit, real_page, per_page = page_args()
    keyword = request.args.get("keyword")
    status = request.args.get("status") if behaviour().has_status_filter else None
    at = now()
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        offset = (real_page - 1) * per_page
        if keyword or status:
            pattern = like_pattern(keyword or "")
            rows = [
                d
                for d in dataset.newest_first()
                if pattern.search(d.name) and (not status or d.display_status(at) == status)
            ]
            total, chunk = len(rows), rows[offset : offset + per_page]
        else:
            total, chunk = len(dataset.documents), dataset.page(offset, per_page)
        data = [document_json(dataset, d, at, behaviour()) for d in chunk]
    return jsonify({"data": data, "has_more": len(data) == limit, "limit": limit, "total": total, "page": page})


# ---------------------------------------------------------------- create


def _indexing_failure(name: str, rule: dict | None) -> str | None:
    """Why indexing of this document will end in `error` (an admin name pattern, or Dify's segment limit)."""
    pattern = store().error_names
    if pattern and re.search(pattern, name):
        return "Stand-in: indexing failed for this document (error_names rule)."
    tokens = segment_tokens(rule)
    if tokens is not None and tokens > MAX_SEGMENT_TOKENS:
        return f"Custom segment length should be between 50 and {MAX_SEGMENT_TOKENS}."
    return None


def _apply_process_rule(dataset: Dataset, body: dict) -> dict | None:
    """A rule sent with the call becomes the dataset's latest; else the latest one is used."""
    if "process_rule" not in body:
        return dataset.process_rule
    rule = body["process_rule"]
    if rule:
        check_process_rule(rule)
        dataset.process_rule, dataset.process_rule_id = rule, new_id()
    return rule


def _save(dataset: Dataset, name: str, content: bytes, body: dict, *, duplicate: bool, text: bool) -> Document:
    """`DocumentService.save_document_with_dataset_id` for one upload, under the dataset lock (so concurrent
    same-name uploads end as one document, the later call winning)."""
    check_options(body, dataset_technique=dataset.indexing_technique)
    sent = "process_rule" in body
    if (sent and not body["process_rule"]) or (not sent and dataset.process_rule is None):
        raise invalid_param("process_rule is required.")
    form = _form(dataset, body)
    rule = _apply_process_rule(dataset, body)
    dataset.indexing_technique = dataset.indexing_technique or body.get("indexing_technique")
    at = now()
    batch = new_batch(at)
    failure = _indexing_failure(name, rule)
    seconds = store().indexing_seconds
    reusable = [d for d in dataset.named(name) if d.enabled] if duplicate else []
    if reusable:
        document = min(reusable, key=lambda d: d.position)
        dataset.rebatch(document, batch)
        document.replace_content(content, batch, at, seconds, failure)
        document.doc_form = form
        document.created_from_text = text
        return document
    document = Document(
        id=new_id(),
        dataset_id=dataset.id,
        name=name,
        position=dataset.next_position,
        created_at=at,
        content=content,
        batch=batch,
        indexing_started=at,
        indexing_seconds=seconds,
        fails_with=failure,
        doc_form=form,
        doc_language=body.get("doc_language") or "English",
        created_from_text=text,
    )
    dataset.add(document)
    return document


def _form(dataset: Dataset, body: dict) -> str:
    return document_form(
        body.get("doc_form"),
        dataset_form=dataset.doc_form,
        chunk_structure=dataset.chunk_structure,
        checked=behaviour().doc_form_check,
    )


def _allowed() -> frozenset[str]:
    return allowed_extensions(unstructured=options().etl_type == "Unstructured", version=behaviour().version)


def _upload():
    """The one `file` part: Dify's 400s for none, several, or one without a filename."""
    files = request.files.getlist("file")
    if len(request.files) > 1 or len(files) > 1:
        raise DifyHTTPError(400, "too_many_files", "Only one file is allowed.")
    if not files:
        return None
    if not files[0].filename:
        raise DifyHTTPError(400, "filename_not_exists_error", "The specified filename does not exist.")
    return files[0]


def _created(dataset: Dataset, document: Document) -> Response:
    """A new document has counted nothing yet (`fresh`); a reused or updated one answers its row's old counts."""
    fresh = document.created_at == document.updated_at
    data = document_json(dataset, document, now(), behaviour(), fresh=fresh)
    return jsonify({"document": data, "batch": document.batch})


@bp.post(DS + "/document/create-by-file")
@bp.post(DS + "/document/create_by_file")
def create_by_file(dataset_id):
    body = parse_data_field(request.form.get("data"))
    with store().lock:
        dataset = dataset_for_write(dataset_id)
        if not dataset.indexing_technique and not body.get("indexing_technique"):
            raise invalid_param("indexing_technique is required.")
    upload = _upload()
    if upload is None:
        raise DifyHTTPError(400, "no_file_uploaded", "Please upload your file.")
    content = upload.read()
    name = stored_file_name(upload.filename)
    check_file(name, len(content), limit=store().upload_limit, allowed=_allowed(), updating=False)
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        document = _save(dataset, name, content, body, duplicate=body.get("duplicate", True) is not False, text=False)
        return _created(dataset, document)


@bp.post(DS + "/document/create-by-text")
@bp.post(DS + "/document/create_by_text")
def create_by_text(dataset_id):
    body = json_body()
    name, text = body.get("name"), body.get("text")
    if not isinstance(name, str) or not name:
        raise invalid_param("name is required.")
    if not isinstance(text, str):
        raise invalid_param("text is required.")
    with store().lock:
        dataset = dataset_for_write(dataset_id)
        if not dataset.indexing_technique and not body.get("indexing_technique"):
            raise invalid_param("indexing_technique is required.")
        _check_knowledge_config(body, name, text)
        options_ = {k: v for k, v in body.items() if k != "duplicate"}  # the text route cannot turn upsert off
        if not options_.get("process_rule") and dataset.process_rule is None:
            options_["process_rule"] = _first_text_rule()
        document = _save(dataset, stored_text_name(name), text.encode(), options_, duplicate=True, text=True)
        return _created(dataset, document)


def _first_text_rule() -> dict:
    """The first document of a dataset, by text and without `process_rule`: Dify up to 1.11.0 dereferences the
    missing rule and answers 500; from 1.11.1 it takes the automatic rule (shared/dify-api.md §10)."""
    if not behaviour().text_default_process_rule:
        raise DifyCrash
    return {"mode": "automatic"}


def _check_knowledge_config(body: dict, name: str, text: str) -> None:
    """The text route builds `KnowledgeConfig` from the request without the dataset's technique (the file route
    fills it in), so a create-by-text without `indexing_technique` fails even in a dataset that has one
    (recorded on every version): before 1.10.0 reqparse passes None (`literal_error`), from 1.10.0 the payload
    lacks the key (`missing`, the payload and its `data_source` quoted)."""
    if behaviour().pydantic_validation:
        rest = {k: v for k, v in body.items() if k not in ("name", "text")}
        files = {"data_source_type": "upload_file", "file_info_list": {"file_ids": [new_id()]}}
        data = {"name": name, "text": text, **rest, "data_source": {"type": "upload_file", "info_list": files}}
    else:
        data = {"indexing_technique": body.get("indexing_technique")}
    refused = pydantic_error(KnowledgeConfig, data, behaviour())
    if refused is not None:
        raise refused


# ---------------------------------------------------------------- update


def _update(dataset_id, document_id, body: dict, *, name: str | None, content: bytes | None, text: bool) -> Response:
    """`update_document_with_dataset_id`: only an available document; a new file renames it (a `name` sent
    wins), and the document goes back to `waiting` under its existing batch."""
    with store().lock:
        dataset = dataset_for_write(dataset_id)
        form = _form(dataset, body)
        document = document_or_404(dataset, document_id, "Document not found")
        at = now()
        if document.display_status(at) != "available":
            raise invalid_param("Document is not available")
        rule = _apply_process_rule(dataset, body) if body.get("process_rule") else dataset.process_rule
        new_name = body.get("name") or name
        if new_name and new_name != document.name:
            dataset.rename(document, new_name)
        failure = _indexing_failure(document.name, rule)
        upload_file_id = document.upload_file_id
        if content is None:
            content = document.content
        else:
            document.created_from_text, upload_file_id = text, new_id()
        document.replace_content(content, document.batch, at, store().indexing_seconds, failure)
        document.upload_file_id = upload_file_id
        document.doc_form = form
        return _created(dataset, document)


def _update_by_file(dataset_id, document_id) -> Response:
    body = parse_data_field(request.form.get("data"))
    upload = _upload()
    content = name = None
    if upload is not None:
        content = upload.read()
        name = stored_file_name(upload.filename)
        check_file(name, len(content), limit=store().upload_limit, allowed=_allowed(), updating=True)
    return _update(dataset_id, document_id, body, name=name, content=content, text=False)


@bp.post(DOC + "/update-by-file")
@bp.post(DOC + "/update_by_file")
def update_by_file(dataset_id, document_id):
    return _update_by_file(dataset_id, document_id)


@bp.patch(DOC)
def patch_document(dataset_id, document_id):
    """The newest version's replacement for update-by-file (same multipart body)."""
    if not behaviour().has_patch_update:
        raise forbidden_method()
    return _update_by_file(dataset_id, document_id)


@bp.post(DOC + "/update-by-text")
@bp.post(DOC + "/update_by_text")
def update_by_text(dataset_id, document_id):
    body = json_body()
    text = body.get("text")
    if text and not body.get("name"):
        raise invalid_param("Both text and name must be strings.")
    content = str(text).encode() if text else None
    name = stored_text_name(str(body["name"])) if text else None
    if body.get("name"):
        body = {**body, "name": stored_text_name(str(body["name"]))}
    return _update(dataset_id, document_id, body, name=name, content=content, text=True)


# ---------------------------------------------------------------- delete, detail, status


@bp.delete(DOC)
def delete_document(dataset_id, document_id):
    with store().lock:
        dataset = dataset_for_write(dataset_id)
        document = document_or_404(dataset, document_id)
        # Dify's service_api/dataset/document.py `DocumentApi.delete` (every 1.x, e.g. 1.13.2): "403 if document
        # is archived: if DocumentService.check_archived(document): raise ArchivedDocumentImmutableError()".
        if document.archived:
            raise DifyHTTPError(403, "archived_document_immutable", "The archived document is not editable.")
        dataset.remove(document)
    style = behaviour().delete_style
    if style == "result":
        return jsonify({"result": "success"})
    if style == "body204":
        return Response("204\n", status=200, mimetype="application/json")
    return Response(status=204, mimetype="application/json")


@bp.get(DOC)
def get_document(dataset_id, document_id):
    """The detail route came in 1.5.1; before, the URL served only DELETE (so a GET is a 405)."""
    if not behaviour().has_document_detail:
        raise forbidden_method()
    mode = request.args.get("metadata", "all")
    if mode not in ("all", "only", "without"):
        raise DifyHTTPError(400, "invalid_metadata", f"Invalid metadata value: {mode}")
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        document = document_or_404(dataset, document_id, "Document not found.")
        return jsonify(document_detail_json(dataset, document, now(), behaviour(), mode))


@bp.get(DS + "/documents/<string:batch>/indexing-status")
def indexing_status(dataset_id, batch):
    at = now()
    with store().lock:
        documents = dataset_or_404(dataset_id).in_batch(batch)
        if not documents:
            raise not_found("Documents not found.")
        return jsonify({"data": [indexing_status_json(d, at) for d in documents]})


@bp.patch(DS + "/documents/status/<action>")
def document_status(dataset_id, action):
    """enable / disable / archive / un_archive; unknown ids are skipped; disabling needs a completed document.

    As Dify's service_api/dataset/dataset.py `DocumentStatusApi.patch` (1.x; the service since moved into
    `DocumentService.batch_update_document_status`, same rules): a document already in the wanted state is
    skipped; `enable` and `un_archive` set the Redis key `document_<id>_indexing` (600 s) and start
    `add_document_to_index_task`, which deletes the key when it is done; while the key exists every status
    action on the document answers 400 "Document:<name> is being indexed, please try again later". The
    stand-in holds the document for the dataset's indexing time."""
    if action not in STATUS_ACTIONS:
        raise DifyHTTPError(400, "invalid_action", "Invalid action.")
    ids = json_body().get("document_ids") or []
    at = now()
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        for document_id in ids:
            document = dataset.documents.get(str(document_id))
            if document is None:
                continue
            if document.indexing_status(at) in BUSY_STATUSES or document.status_busy_until > at:
                raise DifyHTTPError(
                    400, "invalid_action", f"Document:{document.name} is being indexed, please try again later"
                )
            if action == "disable" and document.indexing_status(at) != "completed":
                raise DifyHTTPError(400, "invalid_action", f"Document: {document.name} is not completed.")
            was = (document.enabled, document.archived)
            if action in ("enable", "disable"):
                document.enabled = action == "enable"
            else:
                document.archived = action == "archive"
            if (document.enabled, document.archived) == was:
                continue
            if action in ("enable", "un_archive"):
                document.status_busy_until = at + store().indexing_seconds
            document.updated_at = at
    return jsonify({"result": "success"})
