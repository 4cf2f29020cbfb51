"""Workflow runs as Dify serves them (shared/dify-api.md §1, §6): a failed workflow is HTTP 200 with status
failed, request problems are 400 with Dify's messages, streaming sends `data: {json}` events in Dify's order
with `event: ping` keep-alives, a stop ends a run `stopped`, the run detail differs by version, the app's
concurrency limit is 429, and app keys and dataset keys each open only their own routes."""

from __future__ import annotations

import json
import time

import pytest
import requests

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import APP_KEY, Api

FORM = [
    {"text-input": {"label": "Name", "variable": "name", "required": True, "max_length": 40, "default": ""}},
    {"paragraph": {"label": "Notes", "variable": "notes", "required": False, "default": "none"}},
    {"select": {"label": "Tone", "variable": "tone", "required": False, "options": ["dry", "warm"]}},
    {"number": {"label": "Count", "variable": "count", "required": False}},
]


def make_app(api: Api, key: str = APP_KEY, **workflow) -> dict:
    workflow = {"outputs": {"answer": "Hello {{name}}"}, "tokens": 42, **workflow}
    return api.admin.create_app("greeter", key, workflow=workflow, user_input_form=FORM, max_active=1)


def run(api: Api, inputs: dict, key: str = APP_KEY, **body) -> requests.Response:
    return api.app("POST", "/workflows/run", key, json={"inputs": inputs, "user": "alice", **body})


def stream(api: Api, inputs: dict, key: str = APP_KEY, user: str = "alice") -> requests.Response:
    body = {"inputs": inputs, "user": user, "response_mode": "streaming"}
    return requests.post(
        api.base + "/workflows/run", json=body, headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=10
    )


def sse_events(response: requests.Response):
    """(event name, payload) per SSE message as Dify frames them; a keep-alive is ("ping", None)."""
    buffer = ""
    for text in response.iter_content(chunk_size=None, decode_unicode=True):
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if block.startswith("event: ping"):
                yield "ping", None
            else:
                assert block.startswith("data: "), block
                payload = json.loads(block[len("data: ") :])
                yield payload["event"], payload


def first_event(events) -> dict:
    """The first event that is not a keep-alive (from 1.13 every stream opens with `event: ping`)."""
    return next(payload for name, payload in events if name != "ping")


@pytest.fixture(scope="module")
def newest():
    with StandinProcess(dify_version="1.16", extra_args=("--ping-seconds", "0.2")) as server:
        yield server


@pytest.fixture
def api16(newest) -> Api:
    newest.admin.reset()
    return Api(newest)


def test_info_and_parameters_describe_the_app_and_its_form(api):
    make_app(api)
    assert api.app("GET", "/info").json()["name"] == "greeter"
    params = api.app("GET", "/parameters").json()
    kinds = [next(iter(item)) for item in params["user_input_form"]]
    assert kinds == ["text-input", "paragraph", "select", "number"]
    assert params["user_input_form"][0]["text-input"]["max_length"] == 40
    assert params["user_input_form"][2]["select"]["options"] == ["dry", "warm"]


def test_a_blocking_run_answers_outputs_tokens_and_steps(api):
    make_app(api)
    body = run(api, {"name": "Ada"}).json()
    data = body["data"]
    assert body["workflow_run_id"] == data["id"] and body["task_id"]
    assert (data["status"], data["outputs"], data["total_tokens"], data["total_steps"]) == (
        "succeeded",
        {"answer": "Hello Ada"},
        42,
        3,
    )
    assert data["finished_at"] >= data["created_at"] and data["error"] is None


def test_a_failed_workflow_is_http_200_with_status_failed_and_its_error(api):
    make_app(api)
    response = run(api, {"name": "__fail__"})
    assert response.status_code == 200
    assert (
        response.json()["data"]["status"] == "failed"
        and "asked the stand-in to fail" in response.json()["data"]["error"]
    )


