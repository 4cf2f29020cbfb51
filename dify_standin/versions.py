"""Behaviours that differ between Dify versions, chosen by `--dify-version` (`major.minor.patch`), all in one place.

A version is a 3-tuple: `1.9` means 1.9.0, and `newest` (the API of Dify's OpenAPI description, see
shared/dify-openapi) is modelled as 1.14.0, above every recorded version. Each boundary says where it comes from:
**src** = read in Dify's source at that version (shared/dify-api.md §10, or the file named here), **rec** = seen on
the recorded servers (shared/dify-recordings/<version>/), **rec+** = the recordings bracket it (e.g. old at 1.7.2,
new at 1.9.1) and the boundary inside the bracket is where the named change landed in Dify's source history. The
table is repeated, with the same sources, in README.md.

| behaviour | versions | source |
|---|---|---|
| hyphen route aliases (`create-by-file`, ...); underscores work everywhere | >= 1.0.0 | src |
| error envelope carries `status` (0.x: `{code, message}` only) | >= 1.0.0 | src |
| `doc_metadata` in document lists and datasets; metadata routes exist | >= 1.1.0 | src |
| metadata write answers the bare JSON number `200` / `{"result":"success"}` | 1.1.0-1.8.x / >= 1.9.0 | src rec |
| built-in fields route `/datasets/metadata/built-in` / `/datasets/{id}/…` | <= 1.8.x / >= 1.9.0 | src rec |
| run detail `created_at`/`finished_at` RFC 822 strings / integers | < 1.2.0 / >= 1.2.0 | src |
| delete: 200 `{"result":"success"}` / 200 body `204` / empty 204 | < 1.4.0 / 1.4.0-1.12.x / >= 1.13.0 | src rec |
| `/workflows/logs` `created_by_end_user_session_id` / `created_by_account` filters | >= 1.5.0 | src |
| flask-restx: reqparse `errors` 400s, `Integer` null, 404 "did you mean", `WWW-Authenticate` | >= 1.8.0 | src rec+ |
| console login failures 400 `email_or_password_mismatch` / `account_not_found`, then 401 | < 1.8.0 / >= 1.8.0 | rec+ |
| missing `doc_form` = `chunk_structure` or `text_model`; a different form refused | >= 1.9.0 | src rec |
| task stop by any user of the app (before: only the task's own user) | >= 1.9.0 | src |
| delete in an unknown dataset: 400 `Dataset does not exist.` / 404 `Dataset not found.` | < 1.9.0 / >= 1.9.0 | rec+ |
| console login: tokens in the body + Bearer / cookies + `X-CSRF-Token` | <= 1.9.1 / >= 1.9.2 | src rec |
| pydantic validation (`1 validation error for …`) on the service API | >= 1.10.0 | rec+ |
| `partial_update` honoured on metadata writes (else every write replaces all values) | >= 1.10.1 | src rec |
| document list `status` filter | >= 1.10.1 | src |
| console login password base64-encoded (plain: 401 `Invalid encrypted data`) | >= 1.11.2 | src rec |
| run detail `outputs` a JSON string / an object | < 1.13.0 / >= 1.13.0 | src rec |
| run detail of an unknown id: 200 all-null / 500 / 404 | <= 1.12.x / 1.13.0 / >= 1.13.1 | src rec |
| metadata write naming an unknown document: skipped / 400 `Document not found.` | < 1.13.0 / >= 1.13.0 | rec+ |
| streaming run with an invalid input: 400 JSON / 200 SSE, one ping, a stall | < 1.13.0 / >= 1.13.0 | rec+ |
| `PATCH /datasets/{id}/documents/{doc}` update route | newest | src |
| a document without metadata lists `doc_metadata: []` (before: `null`) | newest | src |
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int, int]

NEWEST: Version = (1, 14, 0)
DEFAULT_VERSION = "1.13.2"


def parse_version(text: str) -> Version:
    """`1.9.1` -> (1, 9, 1); `1.9` -> (1, 9, 0); `newest` -> NEWEST. ValueError names the bad text."""
    if text.strip().lower() == "newest":
        return NEWEST
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"Dify version {text!r} is not major.minor.patch (e.g. 1.13.2), major.minor or 'newest'")
    major, minor, patch = (int(part) for part in (*parts, "0", "0")[:3])
    return major, minor, patch


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class Behaviour:
    version: Version

    @property
    def label(self) -> str:
        """What the server says it is (`/health`, `GET /v1/`, `X-Version`)."""
        return format_version(self.version)

    @property
    def hyphen_routes(self) -> bool:
        return self.version >= (1, 0, 0)

    @property
    def envelope_status(self) -> bool:
        return self.version >= (1, 0, 0)

    @property
    def has_doc_metadata(self) -> bool:
        return self.version >= (1, 1, 0)

    @property
    def metadata_write_bare_200(self) -> bool:
        """`DocumentMetadataEditServiceApi.post` ended `return 200` on 1.1.0-1.8.1 (dify-api.md §10; seen on 1.7.2)."""
        return (1, 1, 0) <= self.version < (1, 9, 0)

    @property
    def dataset_built_in_route(self) -> bool:
        """`/datasets/{id}/metadata/built-in`; 1.1-1.8.1 served `/datasets/metadata/built-in` (§10; 1.7.2, 1.9.1)."""
        return self.version >= (1, 9, 0)

    @property
    def legacy_built_in_route(self) -> bool:
        return self.has_doc_metadata and not self.dataset_built_in_route

    @property
    def run_timestamps_as_strings(self) -> bool:
        """1.0-1.1 marshalled the run detail's times with flask-restful `fields.DateTime` (RFC 822) (§10)."""
        return self.version < (1, 2, 0)

    @property
    def delete_style(self) -> str:
        """`DocumentDeleteApi.delete`: `{"result":"success"}` up to 1.3, `return 204` (a body) 1.4.0-1.12,
        `return "", 204` from 1.13.0 (§10; 1.7.2-1.11.2 answer 200 `204`, 1.13.2 an empty 204)."""
        if self.version < (1, 4, 0):
            return "result"
        return "body204" if self.version < (1, 13, 0) else "empty204"

    @property
    def logs_created_by_filters(self) -> bool:
        return self.version >= (1, 5, 0)

    @property
    def restx(self) -> bool:
        """flask-restful was replaced by flask-restx between 1.7.2 (recorded: reqparse `params`, `Integer` 0 for
        None, no `WWW-Authenticate`) and 1.9.1 (recorded: `errors` bodies, nulls, the header); the migration is
        on main in August 2025, released in 1.8.0 (dify PR #24411 fixes its fallout; §10 puts the header at 1.8.0)."""
        return self.version >= (1, 8, 0)

    @property
    def www_authenticate(self) -> bool:
        return self.restx

    @property
    def login_failure_401(self) -> bool:
        """1.7.2 answered a wrong password 400 `email_or_password_mismatch` and an unknown e-mail 400
        `account_not_found`; 1.9.1 answers both 401 `authentication_failed` (recorded). The change is dify PR
        #24324 ("standardize authentication error messages", merged 2025-08-22), released in 1.8.0."""
        return self.version >= (1, 8, 0)

    @property
    def doc_form_check(self) -> bool:
        """`DatasetService.check_doc_form` at the top of `save_document_with_dataset_id` (create and update) and
        the `text_model` default for a missing `doc_form` (§10; dify #24176 shows 1.7.2 mixing forms)."""
        return self.version >= (1, 9, 0)

    @property
    def stop_by_any_user(self) -> bool:
        return self.version >= (1, 9, 0)

    @property
    def delete_unknown_dataset_404(self) -> bool:
        """1.7.2 `raise ValueError("Dataset does not exist.")`; 1.9.1 404 `Dataset not found.` (recorded)."""
        return self.version >= (1, 9, 0)

    @property
    def cookie_login(self) -> bool:
        """login.py returns the token pair in the body up to 1.9.1 and sets cookies from 1.9.2 (§10, recorded)."""
        return self.version >= (1, 9, 2)

    @property
    def pydantic_validation(self) -> bool:
        """Recorded: 1.9.2 still answers reqparse's `errors` body, 1.11.1 pydantic's `1 validation error for …`."""
        return self.version >= (1, 10, 0)

    @property
    def has_partial_update(self) -> bool:
        """§10: `partial_update` from 1.10.1 (recorded: ignored on 1.9.2, honoured on 1.11.1)."""
        return self.version >= (1, 10, 1)

    @property
    def has_status_filter(self) -> bool:
        return self.version >= (1, 10, 1)

    @property
    def base64_password(self) -> bool:
        """`@decrypt_password_field` on the login (b7649f61f, #29659), first released in 1.11.2 (§10, recorded)."""
        return self.version >= (1, 11, 2)

    @property
    def run_outputs_as_object(self) -> bool:
        """Service API `workflow_run_fields["outputs"]`: `fields.Raw` over the text column (a JSON string, recorded
        on 1.7.2-1.11.2) until `WorkflowRunOutputsField` (`obj.outputs_dict`, `{}` while paused) came with the
        pause / human-input work of 1.13.0 (recorded object on 1.13.2)."""
        return self.version >= (1, 13, 0)

    @property
    def unknown_run(self) -> str:
        """`null` (200, every field null) up to 1.12, `500` on 1.13.0 (the repository lookup crashes), `404` from
        1.13.1 (§10; recorded null on 1.7.2-1.11.2, 404 on 1.13.2)."""
        if self.version < (1, 13, 0):
            return "null"
        return "500" if self.version < (1, 13, 1) else "404"

    @property
    def metadata_unknown_document_refused(self) -> bool:
        """Recorded: 1.11.2 accepts a write for an unknown document id silently, 1.13.2 answers 400."""
        return self.version >= (1, 13, 0)

    @property
    def streaming_validation_in_worker(self) -> bool:
        """Recorded: 1.11.2 answers a bad input of a streaming run with 400 at once; 1.13.2 opens the stream
        (one ping) and the Celery worker raises, so the stream stalls."""
        return self.version >= (1, 13, 0)

    @property
    def has_patch_update(self) -> bool:
        return self.version >= NEWEST

    @property
    def empty_metadata_as_list(self) -> bool:
        return self.version >= NEWEST

    # -- console apps and retrieval (issue 17); each boundary is cited in console_apps.py / retrieval_api.py

    @property
    def workflow_pipeline_fields(self) -> bool:
        """Workflow JSON gains `rag_pipeline_variables` and secret env values become 20 `*` (knowledge pipeline)."""
        return self.version >= (1, 9, 0)

    @property
    def multimodal_retrieval(self) -> bool:
        """`/retrieve` takes `attachment_ids`, records carry `files` and `sign_content` (multimodal knowledge)."""
        return self.version >= (1, 11, 0)

    @property
    def retrieval_summary(self) -> bool:
        """`/retrieve` records carry `summary` (summary index; Dify's OpenAPI description only)."""
        return self.version >= NEWEST
