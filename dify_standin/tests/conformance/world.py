"""Seeding the stand-in as the real server was seeded when a case was recorded (see the recordings' README).

The real servers held: `kb-blue` (the product's own sync had filled it: 29 or 31 documents with `source_key` and
`fingerprint` values), `kb-green`, `kb-videos`, the scratch datasets the recording script made, a start -> end echo
workflow app whose form is one required `query` (text-input, max 256), finished runs of user `rec-user` (and a few
others), and one console account. Where a case shows the state it ran in (a list, a dataset, a document), the
world is rebuilt from that answer itself: the same datasets with the same documents, fields, values, forms and
statuses; ids and timestamps are the stand-in's own.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

from dify_standin.tests.conformance.recordings import Case, load_version
from dify_standin.tests.conftest import Api
from dify_standin.versions import Behaviour, parse_version

APP_KEY = "app-recorded-echo"
EMAIL = "recorder@example.com"
PASSWORD = "Rec-0rding pass!"  # not valid base64, as the recorded plain password was not (1.11.2+ refuse it)
WRONG_PASSWORD = "not-the-password-1"
ECHO = {"outputs": {"answer": "{{query}}"}, "nodes": ["Start", "End"], "tokens": 0}
FORM = [{"text-input": {"label": "Query", "variable": "query", "required": True, "max_length": 256, "default": ""}}]
AUTOMATIC = {"mode": "automatic"}
BUILT_IN = "built-in"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class World:
    """One case's stand-in, its version, and the live value of every placeholder the case's request names."""

    api: Api
    case: Case
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def behaviour(self) -> Behaviour:
        return Behaviour(parse_version(self.case.version))

    def sibling(self, name: str) -> Case | None:
        """Another case of the same version (the recording of the state a case ran in)."""
        return load_version(self.case.version).get(name)

    def body(self, name: str | None = None) -> Any:
        case = self.case if name is None else self.sibling(name)
        return None if case is None else case.response["body"]

    # -- datasets and documents

    def dataset(self, placeholder: str, name: str, **fields: Any) -> str:
        created = self.api.admin.create_dataset(name, **fields)["id"]
        self.ids[placeholder] = created
        return created

    def scratch(self, *, rule: bool = True, technique: str | None = "economy", **fields: Any) -> str:
        """The recording script's scratch dataset: made with `economy`; its first upload sets the process rule."""
        extra = {"process_rule": AUTOMATIC} if rule else {}
        return self.dataset("<dataset_id:scratch>", "rec-scratch", indexing_technique=technique, **extra, **fields)

    def document(self, dataset_id: str, name: str = "rec-a.md", **fields: Any) -> dict:
        document = self.api.admin.add_document(
            dataset_id, name, fields.pop("text", "Recorded document text."), **fields
        )
        self.ids.setdefault("<document_id>", document["id"])
        self.ids.setdefault("<batch>", document["batch"])
        return document

    def fields(self, dataset_id: str, names: tuple[str, ...] = ("source_key", "fingerprint")) -> dict[str, str]:
        made = {}
        for name in names:
            field_json = self.api.ds("POST", f"/datasets/{dataset_id}/metadata", json={"type": "string", "name": name})
            made[name] = field_json.json()["id"]
            self.ids[f"<metadata_id:{name}>"] = made[name]
        return made

    def documents_like(self, dataset_id: str, recorded: list[dict]) -> None:
        """The documents of a recorded list, oldest first (the list is newest first): names, forms, statuses,
        origin and metadata values (own fields; the built-ins are added by the stand-in as by Dify)."""
        specs = [self._document_spec(item) for item in reversed(recorded)]
        if specs:
            self.api.admin.add_documents_bulk(dataset_id, documents=specs)

    @staticmethod
    def _document_spec(item: dict) -> dict:
        values = {m["name"]: m["value"] for m in item.get("doc_metadata") or [] if m.get("id") != BUILT_IN}
        status = item.get("indexing_status", "completed")
        spec = {
            "name": item["name"],
            "text": "word " * int(item.get("word_count") or 3),
            "indexing_status": status,
            "enabled": item.get("enabled", True),
            "archived": item.get("archived", False),
            "doc_form": item.get("doc_form") or "text_model",
            "created_from": item.get("created_from", "api"),
        }
        return {**spec, "metadata": values} if values else spec

    def dataset_like(self, placeholder: str, item: dict, documents: list[dict] | None = None) -> str:
        """A dataset as a recorded dataset answer shows it: name, technique, fields, and its documents (the given
        list, else as many plain ones as it counted)."""
        names = [m["name"] for m in item.get("doc_metadata") or [] if m.get("id") != BUILT_IN]
        fields = {
            "indexing_technique": item.get("indexing_technique"),
            "metadata_fields": dict.fromkeys(names, "string"),
            "data_source_type": item.get("data_source_type"),
        }
        if item.get("indexing_technique"):
            fields["process_rule"] = AUTOMATIC
        dataset_id = self.dataset(placeholder, item["name"], **fields)
        if documents is not None:
            self.documents_like(dataset_id, documents)
        elif item.get("document_count"):
            self.api.admin.add_documents_bulk(dataset_id, count=int(item["document_count"]), prefix="doc-")
        return dataset_id

    def blue(self) -> str:
        """`kb-blue` as the version's `documents_list` and `dataset_get` show it (29 or 31 synced documents)."""
        listed = self.body("documents_list") or {"data": []}
        item = self.body("dataset_get") or {"name": "kb-blue", "indexing_technique": "economy"}
        dataset_id = self.dataset_like("<dataset_id:blue>", item, listed["data"])
        documents = self.api.admin.documents(dataset_id)
        if documents:
            self.ids.setdefault("<document_id>", documents[-1]["id"])
        return dataset_id

    def videos(self) -> str:
        return self.dataset("<dataset_id:videos>", "kb-videos", indexing_technique="economy", process_rule=AUTOMATIC)

    # -- the workflow app, its runs, the console

    def app(self, **workflow: Any) -> str:
        info = self.body("app_info") or {"name": "rec-echo"}
        form = (self.body("app_parameters") or {}).get("user_input_form") or FORM
        app = self.api.admin.create_app(info["name"], APP_KEY, workflow={**ECHO, **workflow}, user_input_form=form)
        self.ids["<app_id>"] = app["id"]
        return app["id"]

    def finished_run(self, query: str = "recording blocking", user: str = "rec-user") -> dict:
        body = {"inputs": {"query": query}, "user": user, "response_mode": "blocking"}
        run = self.api.app("POST", "/workflows/run", APP_KEY, json=body).json()
        self.ids["<workflow_run_id>"] = run["workflow_run_id"]
        self.ids["<task_id>"] = run["task_id"]
        return run

    def logged_runs(self) -> None:
        """The finished runs the version's `workflow_logs` lists (their users and times), `keyword=recording`
        matching as many as its recording found."""
        rows = (self.body("workflow_logs") or {"data": []})["data"]
        matches = len((self.body("workflow_logs_keyword") or {"data": []})["data"])
        seeded = []
        for index, row in enumerate(reversed(rows)):
            user = (row.get("created_by_end_user") or {}).get("session_id") or "rec-user"
            text = "recording run" if index >= len(rows) - matches else "other run"
            seeded.append({"created_at": row["created_at"], "user": user, "inputs": {"query": text}})
        self.api.admin.seed_logs(self.ids["<app_id>"], seeded)

    def console_account(self) -> None:
        self.api.admin.set_console_account(EMAIL, PASSWORD)
        self.ids.update({"<email>": EMAIL, "<plaintext password>": PASSWORD, "<base64 password>": b64(PASSWORD)})
        self.ids["<base64 of a wrong password>"] = b64(WRONG_PASSWORD)

    def unknown(self, placeholder: str = "<uuid>") -> str:
        return self.ids.setdefault(placeholder, str(uuid.uuid4()))
