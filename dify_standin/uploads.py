"""What Dify checks on a document upload before it creates or updates anything (pure; raises DifyHTTPError).

File rules are Dify's `FileService.upload_file`: `/` or `\\` in the name is refused; a name over 200 characters
becomes `name.split(".")[0][:200] + "." + extension` (so the stem before the *first* dot, and the extension
lowercased); the extension must be in the allow-list; the size must fit `UPLOAD_FILE_SIZE_LIMIT`. These are
service errors, so on create they surface as 400 `invalid_param` with an empty message (both recorded); only
the update routes translate them to 413 `file_too_large` / 415 `unsupported_file_type`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dify_standin.errors import DifyHTTPError, invalid_param

# constants/__init__.py `_DEFAULT_DOCUMENT_EXTENSION_BASE` (ETL_TYPE=dify) and the extra
# `_UNSTRUCTURED_DOCUMENT_EXTENSION_BASE` types (+ `ppt` with UNSTRUCTURED_API_URL), read at the newest source; the
# recordings refuse `feed.xml` on 1.7.2-1.13.2. `vtt` and `properties` are missing from an older snapshot of that
# file; they are taken to arrive with the extractor work of dify PR #18969 (merged 2025-04-28), i.e. in 1.4.0.
DIFY_EXTENSIONS = frozenset({"txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "csv"})
LATER_DIFY_EXTENSIONS = frozenset({"vtt", "properties"})
UNSTRUCTURED_EXTENSIONS = frozenset({"doc", "eml", "msg", "pptx", "ppt", "xml", "epub"})
DOC_FORMS = ("text_model", "hierarchical_model", "qa_model")
TECHNIQUES = ("high_quality", "economy")
RULE_MODES = ("automatic", "custom", "hierarchical")
MAX_SEGMENT_TOKENS = 4000  # INDEXING_MAX_SEGMENTATION_TOKENS_LENGTH


def extension_of(filename: str) -> str:
    """`os.path.splitext(filename)[1].lstrip(".").lower()`, as Dify computes it."""
    return os.path.splitext(filename)[1].lstrip(".").lower()


def stored_file_name(filename: str) -> str:
    """The name Dify stores for an upload (and so the document's name)."""
    if any(c in filename for c in ("/", "\\")):
        raise invalid_param("Filename contains invalid characters")
    if len(filename) > 200:
        return filename.split(".")[0][:200] + "." + extension_of(filename)
    return filename


def stored_text_name(name: str) -> str:
    """`upload_text` keeps the name as given, cut to 200 characters (no extension is added)."""
    return name[:200]


def allowed_extensions(*, unstructured: bool, version: tuple[int, int, int]) -> frozenset[str]:
    allowed = DIFY_EXTENSIONS | (LATER_DIFY_EXTENSIONS if version >= (1, 4, 0) else frozenset())
    return allowed | (UNSTRUCTURED_EXTENSIONS if unstructured else frozenset())


def check_file(filename: str, size: int, *, limit: int, allowed: frozenset[str], updating: bool) -> None:
    extension = extension_of(filename)
    if extension not in allowed:
        if updating:
            raise DifyHTTPError(415, "unsupported_file_type", "File type not allowed.")
        raise invalid_param("")
    if size > limit:  # FileTooLargeError: its text is only the update route's 413 message (recorded: "" on create)
        if updating:
            raise DifyHTTPError(413, "file_too_large", f"File size exceeded. {size} > {limit}")
        raise invalid_param("")


def parse_data_field(raw: str | None) -> dict[str, Any]:
    """The multipart `data` part: a JSON string; json's own error text becomes the 400 message, as in Dify."""
    if raw is None:
        return {}
    try:
        options = json.loads(raw)
    except ValueError as exc:
        raise invalid_param(str(exc)) from None
    if not isinstance(options, dict):
        raise invalid_param("data must be a JSON object")
    return options


def check_process_rule(rule: Any) -> None:
    """`DocumentService.process_rule_args_validate`, in its order and with its messages."""
    if not isinstance(rule, dict):
        raise invalid_param("Process rule is required")
    mode = rule.get("mode")
    if not mode:
        raise invalid_param("Process rule mode is required")
    if mode not in RULE_MODES:
        raise invalid_param("Process rule mode is invalid")
    if mode == "automatic":
        return
    rules = rule.get("rules")
    if not rules:
        raise invalid_param("Process rule rules is required")
    if rules.get("pre_processing_rules") is None:
        raise invalid_param("Process rule pre_processing_rules is required")
    segmentation = rules.get("segmentation")
    if not segmentation:
        raise invalid_param("Process rule segmentation is required")
    if not segmentation.get("separator"):
        raise invalid_param("Process rule segmentation separator is required")
    if not (mode == "hierarchical" and rules.get("parent_mode") == "full-doc"):
        if not segmentation.get("max_tokens"):
            raise invalid_param("Process rule segmentation max_tokens is required")
        if not isinstance(segmentation["max_tokens"], int):
            raise invalid_param("Process rule segmentation max_tokens is invalid")


def document_form(sent: Any, *, dataset_form: str | None, chunk_structure: str | None, checked: bool) -> str:
    """The form a created or updated document gets. From 1.9.0 a missing `doc_form` is the dataset's
    `chunk_structure` or `text_model`, and `DatasetService.check_doc_form` (first thing in
    `save_document_with_dataset_id`, so on create and on update) refuses one that differs from the dataset's.
    Before 1.9.0 nothing is checked and a missing form is `KnowledgeConfig`'s default `text_model`, so a dataset
    could hold documents of several forms (dify #24176, seen on 1.7.2)."""
    if not checked:
        return str(sent or "text_model")
    form = str(sent or chunk_structure or "text_model")
    if dataset_form and form != dataset_form:
        raise invalid_param("doc_form is different from the dataset doc_form.")
    return form


def segment_tokens(rule: dict | None) -> int | None:
    segmentation = ((rule or {}).get("rules") or {}).get("segmentation") or {}
    tokens = segmentation.get("max_tokens")
    return tokens if isinstance(tokens, int) else None


def check_options(options: dict[str, Any], *, dataset_technique: str | None) -> None:
    """The create options Dify validates before saving (`document_create_args_validate`): technique, doc_form's
    value, process_rule."""
    technique = options.get("indexing_technique")
    if not dataset_technique and not technique:
        raise invalid_param("indexing_technique is required.")
    if technique is not None and technique not in TECHNIQUES:
        raise invalid_param("Indexing technique is invalid")
    form = options.get("doc_form")
    if form is not None and form not in DOC_FORMS:
        raise invalid_param("Invalid doc_form.")
    if "process_rule" in options and options["process_rule"] is not None:
        check_process_rule(options["process_rule"])
