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
from pathlib import Path

import dagster as dg
import pytest

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.colour import load_state
from difyops_dagster_tests.hardening.long_lived import (
    LIVE_SYNC,
    LongLivedInstance,
    assert_one_promoted_and_the_others_said_why,
    run_log,
    run_span,
    step_spans,
)
from difyops_dagster_tests.sync.conftest import SyncWorld, new_pair
from difyops_dagster_tests.sync.knowledge_bases import KnowledgeBase, knowledge_bases, named, state_key, syncs_config


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


# --- together on one instance, each run a process of its own ------------------------------------------------------

WRITE_LATENCY_MS = 700  # each write to Dify takes a while, so a writing step lasts seconds and the syncs meet
WRITE_METHODS = ("POST", "PATCH", "DELETE")


def long_lived(world: SyncWorld, home: Path, bases: list[KnowledgeBase]) -> LongLivedInstance:
    """One settings file for every base (a step's Dify calls one at a time, so its writes follow each other)."""
    return LongLivedInstance(home, world.env, syncs_config(world, bases, **{**LIVE_SYNC, "upload_concurrency": 1}))


def writes_by_dataset(world: SyncWorld) -> dict[str, list[float]]:
    """When each write request to each dataset reached the stand-in."""
    writes: dict[str, list[float]] = {}
    for request in world.standin.admin.request_log():
        parts = request["path"].split("/")  # /v1/datasets/<id>/...
        if request["method"] in WRITE_METHODS and parts[2:3] == ["datasets"] and len(parts) > 4:
            writes.setdefault(parts[3], []).append(request["time"])
    return writes


def write_spans(life: LongLivedInstance, bases: list[KnowledgeBase]) -> dict[tuple[str, str], list[tuple]]:
    """(base, dataset id) -> the (start, end) of every step of every run that wrote that dataset."""
    spans: dict[tuple[str, str], list[tuple]] = {}
    with life.instance() as instance:
        for base in bases:
            for run in instance.get_runs(dg.RunsFilter(job_name=base.job)):
                steps = step_spans(instance, run.run_id)
                for colour, dataset in base.datasets().items():
                    span = steps.get(base.step(f"synced_dataset_{colour}"))
                    if span is not None:
                        spans.setdefault((base.name, dataset), []).append(span)
    return spans


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most spans running at one moment (a span's start is the moment to look at)."""
    return max(sum(s[0] <= start < s[1] for s in spans) for start, _ in spans)


def assert_each_dataset_written_by_one_step_at_a_time(
    spans: dict[tuple[str, str], list[tuple]], writes: dict[str, list[float]]
) -> None:
    """Every write request to a dataset fell inside a step writing it, and no two such steps overlapped."""
    written = {dataset for _, dataset in spans}
    assert set(writes) <= written, f"writes to datasets no step wrote: {set(writes) - written}"
    for (name, dataset), steps in spans.items():
        assert not any(overlap(a, b) for i, a in enumerate(steps) for b in steps[i + 1 :]), (name, steps)
        outside = [t for t in writes.get(dataset, []) if not any(start <= t <= end for start, end in steps)]
        assert outside == [], f"{name or 'sync'}: writes to {dataset} outside its writing step: {outside} {steps}"


def assert_promoted(world: SyncWorld, base: KnowledgeBase) -> None:
    assert load_state(world.s3, world.bucket, state_key(base.name)).active == "blue", base.name
    assert world.keys_in(base.blue) == base.source_keys() and world.keys_in(base.green) == [], base.name


def failure_messages(instance: dg.DagsterInstance, run_id: str) -> str:
    texts = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.step_failure_data.error
        while error is not None:
            texts.append(error.message)
            error = error.cause
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.xdist_group("many-syncs")
@pytest.mark.scoreboard("concurrency")
def test_two_syncs_launched_together_write_side_by_side_and_one_dataset_one_step_at_a_time(
    world, tmp_path, record_property
):
    """`handbook` launched twice and `faq` once, at the same moment: the syncs write in parallel (each its own
    pool), handbook's second run waits for its first and finds nothing to sync."""
    bases = knowledge_bases(world, ["handbook", "faq"], files=4)
    handbook, faq = bases
    life = long_lived(world, tmp_path, bases)
    world.standin.admin.set_faults([{"method": "POST", "path": "^/v1/datasets/", "latency_ms": WRITE_LATENCY_MS}])
    world.standin.admin.clear_request_log()

    codes = life.launch_together(["sync_handbook_job", "sync_handbook_job", "sync_faq_job"], tmp_path)

    assert codes == [0, 0, 0], [log.read_text(errors="replace")[-2000:] for log in sorted(tmp_path.glob("*.log"))]
    for base in bases:
        assert_promoted(world, base)
    writes = writes_by_dataset(world)
    spans = write_spans(life, bases)
    assert set(spans) == {("handbook", handbook.blue), ("faq", faq.blue)}, "one writing step per sync"
    assert_each_dataset_written_by_one_step_at_a_time(spans, writes)
    assert overlap(spans["handbook", handbook.blue][0], spans["faq", faq.blue][0]), "the two syncs wrote at once"
    uploads = [r for r in world.standin.admin.request_log() if r["path"].endswith("/document/create-by-file")]
    assert len(uploads) == 2 * 4, "each file uploaded once"
    with life.instance() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="sync_handbook_job"))
        logs = {run.run_id: run_log(instance, run.run_id) for run in runs}
        assert_one_promoted_and_the_others_said_why(logs, {r.run_id: run_span(instance, r.run_id) for r in runs})
        storage = instance.event_log_storage
        pools = {"dify_writes_handbook", "sync_colour_handbook", "dify_writes_faq", "sync_colour_faq"}
        assert set(storage.get_concurrency_keys()) == pools
        assert {pool: storage.get_concurrency_info(pool).slot_count for pool in pools} == dict.fromkeys(pools, 1)
    record_property("runs", 3)


