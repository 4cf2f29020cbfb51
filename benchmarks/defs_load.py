"""How the code location's load time grows with the number of knowledge bases (`syncs:`, issue 18), against the
issue's bound: Definitions load time with 20 syncs stays under 5 s.

1, 5 and 20 syncs (BENCH_DEFS_SYNCS), half blue_green and half single (blue_green first), each over its own prefix
of one bucket and into its own datasets. Two figures per size, side by side with the single sync:
- in process, what the code server does once it has imported the package: the settings parsed, the Definitions
  built (`build_definitions`), `Definitions.validate_loadable` and `resolve_asset_graph`; each in a fresh Python
  process (so no cache of an earlier size helps), best of BENCH_DEFS_REPEATS (3) alternating runs;
- `dg check defs` on the same settings file, the command CI and operators run: wall time of the whole
  subprocess (Python start, imports, load, validation), best of BENCH_DEFS_CHECK_REPEATS (3) alternating runs,
  printed with the slowest: on a shared machine the spread is the noise the per-sync figure sits in.
The same without any sync (the load's fixed part) gives the cost per sync, (time - time without sync) / syncs; the
import time of the package (Dagster included), paid once whatever the number of syncs, is printed too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks._child import child_json

TITLE = "Definitions load time with 1 / 5 / 20 syncs (in process and `dg check defs`)"
SIZES = [int(n) for n in os.environ.get("BENCH_DEFS_SYNCS", "1,5,20").split(",")]
REPEATS = int(os.environ.get("BENCH_DEFS_REPEATS", 3))
CHECK_REPEATS = int(os.environ.get("BENCH_DEFS_CHECK_REPEATS", 3))
BOUND_S = 5.0  # issue 18: "Definitions load time with 20 syncs stays under 5 s"
ROOT = Path(__file__).resolve().parent.parent
DG = str(Path(sys.executable).with_name("dg"))
KEY_ENV = {"BENCH_DIFY_KEY": "k"}

CHILD = r"""
import json, sys, time
started = time.perf_counter()
import dagster as dg
import yaml
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
imported = time.perf_counter()
data = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
settings = parse_settings(data, {"BENCH_DIFY_KEY": "k"})
parsed = time.perf_counter()
defs = build_definitions(settings)
built = time.perf_counter()
dg.Definitions.validate_loadable(defs)
validated = time.perf_counter()
graph = defs.resolve_asset_graph()
resolved = time.perf_counter()
print(json.dumps({
    "imports": imported - started, "parse": parsed - imported, "build": built - parsed,
    "validate": validated - built, "graph": resolved - validated, "load": resolved - imported,
    "assets": len(graph.get_all_asset_keys()), "checks": len(graph.asset_check_keys),
    "jobs": len(defs.resolve_all_job_defs()),
}))
"""


def dataset_id(number: int) -> str:
    return f"0000{number:04x}-0000-4000-8000-000000000000"


def settings_tree(count: int) -> dict:
    """`count` named syncs, even ones blue_green and odd ones single, every dataset id distinct."""
    syncs = []
    for i in range(count):
        name = f"kb{i:02d}"
        sync = {"name": name, "bucket": "bench-knowledge-bases", "prefix": f"{name}/"}
        if i % 2 == 0:
            sync |= {"mode": "blue_green", "blue_dataset_id": dataset_id(2 * i)}
            sync |= {"green_dataset_id": dataset_id(2 * i + 1)}
        else:
            sync |= {"mode": "single", "dataset_id": dataset_id(2 * i)}
        syncs.append(sync)
    return {
        "dify": {"base_url": "http://127.0.0.1:1/v1", "dataset_api_key": {"env": "BENCH_DIFY_KEY"}},
        "s3": {"endpoint_url": "http://127.0.0.1:1"},
        "syncs": syncs,
    }


def _in_process(config: Path) -> dict:
    return child_json(CHILD, str(config), timeout=600)


def _dg_check_defs(config: Path, home: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [DG, "check", "defs", "--target-path", str(ROOT)],
        env={**os.environ, **KEY_ENV, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0 or "All definitions loaded successfully" not in result.stdout:
        raise RuntimeError(f"dg check defs failed on {config.name}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return seconds


def _syncs(count: int) -> str:
    blue_green = (count + 1) // 2
    return f"{count} sync{'s' if count != 1 else ''} ({blue_green} blue_green + {count - blue_green} single)"


def run() -> list[dict]:
    sizes = [0, *SIZES]  # no sync at all: what the load costs whatever the number of syncs
    with tempfile.TemporaryDirectory(prefix="bench-defs-") as tmp:
        home = Path(tmp)
        configs = {}
        for count in sizes:
            configs[count] = home / f"syncs-{count}.yaml"
            configs[count].write_text(yaml.safe_dump(settings_tree(count)), encoding="utf-8")
        loads: dict[int, list[dict]] = {count: [] for count in sizes}
        checks: dict[int, list[float]] = {count: [] for count in sizes}
        for _ in range(REPEATS):
            for count in sizes:
                loads[count].append(_in_process(configs[count]))
        for _ in range(CHECK_REPEATS):
            for count in sizes:
                checks[count].append(_dg_check_defs(configs[count], home))
    best = {count: min(runs, key=lambda r: r["load"]) for count, runs in loads.items()}
    load = {count: r["load"] for count, r in best.items()}
    wall = {count: min(runs) for count, runs in checks.items()}
    slowest = {count: max(runs) for count, runs in checks.items()}
    imports = min(r["imports"] for runs in loads.values() for r in runs)
    rows = [
        {
            "figure": "imports (dagster, difyops_dagster.definitions), in process",
            "value": f"{imports:.2f} s",
            "compared_with": "paid once, whatever the number of syncs",
            "ratio": "",
        }
    ]
    for count in sizes:
        r = best[count]
        rows.append(
            {
                "figure": f"load in process, {_syncs(count) if count else 'no sync'}",
                "value": f"{r['load']:.2f} s (parse {r['parse']:.2f}, build {r['build']:.2f}, validate "
                f"{r['validate']:.2f}, graph {r['graph']:.2f}); {r['assets']} assets, {r['checks']} checks, "
                f"{r['jobs']} jobs",
                **_against(load, count),
            }
        )
    for count in sizes:
        rows.append(
            {
                "figure": f"`dg check defs` wall, {_syncs(count) if count else 'no sync (Python start, imports)'}",
                "value": f"{wall[count]:.2f} s (slowest run {slowest[count]:.2f} s)",
                **_against(wall, count),
            }
        )
    return rows


def _against(seconds: dict[int, float], count: int) -> dict[str, str]:
    """The compared_with and ratio cells: against one sync, and the cost of each sync over the load of none."""
    if count == 0:
        return {"compared_with": "the fixed part of every load below", "ratio": ""}
    one = seconds.get(1, seconds[count])
    per_sync = (seconds[count] - seconds[0]) / count
    bound = f"; bound {BOUND_S:.0f} s at 20 syncs" if count == 20 else ""
    return {
        "compared_with": f"1 sync: {one:.2f} s; no sync: {seconds[0]:.2f} s{bound}",
        "ratio": f"{seconds[count] / one:.2f}x 1 sync; {per_sync * 1000:.0f} ms per sync",
    }
