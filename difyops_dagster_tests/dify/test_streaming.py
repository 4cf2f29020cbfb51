"""Streaming runs are Server-Sent Events: one JSON object per `data:` event, `event: ping` keep-alives in
between (ignored), and an `error` event that ends the stream and must surface as `DifyError`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.client import _sse_data
from difyops_dagster.dify.errors import DifyError
from difyops_dagster_tests.dify.conftest import app_client


def test_sse_framing_joins_data_lines_and_ignores_pings_comments_and_other_fields():
    lines = [
        'data: {"event": "workflow_started"}',
        "",
        "event: ping",
        "",
        ": a comment",
        "id: 7",
        'data: {"event": "text_chunk",',
        'data:  "data": {"text": "a"}}',
        "",
        "",
        'data:{"event": "workflow_finished"}',  # the last event, without its closing blank line
    ]
    assert list(_sse_data(lines)) == [
        '{"event": "workflow_started"}',
        '{"event": "text_chunk",\n "data": {"text": "a"}}',
        '{"event": "workflow_finished"}',
    ]


@pytest.fixture(scope="module")
def pinging_standin() -> Iterator[StandinProcess]:
    with StandinProcess(extra_args=("--ping-seconds", "0.1")) as server:
        yield server


def test_a_stream_with_keep_alive_pings_yields_only_workflow_events(pinging_standin):
    pinging_standin.admin.reset()
    pinging_standin.admin.create_app("slow", "app-ping-key", workflow={"duration_s": 0.8})
    raw = requests.post(
        f"{pinging_standin.api_url}/workflows/run",
        json={"inputs": {"query": "raw"}, "user": "u", "response_mode": "streaming"},
        headers={"Authorization": "Bearer app-ping-key"},
        timeout=10,
    ).text
    assert "event: ping" in raw  # the server does send pings during the run

    events = list(app_client(pinging_standin, "app-ping-key").stream_workflow({"query": "x"}, user="u"))
    names = [e.event for e in events]
    assert "ping" not in names and None not in names
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    assert all(e.task_id and e.workflow_run_id for e in events)


def test_an_error_event_raises_a_dify_error_after_the_events_before_it(standin, apps):
    seen = []
    with pytest.raises(DifyError) as info:
        for event in apps.stream_workflow({"query": "__error__"}, user="tester"):
            seen.append(event.event)
    assert seen and seen[0] == "workflow_started"
    assert info.value.endpoint == "POST /workflows/run"
    assert info.value.status == 400 and info.value.code == "completion_request_error"