def test_an_error_outside_the_graph_is_http_400_completion_request_error_when_blocking(api):
    make_app(api)
    response = run(api, {"name": "__error__"})
    assert (response.status_code, response.json()["code"]) == (400, "completion_request_error")


def test_a_missing_user_is_refused_before_the_inputs_are_looked_at(api):
    make_app(api)
    response = api.app("POST", "/workflows/run", json={"response_mode": "blocking"})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_param", "message": "Arg user must be provided.", "status": 400}


def test_missing_inputs_and_missing_required_variables_are_400_and_unknown_ones_are_dropped(api):
    make_app(api)
    assert api.app("POST", "/workflows/run", json={"user": "alice"}).json()["code"] == "invalid_param"
    missing = run(api, {"notes": "x"})
    assert (missing.status_code, missing.json()["message"]) == (400, "name is required in input form")
    bad = run(api, {"name": "Ada", "tone": "loud"})
    assert bad.json()["message"] == "tone in input form must be one of the following: ['dry', 'warm']"
    done = run(api, {"name": "Ada", "unknown": "x"}).json()
    detail = api.app("GET", f"/workflows/run/{done['workflow_run_id']}").json()
    inputs = {k: v for k, v in json.loads(detail["inputs"]).items() if not k.startswith("sys.")}
    assert inputs == {"name": "Ada", "notes": "none", "tone": None, "count": None}


def test_a_streaming_run_sends_difys_event_sequence(api):
    make_app(api)
    with stream(api, {"name": "Ada Lovelace of London"}) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [(name, payload) for name, payload in sse_events(response) if name != "ping"]
    names = [name for name, _ in events]
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    assert names.count("node_started") == names.count("node_finished") == 3
    assert {(p["task_id"], p["workflow_run_id"]) for _, p in events} == {
        (events[0][1]["task_id"], events[0][1]["workflow_run_id"])
    }
    chunks = [p["data"]["text"] for name, p in events if name == "text_chunk"]
    assert len(chunks) > 1 and "".join(chunks) == "Hello Ada Lovelace of London"
    llm = next(p["data"] for name, p in events if name == "node_finished" and p["data"]["node_type"] == "llm")
    assert set(llm["execution_metadata"]) == {"total_tokens", "total_price", "currency"}
    assert events[-1][1]["data"]["outputs"] == {"answer": "Hello Ada Lovelace of London"}


@pytest.mark.parametrize(("version", "indexes"), [("1.13", [1, 1, 1]), ("1.9", [1, 1, 1]), ("1.7", [1, 2, 3])])
def test_streamed_node_events_carry_the_index_each_version_sends(api_for, version, indexes):
    """Recorded (shared/dify-recordings/*/workflow_run_streaming.json): from 1.9 every node streams `index: 1`;
    1.7.2 counted 1, 2. The console's node executions keep the real order on every version."""
    api = api_for(version)
    make_app(api)
    with stream(api, {"name": "Ada"}) as response:
        events = [(name, payload["data"]) for name, payload in sse_events(response) if name.startswith("node_")]
    assert [data["index"] for name, data in events if name == "node_started"] == indexes
    assert [data["index"] for name, data in events if name == "node_finished"] == indexes
    assert [data["title"] for name, data in events if name == "node_started"] == ["Start", "LLM", "End"]


def test_long_nodes_send_ping_keep_alives(api16):
    make_app(api16, duration_s=1.5)
    with stream(api16, {"name": "Ada"}) as response:
        names = [name for name, _ in sse_events(response)]
    assert names.count("ping") >= 3 and names[-1] == "workflow_finished"


def test_an_error_input_ends_the_stream_with_an_error_event(api):
    make_app(api)
    with stream(api, {"name": "__error__"}) as response:
        events = list(sse_events(response))
    name, payload = events[-1]
    assert name == "error" and (payload["status"], payload["code"]) == (400, "completion_request_error")
    assert "workflow_finished" not in [n for n, _ in events]


