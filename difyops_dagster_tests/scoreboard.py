"""The hardening scoreboard: every test marked `@pytest.mark.scoreboard("<suite>")` is one cell of that suite, green
when the test passed and red when it failed or errored (a skipped cell is red too: a skip never counts as survived).

Why a plugin and not counters in the tests: the cell's colour is the test's own outcome as pytest reports it, so no
suite can print a figure its assertions did not earn. A test adds counts to its suite's row with
`record_property("<name>", <int>)`, e.g. `record_property("secrets_found", hits)`; the row sums them, except
figures named `peak_*` (a peak of several cells is their largest, not their sum).

Workers (pytest-xdist) append one JSON line per cell to var/scoreboard/<suite>.jsonl; the controlling process clears
the folder when the session starts and prints the table at the end. `benchmarks/scoreboard.py` prints the same table
from those files, for the README.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = Path(os.environ.get("DIFYOPS_SCOREBOARD_DIR", ROOT / "var" / "scoreboard"))

# The suites of issues 9 and 13 and what a green cell means in each; unknown suite names are refused at collection.
SUITES = {
    "faults": "faults survived",
    "crashes": "crashes repaired",
    "bad_input": "bad inputs rejected",
    "secrets": "jobs audited for secrets",
    "load": "load runs within bounds",
    "second_s3": "tests passed on SeaweedFS",
    "concurrency": "concurrent syncs that promoted once, writing each change once",
}


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scoreboard(suite): the test is one cell of a hardening suite's scoreboard")
    if _is_controller(config) and not config.option.collectonly:
        shutil.rmtree(FOLDER, ignore_errors=True)
        FOLDER.mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("scoreboard")
        if marker is not None and (not marker.args or marker.args[0] not in SUITES):
            raise pytest.UsageError(f"{item.nodeid}: scoreboard suite must be one of {sorted(SUITES)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    marker = item.get_closest_marker("scoreboard")
    if marker is None:
        return report
    failed_setup = report.when == "setup" and not report.passed
    if report.when == "call" or failed_setup or (report.when == "teardown" and report.failed):
        cell = {
            "cell": item.nodeid.split("::", 1)[-1],
            "phase": report.when,
            "green": report.passed and report.when != "setup",
            "counts": {k: v for k, v in item.user_properties if isinstance(v, int) and not isinstance(v, bool)},
        }
        FOLDER.mkdir(parents=True, exist_ok=True)
        with (FOLDER / f"{marker.args[0]}.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(cell) + "\n")
    return report


def read_scoreboard(folder: Path = FOLDER) -> dict[str, dict]:
    """Per suite: cells, green, red, the red cells' names and the summed counts. A cell whose call passed but whose
    teardown failed is red."""
    rows: dict[str, dict] = {}
    for suite in SUITES:
        path = folder / f"{suite}.jsonl"
        if not path.exists():
            continue
        cells: dict[str, bool] = {}
        counts: dict[str, int] = defaultdict(int)
        for line in path.read_text(encoding="utf-8").splitlines():
            cell = json.loads(line)
            cells[cell["cell"]] = cells.get(cell["cell"], True) and cell["green"]
            for name, value in cell["counts"].items():
                counts[name] = max(counts[name], value) if name.startswith("peak") else counts[name] + value
        rows[suite] = {
            "cells": len(cells),
            "green": sum(cells.values()),
            "red": sorted(name for name, green in cells.items() if not green),
            "counts": dict(counts),
        }
    return rows


def render_scoreboard(rows: dict[str, dict]) -> str:
    lines = ["| suite | what a green cell is | green / cells | counts |", "|---|---|---|---|"]
    for suite, row in rows.items():
        counts = ", ".join(f"{name} {value}" for name, value in sorted(row["counts"].items())) or "-"
        lines.append(f"| {suite} | {SUITES[suite]} | {row['green']} / {row['cells']} | {counts} |")
    for suite, row in rows.items():
        for name in row["red"]:
            lines.append(f"\nred: {suite} {name}")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if not _is_controller(config):
        return
    rows = read_scoreboard()
    if rows:
        terminalreporter.write_sep("=", "hardening scoreboard")
        terminalreporter.write_line(render_scoreboard(rows))
