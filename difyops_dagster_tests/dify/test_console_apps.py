"""The console client changes an app's datasets the way Dify's editor does (dify_standin/README.md, "Console apps
and retrieval"): read the draft, write it back with the `hash` it came with, publish, read the published workflow
back; post a chat app's whole model configuration. Dify replaces a draft's variables with what a sync carries and
shows secrets masked, so a sync that echoed the draft would wipe or overwrite them: the client sends them back,
secrets as `[__HIDDEN__]`. A stale hash is Dify's 409 `draft_workflow_not_sync`, raised as a `DifyError` that
names the endpoint and never the password."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator

import pytest

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import RateLimiter, TransportOptions

EMAIL, PASSWORD = "ops@example.com", "console-Passw0rd!"
FAST = TransportOptions(max_retries=0, backoff_factor_s=0.01, rate_limit_per_second=0)
BLUE, GREEN, OTHER = (str(uuid.UUID(int=n)) for n in (1, 2, 3))


def console_for(server: StandinProcess, version: str = "1.13.2") -> DifyConsoleClient:
    server.admin.set_console_account(EMAIL, PASSWORD)
    return DifyConsoleClient(
        server.url, EMAIL, PASSWORD, compat=DifyCompat.parse(version), options=FAST, limiter=RateLimiter(0)
    )


@pytest.fixture
def console(standin) -> Iterator[DifyConsoleClient]:
    client = console_for(standin)
    yield client
    client.close()


def knowledge_ids(graph: dict) -> list[list[str]]:
    return [n["data"]["dataset_ids"] for n in graph["nodes"] if n["data"]["type"] == "knowledge-retrieval"]


def with_datasets(graph: dict, dataset_ids: list[str]) -> dict:
    graph = copy.deepcopy(graph)
    for node in graph["nodes"]:
        if node["data"]["type"] == "knowledge-retrieval":
            node["data"]["dataset_ids"] = dataset_ids
    return graph


def test_get_app_tells_the_mode_the_published_workflow_and_the_model_config(standin, console):
    flow = standin.admin.create_console_app("flow", "advanced-chat", dataset_ids=[BLUE])
    chat = standin.admin.create_console_app("chat", "chat", dataset_ids=[BLUE])
    detail = console.get_app(flow["id"])
    assert (detail.mode, detail.uses_workflow, detail.workflow_id, detail.model_config) == (
        "advanced-chat",
        True,
        flow["workflow_id"],
        None,
    )
    chat_detail = console.get_app(chat["id"])
    assert not chat_detail.uses_workflow and chat_detail.workflow_id is None
    assert chat_detail.model_config["dataset_configs"]["datasets"]["datasets"][0]["dataset"]["id"] == BLUE
    assert isinstance(chat_detail.model_config_updated_at, int)


def test_a_draft_synced_and_published_is_what_the_app_then_serves(standin, console):
    app = standin.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE, OTHER])
    draft = console.get_draft_workflow(app["id"])
    assert draft.version == "draft" and draft.hash == app["hash"]
    synced = console.sync_draft_workflow(app["id"], draft, with_datasets(draft.graph, [GREEN, OTHER]))
    assert synced.hash == console.get_draft_workflow(app["id"]).hash != draft.hash
    assert knowledge_ids(console.get_published_workflow(app["id"]).graph) == [[BLUE, OTHER]]

    published = console.publish_workflow(app["id"], marked_name="green")
    assert isinstance(published.created_at, int)
    served = console.get_published_workflow(app["id"])
    assert knowledge_ids(served.graph) == [[GREEN, OTHER]] and served.marked_name == "green"
    assert console.get_app(app["id"]).workflow_id == served.id != app["workflow_id"]


def test_a_draft_changed_since_it_was_read_is_draft_workflow_not_sync(standin, console):
    app = standin.admin.create_console_app("flow", "advanced-chat", dataset_ids=[BLUE])
    read = console.get_draft_workflow(app["id"])
    console.sync_draft_workflow(app["id"], read, with_datasets(read.graph, [OTHER]))  # someone edits it meanwhile
    with pytest.raises(DifyError) as error:
        console.sync_draft_workflow(app["id"], read, with_datasets(read.graph, [GREEN]))
    assert (error.value.status, error.value.code) == (409, "draft_workflow_not_sync")
    assert error.value.endpoint == f"POST /apps/{app['id']}/workflows/draft"
    assert knowledge_ids(console.get_draft_workflow(app["id"]).graph) == [[OTHER]]


def test_a_sync_keeps_the_drafts_variables_and_secret_values(standin, console):
    secret = {"id": "v1", "name": "api_token", "value": "sk-live-0123456789", "value_type": "secret"}
    plain = {"id": "v2", "name": "region", "value": "eu", "value_type": "string"}
    chat_var = {"id": "c1", "name": "topic", "value_type": "string", "value": "", "description": ""}
    app = standin.admin.create_console_app(
        "flow", "workflow", dataset_ids=[BLUE], environment_variables=[secret, plain], conversation_variables=[chat_var]
    )
    draft = console.get_draft_workflow(app["id"])
    console.sync_draft_workflow(app["id"], draft, with_datasets(draft.graph, [GREEN]))
    stored = standin.admin.console_app(app["id"])["draft"]
    assert {v["name"]: v["value"] for v in stored["environment_variables"]} == {
        "api_token": "sk-live-0123456789",
        "region": "eu",
    }
    assert [v["name"] for v in stored["conversation_variables"]] == ["topic"]


def test_reading_an_app_that_is_not_there_or_of_another_mode_is_app_not_found(standin, console):
    chat = standin.admin.create_console_app("chat", "chat", dataset_ids=[BLUE])
    with pytest.raises(DifyError) as unknown:
        console.get_app(str(uuid.uuid4()))
    assert (unknown.value.status, unknown.value.code) == (404, "app_not_found")
    with pytest.raises(DifyError) as wrong_mode:
        console.get_draft_workflow(chat["id"])
    assert wrong_mode.value.code == "app_not_found" and "supported list" in wrong_mode.value.message
    assert PASSWORD not in str(wrong_mode.value)


def test_an_app_never_published_has_no_published_workflow(standin, console):
    app = standin.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE], published=False)
    assert console.get_published_workflow(app["id"]) is None
    with pytest.raises(DifyError) as missing:
        console.get_draft_workflow(standin.admin.create_console_app("blank", "workflow", draft=False)["id"])
    assert (missing.value.status, missing.value.code) == (404, "draft_workflow_not_exist")


def test_a_model_config_is_replaced_whole_and_read_back(standin, console):
    app = standin.admin.create_console_app("bot", "agent-chat", dataset_ids=[BLUE, OTHER])
    config = console.get_app(app["id"]).model_config
    config["dataset_configs"]["datasets"]["datasets"][0]["dataset"]["id"] = GREEN
    console.update_model_config(app["id"], config)
    shown = console.get_app(app["id"]).model_config["dataset_configs"]["datasets"]["datasets"]
    assert [d["dataset"]["id"] for d in shown] == [GREEN, OTHER]
    assert standin.admin.console_app(app["id"])["model_config"]["agent_mode"]["enabled"] is True


def test_a_model_config_dify_refuses_is_a_named_error(standin, console):
    app = standin.admin.create_console_app("bot", "completion", dataset_ids=[BLUE])
    config = {**console.get_app(app["id"]).model_config, "dataset_query_variable": ""}
    with pytest.raises(DifyError) as error:
        console.update_model_config(app["id"], config)
    assert (error.value.status, error.value.code) == (400, "invalid_param")
    assert error.value.message == "Dataset query variable is required when dataset is exist"


def test_an_expired_session_is_renewed_for_app_calls_too(standin, console):
    app = standin.admin.create_console_app("flow", "workflow", dataset_ids=[BLUE])
    console.get_app(app["id"])
    standin.admin.expire_console_sessions(refresh=True)
    assert console.get_draft_workflow(app["id"]).hash == app["hash"]
    logins = [r for r in standin.admin.request_log() if r["path"] == "/console/api/login"]
    assert [r["status"] for r in logins] == [200, 200]


@pytest.fixture(scope="module")
def older() -> Iterator[dict[str, StandinProcess]]:
    servers = {version: StandinProcess(dify_version=version).start() for version in ("1.7.2", "1.9.1")}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.parametrize("version", ["1.7.2", "1.9.1"])
def test_the_bearer_consoles_of_older_versions_rebind_alike(older, version):
    server = older[version]
    server.admin.reset()
    app = server.admin.create_console_app("flow", "advanced-chat", dataset_ids=[BLUE])
    client = console_for(server, version)
    draft = client.get_draft_workflow(app["id"])
    client.sync_draft_workflow(app["id"], draft, with_datasets(draft.graph, [GREEN]))
    client.publish_workflow(app["id"])
    assert knowledge_ids(client.get_published_workflow(app["id"]).graph) == [[GREEN]]
    client.close()
