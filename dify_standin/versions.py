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
| `GET /datasets/{id}/documents/{doc}` (before: 405, the URL served only DELETE) | >= 1.5.1 | src |
| flask-restx: reqparse `errors` 400s, `Integer` null, 404 "did you mean", `WWW-Authenticate` | >= 1.8.0 | src rec+ |
| console login failures 400 `email_or_password_mismatch` / `account_not_found`, then 401 | < 1.8.0 / >= 1.8.0 | rec+ |
| missing `doc_form` = `chunk_structure` or `text_model`; a different form refused | >= 1.9.0 | src rec |
| task stop by any user of the app (before: only the task's own user) | >= 1.9.0 | src |
| delete in an unknown dataset: 400 `Dataset does not exist.` / 404 `Dataset not found.` | < 1.9.0 / >= 1.9.0 | rec+ |
| console login: tokens in the body + Bearer / cookies + `X-CSRF-Token` | <= 1.9.1 / >= 1.9.2 | src rec |
| pydantic validation (`1 validation error for …`) on the service API | >= 1.10.0 | rec+ |
| `partial_update` honoured on metadata writes (else every write replaces all values) | >= 1.10.1 | src rec |
| document list `status` filter | >= 1.10.1 | src |
| first document by text without `process_rule`: 500 / the automatic rule | <= 1.11.0 / >= 1.11.1 | src |
| console login password base64-encoded (plain: 401 `Invalid encrypted data`) | >= 1.11.2 | src rec |
| run detail `outputs` a JSON string / an object | < 1.13.0 / >= 1.13.0 | src rec |
| run detail of an unknown id: 200 all-null / 500 / 404 | <= 1.12.x / 1.13.0 / >= 1.13.1 | src rec |
| metadata write naming an unknown document: skipped / 400 `Document not found.` | < 1.13.0 / >= 1.13.0 | rec+ |
| streaming run with an invalid input: 400 JSON / 200 SSE, one ping, a stall | < 1.13.0 / >= 1.13.0 | rec+ |
| default-ETL allow-list gains `vtt`, `properties` (`uploads.py`) | >= 1.4.0 | rec+ |
| datasets' knowledge-pipeline fields (`pipeline_id`, `chunk_structure`, …); fresh counts null | >= 1.9.0 | rec+ |
| Dify's new graph engine (stream `index` 1, `*_truncated`, `text_chunk` from the producing node, …) | >= 1.9.0 | rec+ |
| no `parallel_*` keys, run `error` null (not `""`), console node executions numbered 1, 2 | >= 1.9.2 | rec |
| `sys.timestamp`, end user `type` `service-api`, log rows `details`/`triggered_from`, JSON charset | >= 1.10.0 | rec+ |
| document detail `created_at` an integer (a float before) | >= 1.10.0 | rec+ |
| datasets' `author_name` and `is_multimodal` | >= 1.11.0 | rec+ |
| `summary_index_setting` on datasets, `summary_index_status` / `need_summary` on documents | >= 1.13.0 | rec+ |
| every stream opens with `event: ping`; `workflow_started.data.reason` | >= 1.13.0 | rec+ |
| pydantic's documentation links name 2.11 / 2.12 | < 1.13.0 / >= 1.13.0 | rec |
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
    def has_document_detail(self) -> bool:
        """`GET /datasets/{id}/documents/{doc}` (§10: from 1.5.1)."""
        return self.version >= (1, 5, 1)

    @property
    def text_default_process_rule(self) -> bool:
        """A dataset's first document by text without `process_rule`: 500 up to 1.11.0, automatic from 1.11.1
        (§10)."""
        return self.version >= (1, 11, 1)

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
    def stream_via_worker(self) -> bool:
        """Recorded: 1.11.2 answers a bad input of a streaming run with 400 at once and starts its streams with
        `workflow_started`; 1.13.2 opens every stream with `event: ping` (`workflow_started` gains `reason`), runs
        the form check in the Celery worker, and a refused input leaves the stream stalled after the ping."""
        return self.version >= (1, 13, 0)

    # -- the shapes of workflow runs (workflow_shapes.py has the table)

    @property
    def new_graph_engine(self) -> bool:
        """Dify 1.9.0's queue-based graph engine: stream `index` 1 and no predecessor for every node, `*_truncated`
        keys, `process_data` `{}`, console executions oldest first, the End node's text streamed as `text_chunk`
        from the node that produces it (recorded 1.7.2 old, 1.9.1 new)."""
        return self.version >= (1, 9, 0)

    @property
    def graph_engine_fixes(self) -> bool:
        """1.9.2: no `parallel_*` keys, a run without error answers `error: null` (not `""`), console node
        executions numbered 1, 2, a stream node without usage `execution_metadata: null` (recorded 1.9.1 / 1.9.2)."""
        return self.version >= (1, 9, 2)

    @property
    def app_fields_1_10(self) -> bool:
        """Recorded absent on 1.9.2 and present on 1.11.1, taken as 1.10.0: `sys.timestamp` among the Start node's
        values, end users of `type` `service-api` (was `service_api`), log rows with `details` and
        `workflow_run.triggered_from`, the blocking answer's `application/json; charset=utf-8`."""
        return self.version >= (1, 10, 0)

    # -- the shapes of datasets and documents (recorded on 1.7.2, 1.9.x, 1.11.x, 1.13.2)

    @property
    def knowledge_pipeline_fields(self) -> bool:
        """Datasets gain `pipeline_id`, `runtime_mode`, `chunk_structure`, `icon_info`, `is_published`,
        `total_documents`, `total_available_documents`, `enable_api` with the knowledge pipeline (1.9.0); right
        after an upload `tokens` and `word_count` are null (0 on 1.7.2)."""
        return self.version >= (1, 9, 0)

    @property
    def dataset_author_and_multimodal(self) -> bool:
        """`author_name` and `is_multimodal` on datasets: absent on 1.9.2, present on 1.11.1 (recorded); taken
        as the multimodal knowledge base of 1.11.0."""
        return self.version >= (1, 11, 0)

    @property
    def detail_created_at_int(self) -> bool:
        """The document detail's `created_at` is a float on 1.7.2-1.9.2, an integer on 1.11.1 (recorded); taken
        with the service API's move to pydantic models (1.10.0)."""
        return self.pydantic_validation

    @property
    def summary_index(self) -> bool:
        """`summary_index_setting` on datasets, `summary_index_status` / `need_summary` on documents: recorded on
        1.13.2, not on 1.11.2; taken as 1.13.0."""
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
