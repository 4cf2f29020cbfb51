"""Where the reports feature keeps things in the artifact store (local folder or S3 prefix, same keys).

    <prefix>logs/<app>/<app>_logs_<day>.jsonl          the day's rows (JSON lines)
    <prefix>logs/<app>/<app>_logs_<day>.status.json    how that fetch went (written last; read first)
    <prefix>daily/<app>/<app>_daily_<day>.<fmt>        csv | md | json | png
    <prefix>weekly/<app>/<app>_weekly_<first>_<last>.<fmt>

Every name carries the app, the window and the format, so a listing is readable without an index.
"""

from __future__ import annotations


def rows_key(prefix: str, app: str, day: str) -> str:
    return f"{prefix}logs/{app}/{app}_logs_{day}.jsonl"


def status_key(prefix: str, app: str, day: str) -> str:
    return f"{prefix}logs/{app}/{app}_logs_{day}.status.json"


def report_key(prefix: str, kind: str, app: str, file_name: str) -> str:
    return f"{prefix}{kind}/{app}/{file_name}"
