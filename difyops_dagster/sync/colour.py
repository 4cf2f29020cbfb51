"""The active colour: which dataset serves, kept as one JSON object in the bucket with its history.

The object is rewritten whole with one PUT (atomic in S3): readers see the old state or the new one, never a
half. Transitions are pure functions over `ColourState`; only `load_state`/`save_state` touch storage.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

COLOURS = ("blue", "green")
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class ColourChange:
    colour: str
    dataset_id: str
    at: str
    reason: str
    run_id: str = ""


@dataclass(frozen=True)
class ColourState:
    active: str | None = None
    history: tuple[ColourChange, ...] = field(default_factory=tuple)

    @property
    def standby(self) -> str:
        return "green" if self.active == "blue" else "blue"

    @property
    def previous(self) -> str | None:
        """The colour that was active before the current one, if any."""
        for change in reversed(self.history[:-1]):
            if change.colour != self.active:
                return change.colour
        return None

    def to_json(self) -> bytes:
        return json.dumps({"active": self.active, "history": [asdict(c) for c in self.history]}, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ColourState:
        raw: dict[str, Any] = json.loads(data)
        active = raw.get("active")
        if active is not None and active not in COLOURS:
            raise ValueError(f"active colour state holds an unknown colour: {active!r}")
        return cls(active, tuple(ColourChange(**c) for c in raw.get("history", [])))


def promote(state: ColourState, colour: str, dataset_id: str, at: str, run_id: str = "") -> ColourState:
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}; expected blue or green")
    change = ColourChange(colour, dataset_id, at, "promoted after checks passed", run_id)
    return ColourState(colour, (*state.history, change)[-HISTORY_LIMIT:])


def rollback(state: ColourState, dataset_ids: dict[str, str], at: str, run_id: str = "", note: str = "") -> ColourState:
    previous = state.previous
    if previous is None:
        raise ValueError("nothing to roll back to: no earlier active colour in the history")
    reason = f"rollback from {state.active}" + (f": {note}" if note else "")
    change = ColourChange(previous, dataset_ids[previous], at, reason, run_id)
    return ColourState(previous, (*state.history, change)[-HISTORY_LIMIT:])


def load_state(s3: Any, bucket: str, key: str) -> ColourState:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return ColourState()
        raise
    try:
        return ColourState.from_json(body)
    except (ValueError, TypeError) as exc:  # an unknown colour, or not the JSON we write: say which object
        raise ValueError(f"s3://{bucket}/{key}: {exc}") from None


def save_state(s3: Any, bucket: str, key: str, state: ColourState) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=state.to_json(), ContentType="application/json")
