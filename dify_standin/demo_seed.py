"""What `--demo` seeds: the datasets and workflow app the README's quick start uses.

Fixed ids and keys so that `config/demo.yaml` can name them: two datasets `kb-blue` / `kb-green`, one for
videos, one for the named sync `handbook` (`kb-handbook`), a workflow app `summarize` (key `app-demo-summarize`;
Start, Knowledge Retrieval, LLM, End) with a month of log rows for reports, a console account, so that the reports
read node executions (cost, the token split, the per-node table) as they would on a real Dify, and a console
chatflow `support-chat` whose knowledge-retrieval node reads `kb-blue` (the app a promotion rebinds).
"""

from __future__ import annotations

import time

from flask import Flask

from dify_standin.console_app_seed import register_console_app
from dify_standin.state import Dataset
from dify_standin.workflow_admin import register_app
from dify_standin.workflow_logs import generate_runs

DEMO_DATASETS = {
    "kb-blue": "0b1e0000-0000-4000-8000-000000000001",
    "kb-green": "06ee0000-0000-4000-8000-000000000002",
    "kb-videos": "0f1d0000-0000-4000-8000-000000000003",
    "kb-handbook": "0ba00000-0000-4000-8000-000000000004",
}
DEMO_APP_ID = "a9900000-0000-4000-8000-000000000001"
DEMO_APP_KEY = "app-demo-summarize"
DEMO_CHATFLOW_ID = "a9900000-0000-4000-8000-000000000002"
DEMO_CONSOLE_EMAIL = "ops@demo.example"
DEMO_CONSOLE_PASSWORD = "demo-console-password"


def seed_demo(app: Flask) -> None:
    store = app.config["STORE"]
    with store.lock:
        for name, dataset_id in DEMO_DATASETS.items():
            store.datasets[dataset_id] = Dataset(id=dataset_id, name=name, created_at=time.time())
    summarize = register_app(
        app.config,
        {
            "id": DEMO_APP_ID,
            "name": "summarize",
            "api_key": DEMO_APP_KEY,
            "workflow": {
                "outputs": {"summary": "Summary of: {{text}}"},
                "duration_s": 1.0,
                "tokens": 240,
                "nodes": ["Start", "Knowledge Retrieval", "LLM", "End"],
            },
            "user_input_form": [
                {
                    "paragraph": {
                        "label": "Text",
                        "variable": "text",
                        "required": True,
                        "max_length": 4000,
                        "default": "",
                    }
                },
                {
                    "select": {
                        "label": "Style",
                        "variable": "style",
                        "required": False,
                        "options": ["short", "long"],
                        "default": "short",
                    }
                },
            ],
        },
    )
    app.config["WORKFLOWS"].console_accounts[DEMO_CONSOLE_EMAIL] = DEMO_CONSOLE_PASSWORD
    month = {"count": 3000, "start": time.time() - 31 * 86400, "end": time.time() - 60, "failure_rate": 0.06}
    app.config["WORKFLOWS"].add_runs(generate_runs(summarize, {**month, "users": 40, "seed": 2026}))
    register_console_app(
        app.config["CONSOLE_APPS"],
        {
            "id": DEMO_CHATFLOW_ID,
            "name": "support-chat",
            "mode": "advanced-chat",
            "dataset_ids": [DEMO_DATASETS["kb-blue"]],
        },
    )