@pytest.mark.slow
@pytest.mark.xdist_group("many-syncs")
@pytest.mark.scoreboard("concurrency")
def test_five_syncs_launched_together_promote_side_by_side_but_the_one_whose_dataset_refuses_writes(
    world, tmp_path, record_property
):
    """The unnamed sync and four named ones, one run each at the same moment; Dify refuses every upload to
    `archive`'s blue dataset: that run fails naming the dataset and its step, the four others promote."""
    bases = knowledge_bases(world, ["", "handbook", "faq", "policies", "archive"], files=2)
    archive = bases[-1]
    life = long_lived(world, tmp_path, bases)
    refused = "the dataset is read-only during a migration"
    world.standin.admin.set_faults(
        [
            {"path": f"^/v1/datasets/{archive.blue}/document/create", "status": 400, "message": refused},
            {"method": "POST", "path": "^/v1/datasets/", "latency_ms": WRITE_LATENCY_MS},
        ]
    )
    world.standin.admin.clear_request_log()

    codes = life.launch_together([b.job for b in bases], tmp_path)

    assert codes[:-1] == [0, 0, 0, 0] and codes[-1] != 0, codes
    for base in bases[:-1]:
        assert_promoted(world, base)
    states = world.s3.list_objects_v2(Bucket=world.bucket, Prefix="_difyops/")["Contents"]
    assert sorted(o["Key"] for o in states) == sorted(state_key(b.name) for b in bases[:-1]), "archive promoted nothing"
    assert world.keys_in(archive.blue) == [] and world.keys_in(archive.green) == []
    with life.instance() as instance:
        (run,) = instance.get_runs(dg.RunsFilter(job_name="sync_archive_job"))
        message = failure_messages(instance, run.run_id)
    assert "archive/synced_dataset_blue" in message and archive.blue in message and refused in message, message
    spans = write_spans(life, bases)
    assert {dataset for _, dataset in spans} == {b.blue for b in bases}, "one writing step per sync"
    assert_each_dataset_written_by_one_step_at_a_time(spans, writes_by_dataset(world))
    at_once = most_at_once([span for steps in spans.values() for span in steps])
    assert at_once >= 2, "the syncs' writing steps ran side by side"
    record_property("runs", 5)
    record_property("write_steps_at_once", at_once)