def test_stop_ends_a_streaming_run_stopped_and_its_log_row_says_so(api):
    make_app(api, duration_s=5)
    with stream(api, {"name": "Ada"}) as response:
        events = sse_events(response)
        started = first_event(events)
        stop = api.app("POST", f"/workflows/tasks/{started['task_id']}/stop", json={"user": "alice"})
        assert stop.json() == {"result": "success"}
        name, finished = [e for e in events if e[0] != "ping"][-1]
    assert (name, finished["data"]["status"], finished["data"]["error"]) == (
        "workflow_finished",
        "stopped",
        "Stopped by user.",
    )
    assert api.app("GET", "/workflows/logs").json()["data"][0]["workflow_run"]["status"] == "stopped"


@pytest.mark.parametrize(("version", "status"), [("1.8.1", "succeeded"), ("1.9.0", "stopped")])
def test_a_stop_from_another_user_is_ignored_up_to_1_8_and_obeyed_from_1_9(api_for, version, status):
    api = api_for(version)
    make_app(api, duration_s=0.6)
    with stream(api, {"name": "Ada"}) as response:
        events = sse_events(response)
        started = first_event(events)
        assert api.app("POST", f"/workflows/tasks/{started['task_id']}/stop", json={"user": "mallory"}).ok
        assert api.app("POST", "/workflows/tasks/no-such-task/stop", json={"user": "alice"}).ok
        final = next(p for n, p in events if n == "workflow_finished")
    assert final["data"]["status"] == status


def test_run_detail_sends_inputs_as_a_json_string_and_outputs_as_an_object_from_1_13(api):
    make_app(api)
    done = run(api, {"name": "Zoë"}).json()
    detail = api.app("GET", f"/workflows/run/{done['workflow_run_id']}").json()
    assert isinstance(detail["inputs"], str) and json.loads(detail["inputs"])["name"] == "Zoë"
    assert (detail["status"], detail["outputs"], detail["total_tokens"]) == ("succeeded", {"answer": "Hello Zoë"}, 42)
    assert isinstance(detail["created_at"], int)


@pytest.mark.parametrize("version", ["1.7.2", "1.11.2", "1.12.1"])
def test_before_1_13_run_detail_outputs_are_a_json_string(api_for, version):
    api = api_for(version)
    make_app(api)
    detail = api.app("GET", f"/workflows/run/{run(api, {'name': 'Zoë'}).json()['workflow_run_id']}").json()
    assert isinstance(detail["outputs"], str) and json.loads(detail["outputs"]) == {"answer": "Hello Zoë"}


def test_in_1_0_and_1_1_run_detail_times_are_rfc_822_strings(api_for):
    api = api_for("1.1.3")
    make_app(api)
    detail = api.app("GET", f"/workflows/run/{run(api, {'name': 'Ada'}).json()['workflow_run_id']}").json()
    assert detail["created_at"].endswith(" -0000") and detail["created_at"][:3].isalpha()


UNKNOWN_RUN = "0a000000-0000-4000-8000-0000000000ff"


@pytest.mark.parametrize(
    ("version", "status", "counts"),
    [("1.7.2", 200, 0), ("1.12.1", 200, None), ("1.13.0", 500, None), ("1.13.1", 404, None), ("1.16", 404, None)],
)
def test_an_unknown_run_is_all_null_up_to_1_12_then_500_on_1_13_0_then_404(api_for, version, status, counts):
    api = api_for(version)
    make_app(api)
    answer = api.app("GET", f"/workflows/run/{UNKNOWN_RUN}")
    assert answer.status_code == status
    if status == 200:
        assert answer.json()["id"] is None and "inputs" in answer.json()
        assert (answer.json()["total_steps"], answer.json()["total_tokens"]) == (counts, counts)
    elif status == 404:
        assert answer.json() == {"code": "not_found", "message": "Workflow run not found.", "status": 404}
    else:
        assert answer.json() == {"message": "Internal Server Error", "code": "unknown", "status": 500}


