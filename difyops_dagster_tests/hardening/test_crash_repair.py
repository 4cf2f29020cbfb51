"""Crash repair: a run process killed with SIGKILL anywhere is repaired by the next run, with no duplicate
document, no lost file and no half-written report (issue 9's "crashes" scoreboard; one cell per kill point).

The killed run is a real process of its own (forked by crash_runner.py, a server that imported everything once)
and its whole process group gets SIGKILL the moment the outside world shows the chosen point: the k-th upload,
delete, metadata write, list page or indexing poll has reached the stand-in; the colour object in the bucket
changed; the video site served its n-th file; the report folder or bucket holds n files. The points come from a
seeded RNG, so a red cell replays the same way. Seed 000 replaced its listing before uploading and flipped its
colour before syncing, so a crash lost files or left traffic on a broken dataset; here the truth is re-read from
S3 and Dify.

Sync: one bucket of 300 files per worker, changed a little before each cycle (edits, deletes, new files), 20 kill
points spread over listing, deletes, uploads, metadata writes, the indexing wait and the promotion. After each
kill: the active colour is untouched, or (killed after the promotion) it is the standby and holds the bucket
exactly. After the repair run: it succeeded, the colour it synced holds the bucket exactly and is active, the
other holds its own last sync exactly, with one indexed document per file and no duplicate name or key.

Apps (issue 17): a promotion killed after it switched the chatflow of `sync.apps` and before it wrote the colour
state leaves the app ahead of the state; the next run promotes and both agree again.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
import yaml

from difyops_dagster.storage.artifacts import LocalArtifactStore
from difyops_dagster_tests.hardening.crash_reports import (
    REPORT_CALLS,
    REPORTS,
    ReportBench,
    half_written,
    leftovers,
    report_files,
)
from difyops_dagster_tests.hardening.crash_sync import SyncBench
from difyops_dagster_tests.hardening.crash_video import VideoBench, torn_documents
from difyops_dagster_tests.hardening.crashes import (
    SYNC_CALLS,
    SlowWebhook,
    calls_seen,
    count_calls,
    dataset_documents,
    exact_problems,
    kill_when,
)
from difyops_dagster_tests.sync.conftest import open_world
from difyops_dagster_tests.video.sample_site import MediaSite, make_clip

pytestmark = pytest.mark.slow

SEED = 20269
KILL_LATENCY_MS = 10
INDEXING_S = 0.1
# Where the 20 kills of the sync land; the order (and each point's offset within its phase) comes from the seed.
# The first cycle is the first sync of all 300 files into an empty colour, so it is killed mid-upload.
_MIX = ["listing"] * 2 + ["delete"] * 3 + ["upload"] * 6 + ["metadata"] * 3 + ["indexing"] * 3 + ["promotion"] * 2
random.Random(SEED).shuffle(_MIX)
SYNC_PHASES = ["upload", *sorted(_MIX[:2], key=lambda p: p == "delete"), *_MIX[2:]]  # cycle 2 has no deletes yet


@pytest.fixture(scope="module")
def webhook() -> Iterator[SlowWebhook]:
    receiver = SlowWebhook()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def fresh_standin(standin_server):
    """The worker's stand-in, reset once for this module (each bench notices a later reset and starts again)."""
    standin_server.admin.reset()
    return standin_server


@pytest.fixture(scope="module")
def sync_bench(fresh_standin, s3_server, run_server, tmp_path_factory, webhook, environ) -> Iterator[SyncBench]:
    home = tmp_path_factory.mktemp("crash-sync")
    s3 = s3_server.client()
    bucket = f"crash-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(fresh_standin, s3, bucket, environ, home, endpoint_url=s3_server.endpoint_url) as world:
        yield SyncBench(world, run_server, home, webhook, SEED)


@pytest.fixture
def quiet_standin(standin_server) -> Iterator[None]:
    """Latency, indexing time and faults are this cycle's; whatever happens, the next test gets them cleared."""
    admin = standin_server.admin
    admin.clear_faults()
    admin.set_latency(0)
    admin.set_indexing(seconds=INDEXING_S, error_names="")
    admin.clear_request_log()
    yield
    admin.clear_faults()
    admin.set_latency(0)
    admin.set_indexing(seconds=0)


