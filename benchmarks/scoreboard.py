"""The hardening scoreboard of the last test run (var/scoreboard/, written by the pytest plugin
`difyops_dagster_tests.scoreboard`): per suite, the cells that stayed green and the counts the suites recorded.

It measures nothing itself: run the README's test command first, then `benchmarks/run.py scoreboard`.
"""

from __future__ import annotations

from difyops_dagster_tests.scoreboard import FOLDER, SUITES, read_scoreboard

TITLE = "Hardening scoreboard of the last test run (faults, crashes, bad input, secrets, load, second S3)"


def run() -> list[dict]:
    rows = read_scoreboard()
    if not rows:
        raise RuntimeError(f"no scoreboard in {FOLDER}: run the test suite first")
    figures = []
    for suite, row in rows.items():
        counts = ", ".join(f"{name} {value}" for name, value in sorted(row["counts"].items()))
        figures.append(
            {
                "figure": SUITES[suite],
                "value": f"{row['green']} of {row['cells']}" + (f" ({counts})" if counts else ""),
                "compared_with": "red: " + ", ".join(row["red"]) if row["red"] else "every cell green",
                "ratio": f"{row['green'] / row['cells']:.0%}" if row["cells"] else "-",
            }
        )
    return figures
