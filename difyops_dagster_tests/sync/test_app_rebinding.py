"""Promotion switches what users get: the Dify apps of `sync.apps` follow the active colour (issue 17).

Against the stand-in's console, as Dify's editor changes an app: a chatflow's and a workflow's knowledge-retrieval
node (draft read, written back with its hash, published) and a chat app's context (model configuration posted).
Only this sync's two dataset ids are replaced; the FAQ dataset each app also reads stays where it is. The apps
are switched before the colour state is written, so an app that cannot be switched (a hash conflict, no node
naming either colour, no such app, the console refusing the login) fails the promotion naming it, with every app
still serving what the state says. Every run reconciles: an app edited back by hand is switched again.

These tests run on moto only: apart from the colour object, which every other sync test takes on both S3
servers, nothing here touches S3.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.transport import RateLimiter, TransportOptions
from difyops_dagster.sync.app_binding import app_places
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.sync.conftest import SyncWorld, open_world

EMAIL, PASSWORD = "ops@example.com", "console-Passw0rd!"
PASSWORD_VAR = "DIFYOPS_TEST_CONSOLE_PASSWORD"


@pytest.fixture
def apps_world(standin, moto_s3_server, monkeypatch, tmp_path) -> Iterator[SyncWorld]:
    s3 = moto_s3_server.client()
    bucket = f"apps-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    standin.admin.set_console_account(EMAIL, PASSWORD)
    monkeypatch.setenv(PASSWORD_VAR, PASSWORD)
    with open_world(standin, s3, bucket, monkeypatch, tmp_path, endpoint_url=moto_s3_server.endpoint_url) as world:
        world.env[PASSWORD_VAR] = PASSWORD
        world.dify_overrides = {"console": {"url": standin.url, "email": EMAIL, "password": {"env": PASSWORD_VAR}}}
        yield world


def served(world: SyncWorld, app_id: str) -> list[tuple[str, ...]]:
    """The dataset ids of each place of what the app serves now (its last published graph, or its model config)."""
    app = world.standin.admin.console_app(app_id)
    config = app["published"][-1]["graph"] if app["published"] else app["model_config"]
    return [place.dataset_ids for place in app_places(app["mode"], config)]


def bound_apps(world: SyncWorld, faq: str, *modes: str) -> dict[str, str]:
    """One app per mode reading the FAQ dataset and the blue colour; listed in `sync.apps`."""
    apps = {
        mode: world.standin.admin.create_console_app(f"{mode}-app", mode, dataset_ids=[faq, world.blue])["id"]
        for mode in modes
    }
    world.overrides["apps"] = list(apps.values())
    return apps


def failure_message(result) -> str:
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.error.message


def apps_check(result):
    return [e for e in result.get_asset_check_evaluations() if e.check_name == "apps_follow_active_colour"]


def test_promotion_and_rollback_rebind_a_chatflow_a_workflow_and_a_chat_app_leaving_their_other_datasets_alone(
    apps_world,
):
    world = apps_world
    faq = world.standin.admin.create_dataset("faq")["id"]
    apps = bound_apps(world, faq, "advanced-chat", "workflow", "chat")
    world.put("a.md", "a")
    with WebhookReceiver() as hook:
        world.overrides["webhook_url"] = hook.url
        first = world.run()
        assert first.success and world.active() == "blue"
        assert all(served(world, a) == [(faq, world.blue)] for a in apps.values()), "bound to blue: left alone"
        world.put("b.md", "b")

        promoted = world.run()

        assert promoted.success and world.active() == "green"
        assert {m: served(world, a) for m, a in apps.items()} == {m: [(faq, world.green)] for m in apps}
        colour = promoted.asset_materializations_for_node("active_colour")[0].metadata
        rows = {r.data["app"]: r.data for r in colour["apps"].value.records}
        chatflow = rows[f"advanced-chat-app ({apps['advanced-chat']})"]
        assert chatflow["result"] == "switched" and chatflow["before"].startswith("published ")
        assert chatflow["before"] != chatflow["after"] and "draft " in chatflow["after"]
        node = "Knowledge Retrieval (node 1733000000002)"
        assert chatflow["replaced"] == f"{node}: {faq}, blue ({world.blue}) → {faq}, green ({world.green})"
        assert rows[f"chat-app ({apps['chat']})"]["replaced"].startswith("Context (dataset_configs): ")
        assert "switched" in world.state().history[-1].apps, "the history records what the apps did"
        event = hook.json_bodies()[-1]
        assert event["event"] == "promoted" and {a["app_id"]: a["result"] for a in event["apps"]} == {
            a: "switched" for a in apps.values()
        }

        rolled = world.rollback(reason="answers got worse")

        assert rolled.success and world.active() == "blue"
        assert {m: served(world, a) for m, a in apps.items()} == {m: [(faq, world.blue)] for m in apps}
        assert {a["result"] for a in hook.json_bodies()[-1]["apps"]} == {"switched"}
    (check,) = apps_check(promoted)
    assert check.passed


def test_an_app_edited_back_by_hand_is_switched_again_by_the_next_run_and_by_reconcile_apps_job(apps_world):
    world = apps_world
    faq = world.standin.admin.create_dataset("faq")["id"]
    apps = bound_apps(world, faq, "advanced-chat", "completion")
    world.put("a.md", "a")
    assert world.run().success
    world.put("b.md", "b")
    assert world.run().success and world.active() == "green"
    console = console_client(world)
    edit_back(console, apps["advanced-chat"], world.green, world.blue)
    assert served(world, apps["advanced-chat"]) == [(faq, world.blue)]

    again = world.run()  # the bucket is unchanged: nothing synced, nothing promoted, the apps reconciled

    assert again.success and world.active() == "green"
    assert served(world, apps["advanced-chat"]) == [(faq, world.green)]
    (check,) = apps_check(again)
    results = {r.data["app"].split(" (")[0]: r.data["result"] for r in check.metadata["apps"].value.records}
    assert check.passed and results == {"advanced-chat-app": "switched", "completion-app": "already followed"}
    edit_back(console, apps["advanced-chat"], world.green, world.blue)
    job = world.defs().resolve_job_def("reconcile_apps_job")

    reconciled = job.execute_in_process(instance=world.instance, raise_on_error=False)

    assert reconciled.success and served(world, apps["advanced-chat"]) == [(faq, world.green)]
    console.close()


def console_client(world: SyncWorld) -> DifyConsoleClient:
    """A person's own console session (the editor in a browser)."""
    options = TransportOptions(max_retries=0, rate_limit_per_second=0)
    return DifyConsoleClient(
        world.standin.url, EMAIL, PASSWORD, compat=DifyCompat.parse("1.13.2"), options=options, limiter=RateLimiter(0)
    )


