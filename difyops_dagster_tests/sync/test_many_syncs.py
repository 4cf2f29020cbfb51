"""Many knowledge bases in one code location (issue 18): the `syncs:` list, each entry a sync of its own beside the
unnamed `sync:`.

Each sync is named apart from every other (its asset group and keys, jobs, schedule, sensor, resources, pools and
colour-state object), so their runs go side by side and none of them ever counts another's doings as its own: a
promotion writes a colour-state object into the bucket, and a sync of the same bucket neither lists it as a
document nor sees a change in it. Run together on one instance (the repository's dagster.yaml, pools at 1), the
syncs' writing steps overlap in time while every dataset is written by one step at a time and only inside it, and
a sync whose dataset is missing fails alone with the dataset named, the others promoting.
"""

from __future__ import annotations

import uuid

import dagster as dg

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.colour import load_state
from difyops_dagster_tests.sync.conftest import STATE_KEY, SyncWorld, new_pair


def uuid4() -> str:
    return str(uuid.uuid4())


def named_sync(name: str, blue: str, green: str, **fields: object) -> dict:
    """One entry of `syncs:` in blue_green mode, with the sync world's fast indexing polls."""
    return {
        "name": name,
        "blue_dataset_id": blue,
        "green_dataset_id": green,
        "indexing_poll_s": 0.05,
        "indexing_timeout_s": 20,
        **fields,
    }


# --- names: what a person finds in the UI and what the instance keys on ---------------------------------------------


