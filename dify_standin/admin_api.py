"""Routes Dify does not have, under /_standin: seeding, state dumps, faults, latency, the request log.

Tests, benchmarks and the demo drive these through `dify_standin.admin.StandinAdmin`.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request

from dify_standin import workflow_engine
from dify_standin.errors import invalid_param, not_found
from dify_standin.knowledge_api import dataset_json, document_json
from dify_standin.state import App, Dataset, Document, Run, new_batch, new_id

bp = Blueprint("admin", __name__, url_prefix="/_standin")


def _store():
    return current_app.config["STORE"]


def _faults():
    return current_app.config["FAULTS"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _timestamp(value) -> float:
    if value is None:
        return time.time()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@bp.get("/health")
def health():
    return jsonify({"status": "ok", "dify_version": current_app.config["OPTIONS"].dify_version})


@bp.post("/reset")
def reset():
    _store().reset()
    _faults().reset()
    return jsonify({"result": "success"})


@bp.post("/datasets")
def create_dataset():
    body = _body()
    dataset = Dataset(
        id=body.get("id") or new_id(),
        name=body["name"],
        description=body.get("description", ""),
        indexing_technique=body.get("indexing_technique"),
        process_rule=body.get("process_rule"),
    )
    with _store().lock:
        _store().datasets[dataset.id] = dataset
        return jsonify(dataset_json(dataset))


@bp.post("/datasets/<dataset_id>/documents")
def add_document(dataset_id: str):
    body = _body()
    now = time.time()
    with _store().lock:
        dataset = _store().datasets.get(dataset_id)
        if dataset is None:
            raise not_found("Dataset not found.")
        for name, kind in (body.get("metadata_fields") or {}).items():
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": kind}
                dataset.metadata_fields[field["id"]] = field
        status = body.get("indexing_status", "completed")
        document = Document(
            id=new_id(),
            dataset_id=dataset.id,
            name=body["name"],
            position=dataset.next_position,
            created_at=_timestamp(body.get("created_at")) if body.get("created_at") else now,
            content=str(body.get("text", "")).encode(),
            data_source_type="upload_file",
            batch=new_batch(now),
            indexing_started=now,
            indexing_seconds=0,
            fails_with=body.get("error") or ("Seeded indexing error." if status == "error" else None),
            forced_status=None if status == "completed" else status,
            enabled=body.get("enabled", True),
            metadata=dict(body.get("metadata") or {}),
        )
        for name in document.metadata:
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": "string"}
                dataset.metadata_fields[field["id"]] = field
        dataset.next_position += 1
        dataset.documents[document.id] = document
        dataset.order.append(document.id)
        return jsonify(document_json(dataset, document, now))


@bp.post("/datasets/<dataset_id>/documents/bulk")
def add_documents_bulk(dataset_id: str):
    """Many documents at once (benchmarks): `documents` [{name, metadata}], or `count` named `<prefix><n>.md`."""
    body = _body()
    now = time.time()
    specs = body.get("documents") or [
        {"name": f"{body.get('prefix', 'doc-')}{n:06d}.md"} for n in range(int(body["count"]))
    ]
    with _store().lock:
        dataset = _store().datasets.get(dataset_id)
        if dataset is None:
            raise not_found("Dataset not found.")
        for spec in specs:
            document = Document(
                id=new_id(),
                dataset_id=dataset.id,
                name=spec["name"],
                metadata=dict(spec.get("metadata") or {}),
                position=dataset.next_position,
                created_at=now,
                content=b"bulk",
                data_source_type="upload_file",
                batch=new_batch(now),
                indexing_started=now,
                indexing_seconds=0,
            )
            dataset.next_position += 1
            dataset.documents[document.id] = document
            dataset.order.append(document.id)
        for name in {k for spec in specs for k in (spec.get("metadata") or {})}:
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": "string"}
                dataset.metadata_fields[field["id"]] = field
    return jsonify({"count": len(specs)})


@bp.post("/indexing")
def set_indexing():
    body = _body()
    if "seconds" in body:
        current_app.config["OPTIONS"].indexing_seconds = float(body["seconds"])
    if "error_names" in body:
        _store().error_names = body["error_names"]
    return jsonify({"result": "success"})


@bp.post("/upload-limit")
def set_upload_limit():
    _store().upload_limit = int(_body()["bytes"])
    return jsonify({"result": "success"})


@bp.route("/faults", methods=["POST", "DELETE"])
def faults():
    if request.method == "DELETE":
        _faults().set_rules([])
    else:
        try:
            _faults().set_rules(_body().get("rules", []))
        except TypeError as exc:
            raise invalid_param(f"bad fault rule: {exc}") from None
    return jsonify({"result": "success"})


@bp.post("/latency")
def latency():
    _faults().latency_ms = float(_body().get("ms", 0))
    return jsonify({"result": "success"})


@bp.post("/pause")
def pause():
    _faults().paused_until = time.time() + float(_body().get("seconds", 0))
    return jsonify({"result": "success"})


@bp.route("/requests", methods=["GET", "DELETE"])
def requests_log():
    faults = _faults()
    with faults.lock:
        if request.method == "DELETE":
            faults.log.clear()
            return jsonify({"result": "success"})
        return jsonify({"requests": list(faults.log)})


@bp.get("/state")
def state():
    store = _store()
    now = time.time()
    with store.lock:
        datasets = []
        for dataset in store.datasets.values():
            documents = [document_json(dataset, dataset.documents[i], now) for i in dataset.order]
            for doc, record in zip(documents, (dataset.documents[i] for i in dataset.order), strict=True):
                doc["metadata"] = dict(record.metadata)
                doc["content_size"] = len(record.content)
            datasets.append({**dataset_json(dataset), "process_rule": dataset.process_rule, "documents": documents})
        apps = [{"id": a.id, "name": a.name, "active": a.active} for a in store.apps.values()]
        runs = [
            {
                "id": r.id,
                "task_id": r.task_id,
                "app_id": r.app_id,
                "status": r.status,
                "inputs": r.inputs,
                "user": r.user,
            }
            for r in store.runs.values()
            if r.created_from == "service-api"
        ]
        logs = {app_id: len(times) for app_id, times in store.log_times.items()}
    return jsonify({"datasets": datasets, "apps": apps, "runs": runs, "log_counts": logs})


@bp.post("/apps")
def create_app():
    body = _body()
    app = App(
        id=body.get("id") or new_id(),
        name=body["name"],
        api_key=body["api_key"],
        workflow=dict(body.get("workflow") or {}),
        user_input_form=list(
            body.get("user_input_form")
            or [
                {
                    "text-input": {
                        "label": "Query",
                        "variable": "query",
                        "required": True,
                        "max_length": 256,
                        "default": "",
                    }
                }
            ]
        ),
        max_active=int(body.get("max_active", 0)),
        description=body.get("description", ""),
    )
    with _store().lock:
        _store().apps[app.id] = app
        _store().app_keys[app.api_key] = app.id
    return jsonify({"id": app.id, "name": app.name})


@bp.post("/apps/<app_id>/logs")
def seed_logs(app_id: str):
    body = _body()
    store = _store()
    with store.lock:
        if app_id not in store.apps:
            raise not_found("App not found.")
    rows = body.get("rows") or []
    runs = [_seeded_run(app_id, row) for row in rows]
    if body.get("generate"):
        runs += _generated_runs(app_id, body["generate"])
    with store.lock:
        for run in runs:
            store.runs[run.id] = run
        times = store.log_times.setdefault(app_id, [])
        ids = store.log_runs.setdefault(app_id, [])
        merged = sorted(zip(times, ids, strict=True), key=lambda p: p[0])
        merged += [(run.created_at, run.id) for run in runs]
        merged.sort(key=lambda p: p[0])
        store.log_times[app_id] = [t for t, _ in merged]
        store.log_runs[app_id] = [i for _, i in merged]
    return jsonify({"count": len(runs)})


def _seeded_run(app_id: str, row: dict) -> Run:
    created = _timestamp(row.get("created_at"))
    elapsed = float(row.get("elapsed_time", 1.0))
    status = row.get("status", "succeeded")
    return Run(
        id=row.get("id") or new_id(),
        task_id=new_id(),
        app_id=app_id,
        workflow_id=app_id,
        inputs=dict(row.get("inputs") or {}),
        user=str(row.get("user", "user-1")),
        status=status,
        outputs=row.get("outputs") if status == "succeeded" else None,
        error=row.get("error") if status != "succeeded" else None,
        elapsed_time=elapsed,
        total_tokens=int(row.get("total_tokens", 0)),
        total_steps=int(row.get("total_steps", 3)),
        created_at=created,
        finished_at=created + elapsed,
        version=str(row.get("version", workflow_engine.DEFAULT_WORKFLOW["version"])),
        created_from="seeded",
    )


def _generated_runs(app_id: str, spec: dict) -> list[Run]:
    """Realistic rows: users, sessions, versions, tokens, latencies and a few distinct errors."""
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    start, end = _timestamp(spec["start"]), _timestamp(spec["end"])
    failure_rate = float(spec.get("failure_rate", 0.1))
    users = [f"user-{i:04d}" for i in range(int(spec.get("users", 50)))]
    versions = list(spec.get("versions") or ["2026-10-01 09:00:00", "2026-11-01 10:00:00"])
    errors = [
        "Node LLM run failed: Rate limit reached",
        "Node HTTP Request run failed: timeout",
        "Variable #query# not found",
    ]
    runs = []
    for _ in range(count):
        created = rng.uniform(start, end)
        failed = rng.random() < failure_rate
        elapsed = round(rng.lognormvariate(0.5, 0.6), 3)
        tokens = 0 if failed else rng.randint(50, 2000)
        user = rng.choice(users)
        runs.append(
            Run(
                id=new_id(),
                task_id="",
                app_id=app_id,
                workflow_id=app_id,
                inputs={"query": f"question {rng.randint(1, 999)}"},
                user=user,
                status="failed" if failed else "succeeded",
                outputs=None if failed else {"answer": "ok"},
                error=rng.choice(errors) if failed else None,
                elapsed_time=elapsed,
                total_tokens=tokens,
                total_steps=3,
                created_at=created,
                finished_at=created + elapsed,
                version=rng.choice(versions),
                created_from="seeded",
            )
        )
    return runs


@bp.post("/console-account")
def console_account():
    body = _body()
    with _store().lock:
        _store().console_accounts[body["email"]] = body["password"]
    return jsonify({"result": "success"})