def edit_back(console: DifyConsoleClient, app_id: str, old: str, new: str) -> None:
    """What a person does in the editor: the node names `new` in place of `old`, published."""
    draft = console.get_draft_workflow(app_id)
    for node in draft.graph["nodes"]:
        if node["data"]["type"] == "knowledge-retrieval":
            node["data"]["dataset_ids"] = [new if i == old else i for i in node["data"]["dataset_ids"]]
    console.sync_draft_workflow(app_id, draft, draft.graph)
    console.publish_workflow(app_id)


def promote_once(world: SyncWorld) -> None:
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")


def test_a_draft_changed_in_the_editor_meanwhile_fails_the_promotion_naming_the_app_and_every_app_stays_blue(
    apps_world,
):
    world = apps_world
    faq = world.standin.admin.create_dataset("faq")["id"]
    apps = bound_apps(world, faq, "chat", "advanced-chat")  # the chat app is switched first, then switched back
    promote_once(world)
    admin = world.standin.admin
    admin.set_faults([{"method": "POST", "path": r"/workflows/draft$", "latency_ms": 1500, "times": 1}])
    console = console_client(world)

    def person_edits_the_draft() -> None:
        while admin.faults()[0]["fired"] == 0:  # the product's draft write has arrived and is held
            time.sleep(0.01)
        draft = console.get_draft_workflow(apps["advanced-chat"])
        draft.graph["nodes"][2]["data"]["title"] = "LLM (edited)"
        console.sync_draft_workflow(apps["advanced-chat"], draft, draft.graph)

    editor = threading.Thread(target=person_edits_the_draft)
    editor.start()
    result = world.run()
    editor.join(30)
    admin.clear_faults()
    console.close()

    assert not result.success and world.active() == "blue"
    message = failure_message(result)
    assert f"advanced-chat-app ({apps['advanced-chat']}): the draft was changed in Dify" in message
    assert "draft_workflow_not_sync" in message and "green is not promoted" in message
    assert {m: served(world, a) for m, a in apps.items()} == {m: [(faq, world.blue)] for m in apps}
    (check,) = apps_check(result)
    results = {r.data["app"].split(" (")[0]: r.data["result"] for r in check.metadata["apps"].value.records}
    assert not check.passed and results["chat-app"] == "switched back"

    retried = world.run()  # nobody edits now: the next run switches both and promotes

    assert retried.success and world.active() == "green"
    assert {m: served(world, a) for m, a in apps.items()} == {m: [(faq, world.green)] for m in apps}


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("unbound", "no knowledge-retrieval node names dataset"),
        ("missing", "404"),
    ],
)
def test_an_app_that_cannot_be_switched_fails_the_promotion_naming_it_and_the_others_stay_on_the_active_colour(
    apps_world, bad, named
):
    world = apps_world
    faq = world.standin.admin.create_dataset("faq")["id"]
    apps = bound_apps(world, faq, "advanced-chat")
    promote_once(world)
    if bad == "unbound":  # a workflow whose only knowledge node reads the FAQ: no colour to switch
        bad_id = world.standin.admin.create_console_app("faq-only", "workflow", dataset_ids=[faq])["id"]
    else:
        bad_id = str(uuid.uuid4())
    world.overrides["apps"] = [apps["advanced-chat"], bad_id]

    result = world.run()

    assert not result.success and world.active() == "blue"
    message = failure_message(result)
    assert bad_id in message and named in message
    assert served(world, apps["advanced-chat"]) == [(faq, world.blue)], "switched back: it serves what the state says"


def test_a_refused_console_login_fails_the_promotion_naming_the_setting_and_never_shows_the_password(
    apps_world, monkeypatch
):
    world = apps_world
    faq = world.standin.admin.create_dataset("faq")["id"]
    apps = bound_apps(world, faq, "advanced-chat")
    promote_once(world)
    wrong = "not-the-Passw0rd"
    monkeypatch.setenv(PASSWORD_VAR, wrong)
    world.env[PASSWORD_VAR] = wrong

    result = world.run()

    assert not result.success and world.active() == "blue"
    message = failure_message(result)
    assert "login as ops@example.com failed" in message and apps["advanced-chat"] in message
    assert served(world, apps["advanced-chat"]) == [(faq, world.blue)]
    logs = " ".join(str(e) for e in world.instance.all_logs(result.run_id))
    assert wrong not in logs and PASSWORD not in logs
