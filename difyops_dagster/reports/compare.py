"""Week over week: this week's headline measures beside the week before's, with the change and an arrow.

Pure: two `Totals` in, a table out. Counts and amounts change by a percentage; a rate changes by percentage
points (a failure rate going from 2 % to 3 % is "+1.0 pp", not "+50 %"). The arrow shows the direction only
(▲ up, ▼ down, ▶ unchanged); whether up is good depends on the measure and is left to the reader. A measure
unknown in either week (no runs, cost not fetched) shows "n/a".
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

COLUMNS = ["measure", "this_week", "week_before", "change"]
UP, DOWN, SAME = "▲", "▼", "▶"


@dataclass(frozen=True)
class Measure:
    name: str
    field: str
    kind: str  # count | seconds | rate | money


MEASURES = (
    Measure("runs", "runs", "count"),
    Measure("failure rate", "failure_rate", "rate"),
    Measure("latency p95", "latency_p95_s", "seconds"),
    Measure("tokens", "total_tokens", "count"),
    Measure("cost", "cost", "money"),
)


def _shown(value: float | None, kind: str, currency: str | None) -> str:
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return f"{value:,.3f}".rstrip("0").rstrip(".") + " s"
    if kind == "money":
        return f"{value:,.6f}".rstrip("0").rstrip(".") + (f" {currency}" if currency else "")
    return f"{int(value):,}"


def _change(now: float | None, before: float | None, kind: str) -> str:
    if now is None or before is None:
        return "n/a"
    arrow = UP if now > before else DOWN if now < before else SAME
    if kind == "rate":
        return f"{arrow} {(now - before) * 100:+.1f} pp"
    if before == 0:
        return f"{arrow} new" if now else f"{SAME} 0%"
    return f"{arrow} {(now - before) / before * 100:+.1f}%"


def compare_weeks(this_week, week_before) -> pd.DataFrame:
    """`this_week` and `week_before` are `Totals`; one line per measure in `MEASURES`."""
    records = []
    for measure in MEASURES:
        now, before = getattr(this_week, measure.field), getattr(week_before, measure.field)
        records.append(
            {
                "measure": measure.name,
                "this_week": _shown(now, measure.kind, this_week.currency),
                "week_before": _shown(before, measure.kind, week_before.currency),
                "change": _change(now, before, measure.kind),
            }
        )
    return pd.DataFrame.from_records(records, columns=COLUMNS)