def test_each_named_sync_carries_its_name_in_every_dagster_object_beside_the_unnamed_one():
    console = {"url": "http://127.0.0.1:1", "email": "ops@example.com", "password": {"env": "PW"}}
    handbook_blue, handbook_green, faq, chatflow = uuid4(), uuid4(), uuid4(), uuid4()
    settings = parse_settings(
        {
            "dify": {"base_url": "http://127.0.0.1:1/v1", "dataset_api_key": {"env": "K"}, "console": console},
            "sync": {"bucket": "docs", "blue_dataset_id": uuid4(), "green_dataset_id": uuid4()},
            "syncs": [
                named_sync("handbook", handbook_blue, handbook_green, bucket="docs", apps=[chatflow]),
                {"name": "faq", "bucket": "faq", "mode": "single", "dataset_id": faq},
            ],
        },
        {"K": "k", "PW": "pw"},
    )
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()

    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    blue_green = ["s3_objects", "dify_documents_blue", "dify_documents_green", "sync_plan_blue", "sync_plan_green",
                  "synced_dataset_blue", "synced_dataset_green", "active_colour"]  # fmt: skip
    single = ["s3_objects", "dify_documents", "sync_plan", "synced_dataset"]
    assert groups == {
        **dict.fromkeys(blue_green, "sync"),
        **dict.fromkeys((f"handbook/{key}" for key in blue_green), "sync_handbook"),
        **dict.fromkeys((f"faq/{key}" for key in single), "sync_faq"),
    }
    pools = {key: graph.get(dg.AssetKey.from_user_string(key)).pools for key in groups}
    assert {key: pool for key, pool in pools.items() if pool} == {
        "synced_dataset_blue": {"dify_writes"},
        "synced_dataset_green": {"dify_writes"},
        "active_colour": {"sync_colour"},
        "handbook/synced_dataset_blue": {"dify_writes_handbook"},
        "handbook/synced_dataset_green": {"dify_writes_handbook"},
        "handbook/active_colour": {"sync_colour_handbook"},
        "faq/synced_dataset": {"dify_writes_faq"},
    }

    jobs = {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert jobs == {
        "sync_job",
        "rollback_colour_job",
        "release_colour_hold_job",
        "sync_handbook_job",
        "rollback_colour_handbook_job",
        "release_colour_hold_handbook_job",
        "reconcile_apps_handbook_job",  # handbook's apps; the unnamed sync has none
        "sync_faq_job",  # single mode: no colour to roll back to
    }
    for job, op, pool in [
        ("rollback_colour_job", "rollback_active_colour", "sync_colour"),
        ("rollback_colour_handbook_job", "rollback_active_colour_handbook", "sync_colour_handbook"),
        ("release_colour_hold_handbook_job", "release_promotion_hold_handbook", "sync_colour_handbook"),
    ]:
        assert [(o.name, o.pool) for o in defs.resolve_job_def(job).graph.iterate_op_defs()] == [(op, pool)]
    assert defs.resolve_job_def("sync_handbook_job").tags["difyops/sync_target"] == f"{handbook_blue}+{handbook_green}"
    assert defs.resolve_job_def("sync_faq_job").tags["difyops/sync_target"] == faq

    assert {(s.name, s.job_name) for s in defs.schedules} == {
        ("daily_sync_schedule", "sync_job"),
        ("daily_sync_handbook_schedule", "sync_handbook_job"),
        ("daily_sync_faq_schedule", "sync_faq_job"),
    }
    assert {(s.name, s.job_name, frozenset(s.required_resource_keys)) for s in defs.sensors} == {
        ("bucket_changed_sensor", "sync_job", frozenset({"s3", "bucket_notifications"})),
        ("bucket_changed_handbook_sensor", "sync_handbook_job", frozenset({"s3", "bucket_notifications_handbook"})),
        ("bucket_changed_faq_sensor", "sync_faq_job", frozenset({"s3", "bucket_notifications_faq"})),
    }
    assert {"sync_webhook", "sync_webhook_handbook", "sync_webhook_faq"} <= set(defs.resources)
    assert [s.state_key for s in settings.all_syncs()] == [
        "_difyops/active-colour.json",
        "_difyops/handbook/active-colour.json",
        "_difyops/faq/active-colour.json",
    ]


# --- one bucket, three syncs: a promotion is nobody else's change --------------------------------------------------


def two_syncs_in_one_bucket(world: SyncWorld) -> tuple[dg.Definitions, dict[str, tuple[str, str]]]:
    """The unnamed sync and `handbook`, both of the whole bucket, JSON accepted: a colour-state object a sync did
    not skip would be in its listing and its digest (a change to sync), and uploaded."""
    pairs = {"": (world.blue, world.green), "handbook": new_pair(world.standin)}
    config = world.config(accepted_extensions=["md", "json"])
    shared = {k: v for k, v in config["sync"].items() if k not in ("blue_dataset_id", "green_dataset_id")}
    config["syncs"] = [named_sync("handbook", *pairs["handbook"], **shared)]
    return build_definitions(parse_settings(config, world.env)), pairs


def named(base: str, name: str) -> str:
    """`sync_job` of the sync `name` as the README spells it (`sync_handbook_job`); the unnamed one's own."""
    stem, _, kind = base.rpartition("_")
    return f"{stem}_{name}_{kind}" if name else base


def state_key(name: str) -> str:
    return f"_difyops/{name}/active-colour.json" if name else STATE_KEY


def sensor_tick(defs: dg.Definitions, instance: dg.DagsterInstance, name: str, cursor: str | None):
    sensor = defs.resolve_sensor_def(named("bucket_changed_sensor", name))
    resources = {key: defs.resources[key] for key in sensor.required_resource_keys}
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))


def test_syncs_of_one_bucket_skip_each_others_colour_state_in_their_listing_and_their_sensor(world):
    files = {f"docs/note {i}.md": f"# note {i}" for i in range(3)}
    for key, body in files.items():
        world.put(key, body)
    defs, pairs = two_syncs_in_one_bucket(world)
    cursors = {name: sensor_tick(defs, world.instance, name, None).cursor for name in pairs}

    # Each run after the first finds the other sync's colour-state object in the bucket.
    for name, writes in [("", True), ("handbook", True), ("", False)]:
        world.standin.admin.clear_request_log()
        result = defs.resolve_job_def(named("sync_job", name)).execute_in_process(instance=world.instance)
        assert result.success
        listing = result.asset_materializations_for_node(f"{name}__s3_objects" if name else "s3_objects")
        assert {row.data["key"] for row in listing[0].metadata["objects_preview"].value.records} == set(files)
        assert load_state(world.s3, world.bucket, state_key(name)).active == "blue"
        said = " ".join(e.message for e in world.instance.all_logs(result.run_id))
        assert (world.writes() != []) == writes and ("nothing to sync" in said) != writes, name

    for name, (blue, green) in pairs.items():
        assert world.keys_in(blue) == sorted(files) and world.keys_in(green) == []
        tick = sensor_tick(defs, world.instance, name, cursors[name])
        assert isinstance(tick, dg.SkipReason) and "unchanged" in tick.skip_message, (name, tick)