@pytest.mark.parametrize(("version", "body"), [("1.7.2", {"message": "Internal Server Error", "code": "unknown"}),
                                               ("1.13.2", {"message": "Internal Server Error", "code": "unknown",
                                                           "status": 500})])  # fmt: skip
def test_a_non_uuid_run_id_crashes_difys_lookup(api_for, version, body):
    api = api_for(version)
    make_app(api)
    answer = api.app("GET", "/workflows/run/not-a-uuid")
    assert (answer.status_code, answer.json()) == (500, body)


def test_the_apps_concurrency_limit_answers_429_too_many_requests(api):
    make_app(api, duration_s=5)
    with stream(api, {"name": "Ada"}) as response:
        events = sse_events(response)
        started = first_event(events)
        refused = run(api, {"name": "Bob"})
        assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
        api.app("POST", f"/workflows/tasks/{started['task_id']}/stop", json={"user": "alice"})
        list(events)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.admin.state()["apps"][0]["active"]:
        time.sleep(0.05)
    assert api.admin.state()["apps"][0]["active"] == 0


def test_a_run_by_workflow_id_needs_the_published_workflows_id(api):
    app = make_app(api)
    ok = api.app("POST", f"/workflows/{app['workflow_id']}/run", json={"inputs": {"name": "Ada"}, "user": "u"})
    assert ok.json()["data"]["workflow_id"] == app["workflow_id"]
    unknown = api.app("POST", "/workflows/0b0e0000-0000-4000-8000-000000000000/run", json={"inputs": {}, "user": "u"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")


def test_app_keys_and_dataset_keys_each_open_only_their_own_routes(api):
    make_app(api)
    on_datasets = api.app("GET", "/datasets")
    on_app = api.app("GET", "/info", key=api.server.dataset_key)
    assert (on_datasets.status_code, on_datasets.json()["message"]) == (401, "Access token is invalid")
    assert (on_app.status_code, on_app.json()["message"]) == (401, "Access token is invalid")
    assert api.app("GET", "/workflows/logs", key="app-unknown").status_code == 401
    assert api.ds("GET", "/datasets").status_code == 200 and api.app("GET", "/info").status_code == 200


def test_every_run_appends_a_log_row_for_its_user(api):
    make_app(api)
    run(api, {"name": "Ada"})
    run(api, {"name": "__fail__"})
    rows = api.app("GET", "/workflows/logs").json()["data"]
    assert [r["workflow_run"]["status"] for r in rows] == ["failed", "succeeded"]
    assert {r["created_by_end_user"]["session_id"] for r in rows} == {"alice"}
    assert {r["created_from"] for r in rows} == {"service-api"}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "api_key": "dataset-x"},
        {"name": "x", "api_key": "app-x", "workflow": {"fail_node": "Nope"}},
        {"name": "x", "api_key": "app-x", "user_input_form": [{"file": {"variable": "f"}}]},
    ],
)
def test_an_app_the_stand_in_cannot_serve_is_refused_with_400(api, body):
    response = requests.post(api.server.url + "/_standin/apps", json=body, timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_param")


@pytest.mark.parametrize("version", ["1.11.2", "1.13.0"])
def test_a_refused_streaming_input_is_400_before_1_13_and_a_stalled_stream_from_it(api_for, version):
    api = api_for(version)
    make_app(api)
    body = {"inputs": {"name": "x" * 41}, "user": "alice", "response_mode": "streaming"}
    headers = {"Authorization": f"Bearer {APP_KEY}"}
    with requests.post(
        api.base + "/workflows/run", json=body, headers=headers, stream=True, timeout=(5, 1.5)
    ) as answer:
        if version == "1.11.2":
            assert (answer.status_code, answer.json()["message"]) == (
                400,
                "name in input form must be less than 40 characters",
            )
            return
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/event-stream")
        received = b""
        with pytest.raises(requests.ConnectionError):  # the read timeout: nothing follows the ping
            for chunk in answer.iter_content(chunk_size=None):
                received += chunk
    assert received == b"event: ping\n\n"