def _sync_kill_point(bench: SyncBench, phase: str, rng: random.Random, standby: str) -> tuple[str, int]:
    planned = bench.planned(standby)
    if phase == "listing":
        return "list", rng.randint(1, 2)
    if phase == "delete":
        return "delete", rng.randint(1, max(1, planned["delete"]))
    if phase == "upload":
        return "upload", rng.randint(1, planned["upload"])
    if phase == "metadata":
        return "metadata", rng.randint(1, max(1, planned["upload"] // 50))
    if phase == "indexing":
        return "indexing", rng.randint(1, planned["upload"])
    return "promotion", 1


@pytest.mark.scoreboard("crashes")
@pytest.mark.xdist_group("crash-sync")
@pytest.mark.parametrize("cycle", range(len(SYNC_PHASES)), ids=[f"{i:02d}-{p}" for i, p in enumerate(SYNC_PHASES)])
def test_a_sync_of_300_files_killed_anywhere_is_repaired_by_the_next_run(
    sync_bench: SyncBench, quiet_standin, webhook, record_property, cycle
):
    bench, admin = sync_bench, sync_bench.admin
    bench.recover_if_reset()
    rng = random.Random(SEED * 100 + cycle)
    if cycle > 0:
        bench.change()
    with dg.instance_for_test() as instance:
        record_property("settling_syncs", bench.settle(instance, need_deletes=SYNC_PHASES[cycle] == "delete"))
    before = bench.state()
    standby = before.standby
    kind, point = _sync_kill_point(bench, SYNC_PHASES[cycle], rng, standby)
    planned = bench.planned(standby)
    record_property("kill_point", f"{kind} #{point} (planned {planned})")

    def reached() -> bool:
        if kind == "promotion":
            return bench.state().active != before.active
        return calls_seen(admin, SYNC_CALLS)[kind] >= point

    count_calls(admin, SYNC_CALLS, KILL_LATENCY_MS)
    webhook.hold_s = 5.0 if kind == "promotion" else 0.0
    started = time.monotonic()
    run = bench.launch()
    killed = kill_when(run, reached)
    record_property("killed_after_s", round(time.monotonic() - started, 1))
    seen = calls_seen(admin, SYNC_CALLS)
    webhook.hold_s = 0.0
    admin.clear_faults()
    record_property("seen_at_kill", seen)
    assert killed, f"the run ended before its kill point {kind} #{point}:\n{run.tail()}"
    record_property("kills", 1)

    after_kill = bench.state()
    if after_kill.active == before.active:
        if before.active is not None:
            assert bench.problems(before.active, bench.expected[before.active]) == [], "the killed run wrote active"
    else:
        assert kind == "promotion" and after_kill.active == standby, f"colour moved at {kind}: {after_kill}"
        assert bench.problems(standby, bench.files) == [], "the colour moved to a dataset that is not exact"
        bench.expected[standby] = dict(bench.files)

    started = time.monotonic()
    with dg.instance_for_test() as instance:
        result = bench.repair_run(instance)
    record_property("repair_s", round(time.monotonic() - started, 1))
    assert result.success, "the repair run must pass every check"
    repaired = bench.state().active
    if after_kill.active != before.active:
        # killed after its promotion: the bucket is what the promoted colour serves, so the next run has nothing to do
        assert repaired == after_kill.active and bench.state().history == after_kill.history, "nothing promoted again"
    else:
        assert repaired is not None and repaired != after_kill.active, "the repair run promotes the colour it synced"
    bench.expected[repaired] = dict(bench.files)
    other = "green" if repaired == "blue" else "blue"
    problems = bench.problems(repaired, bench.files) + bench.problems(other, bench.expected[other])
    assert problems == [], problems[:10]
    record_property("repaired", 1)


# --- reports --------------------------------------------------------------------------------------------------------

# (storage, phase): killed while fetching the week's logs from Dify, or while writing the 28 report files.
REPORT_POINTS = [("local", "fetch"), ("local", "publish"), ("local", "publish"), ("s3", "fetch"), ("s3", "publish")]


@pytest.fixture(scope="module")
def report_bench(fresh_standin, s3_server, run_server, tmp_path_factory, environ) -> ReportBench:
    bench = ReportBench(fresh_standin, s3_server, run_server, tmp_path_factory.mktemp("crash-reports"))
    for name, value in bench.env.items():
        environ.setenv(name, value)
    return bench


@pytest.mark.scoreboard("crashes")
@pytest.mark.xdist_group("crash-video-reports")
@pytest.mark.parametrize(
    "cycle", range(len(REPORT_POINTS)), ids=[f"{s}-{p}-{i}" for i, (s, p) in enumerate(REPORT_POINTS)]
)
def test_a_report_run_killed_anywhere_leaves_no_half_written_report_and_the_next_run_writes_them_all(
    report_bench: ReportBench, quiet_standin, record_property, cycle
):
    bench, admin = report_bench, report_bench.standin.admin
    bench.ensure_app()
    reference = bench.reference_files()
    kind, phase = REPORT_POINTS[cycle]
    storage, store = bench.storage(kind, f"cycle-{cycle}")
    rng = random.Random(SEED * 1000 + cycle)
    point = rng.randint(5, 60) if phase == "fetch" else rng.randint(1, len(reference) - 1)
    record_property("kill_point", f"{kind} {phase} #{point}")

    def reached() -> bool:
        if phase == "fetch":
            return calls_seen(admin, REPORT_CALLS)["dify"] >= point
        return len(list(store.list(REPORTS))) >= point

    count_calls(admin, REPORT_CALLS, 0)
    run = bench.launch(storage)
    killed = kill_when(run, reached)
    written = len(list(store.list(REPORTS)))
    record_property("seen_at_kill", {**calls_seen(admin, REPORT_CALLS), "report_files": written})
    admin.clear_faults()
    assert killed, f"the report run ended before its kill point:\n{run.tail()}"
    record_property("kills", 1)
    assert half_written(store, reference) == [], "the killed run left a half-written report"
    record_property("temp_files_at_kill", leftovers(store))

    assert bench.run_in_process(storage), "the repair run must succeed"
    assert half_written(store, reference) == []
    assert leftovers(store) == [], "the repair run leaves no half-written temp file behind"
    assert report_files(store) == reference, "after the repair every report file is there, whole"
    record_property("repaired", 1)


# --- videos ---------------------------------------------------------------------------------------------------------

# Killed while yt-dlp fetches from the site (feed, pages, subtitles), or while the dataset sync uploads or tags.
VIDEO_POINTS = ["download", "download", "upload", "metadata"]


@pytest.fixture(scope="module")
def video_bench(fresh_standin, run_server, tmp_path_factory, environ) -> Iterator[VideoBench]:
    home = tmp_path_factory.mktemp("crash-video")
    site = MediaSite(home / "site", make_clip(home / "clip.mp4"))
    bench = VideoBench(fresh_standin, site, run_server, home)
    for name, value in bench.env.items():
        environ.setenv(name, value)
    yield bench
    site.close()


@pytest.mark.scoreboard("crashes")
@pytest.mark.xdist_group("crash-video-reports")
@pytest.mark.parametrize("cycle", range(len(VIDEO_POINTS)), ids=[f"{i}-{p}" for i, p in enumerate(VIDEO_POINTS)])
def test_a_video_batch_killed_anywhere_is_completed_by_the_next_batch_with_each_document_once(
    video_bench: VideoBench, quiet_standin, record_property, cycle
):
    bench, admin = video_bench, video_bench.standin.admin
    reference = bench.reference_documents()
    dataset_id, folder = bench.fresh(f"cycle-{cycle}")
    phase = VIDEO_POINTS[cycle]
    rng = random.Random(SEED * 10000 + cycle)
    point = {"download": rng.randint(2, 4 * 6), "upload": rng.randint(1, 5), "metadata": 1}[phase]
    record_property("kill_point", f"{phase} #{point}")
    bench.site.clear()

    def reached() -> bool:
        if phase == "download":
            return len(bench.site.requests) >= point
        return calls_seen(admin, SYNC_CALLS)[phase] >= point

    count_calls(admin, SYNC_CALLS, KILL_LATENCY_MS)
    run = bench.launch(dataset_id, folder)
    killed = kill_when(run, reached)
    record_property("seen_at_kill", {**calls_seen(admin, SYNC_CALLS), "site_requests": len(bench.site.requests)})
    admin.clear_faults()
    assert killed, f"the video batch ended before its kill point:\n{run.tail()}"
    record_property("kills", 1)
    assert torn_documents(folder, bench.reference_folder) == [], "the killed batch left a half-written document"

    assert bench.run_in_process(dataset_id, folder), "the repair batch must succeed"
    documents = dataset_documents(admin, dataset_id)
    expected = {key: text for key, (_, text) in reference.items()}
    names = {key: name for key, (name, _) in reference.items()}
    assert exact_problems(documents, expected, names) == []
    assert torn_documents(folder, bench.reference_folder) == []
    assert leftovers(LocalArtifactStore(folder)) == [], "no temp file left behind"
    record_property("repaired", 1)


# --- apps: killed between switching the apps and writing the colour state ---------------------------------------------

CONSOLE_EMAIL, CONSOLE_PASSWORD = "crash-ops@example.com", "crash-console-pw"
HELD_READ_MS = 3000  # every read of a published workflow is held this long: the kill lands before the state write


def _serves(admin, app_id: str) -> list[str]:
    graph = admin.console_app(app_id)["published"][-1]["graph"]
    return [
        i
        for node in graph["nodes"]
        if node["data"]["type"] == "knowledge-retrieval"
        for i in node["data"]["dataset_ids"]
    ]


@pytest.mark.scoreboard("crashes")
@pytest.mark.xdist_group("crash-sync")
def test_a_promotion_killed_after_it_switched_the_apps_and_before_it_wrote_the_state_is_repaired_by_the_next_run(
    fresh_standin, s3_server, run_server, tmp_path, environ, quiet_standin, record_property
):
    """Apps first, then the state (sync/app_rebinding.py): the kill leaves the chatflow serving green while the
    state still says blue; the next run promotes green, finding the app already there, and both agree again."""
    admin = fresh_standin.admin
    admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    s3 = s3_server.client()
    bucket = f"crash-apps-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    environ.setenv("CRASH_CONSOLE_PASSWORD", CONSOLE_PASSWORD)
    with open_world(fresh_standin, s3, bucket, environ, tmp_path, endpoint_url=s3_server.endpoint_url) as world:
        world.env["CRASH_CONSOLE_PASSWORD"] = CONSOLE_PASSWORD
        world.dify_overrides = {
            "console": {"url": fresh_standin.url, "email": CONSOLE_EMAIL, "password": {"env": "CRASH_CONSOLE_PASSWORD"}}
        }
        app_id = admin.create_console_app("support", "advanced-chat", dataset_ids=[world.blue])["id"]
        world.overrides["apps"] = [app_id]
        for i in range(3):
            world.put(f"docs/{i}.md", f"# note {i}\n")
        assert world.run().success and world.active() == "blue" and _serves(admin, app_id) == [world.blue]
        world.put("docs/new.md", "# a new note\n")
        config = tmp_path / "difyops.yaml"
        config.write_text(yaml.safe_dump(world.config()))
        (tmp_path / "dagster").mkdir()
        (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**world.env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path / "dagster")}
        admin.set_faults([{"method": "GET", "path": r"/workflows/publish$", "latency_ms": HELD_READ_MS}])

        run = run_server.launch(env, ["job=sync_job"], tmp_path / "killed.log")
        killed = kill_when(run, lambda: _serves(admin, app_id) == [world.green])
        admin.clear_faults()

        assert killed, f"the run ended before it switched the app:\n{run.tail()}"
        record_property("kills", 1)
        assert world.active() == "blue", "killed between the two: the apps moved, the state did not yet"
        with dg.instance_for_test() as instance:
            world.instance = instance
            repaired = world.run()
        assert repaired.success and world.active() == "green"
        assert _serves(admin, app_id) == [world.green]
        (check,) = [e for e in repaired.get_asset_check_evaluations() if e.check_name == "apps_follow_active_colour"]
        assert check.passed and [r.data["result"] for r in check.metadata["apps"].value.records] == ["already followed"]
        record_property("repaired", 1)
