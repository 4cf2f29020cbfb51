"""The active colour: which dataset serves, kept as one JSON object in the bucket with its history.

The object is rewritten whole with one PUT (atomic in S3): readers see the old state or the new one, never a
half. Transitions are pure functions over `ColourState`; only `load_state`/`save_state` touch storage.

Each change records the digest of the bucket listing the newly active colour was synced from
(`listing_digest`), which is what decides a run (`decide_run`): a bucket with that digest is already served, so
the run writes nothing and promotes nothing. A rollback also sets a hold: the colour rolled away from is not
promoted again from the same bucket content (seed 000's "switch back, fix the broken colour, then switch
again"); the hold ends when an operator releases it (`release_colour_hold_job`) or when the bucket differs from
what that colour was synced from.
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
    source_digest: str = ""  # the listing `colour` was synced from ("" in states written before it was kept)
    apps: str = ""  # what the change did to the apps of `sync.apps` (app_rebinding.py), "" when none are listed


@dataclass(frozen=True)
class Hold:
    """Promotion held after a rollback away from `colour`, while the bucket holds what it was synced from."""

    colour: str
    source_digest: str
    at: str
    run_id: str
    reason: str


@dataclass(frozen=True)
class RunDecision:
    """The colour a sync run writes (None: nothing to write) and why, in words an operator reads."""

    write: str | None
    reason: str


@dataclass(frozen=True)
class ColourState:
    active: str | None = None
    history: tuple[ColourChange, ...] = field(default_factory=tuple)
    hold: Hold | None = None

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

    @property
    def served_digest(self) -> str:
        """The listing the active colour was synced from ("" when unknown)."""
        return self.history[-1].source_digest if self.active and self.history else ""

    def to_json(self) -> bytes:
        body = {
            "active": self.active,
            "history": [asdict(c) for c in self.history],
            "hold": asdict(self.hold) if self.hold else None,
        }
        return json.dumps(body, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ColourState:
        raw: dict[str, Any] = json.loads(data)
        active = raw.get("active")
        if active is not None and active not in COLOURS:
            raise ValueError(f"active colour state holds an unknown colour: {active!r}")
        hold = Hold(**raw["hold"]) if raw.get("hold") else None
        return cls(active, tuple(ColourChange(**c) for c in raw.get("history", [])), hold)


def decide_run(state: ColourState, digest: str, *, push_all: bool = False) -> RunDecision:
    """What a sync run does with the bucket listing `digest`: write the standby colour, or nothing."""
    standby = state.standby
    if state.active is None:
        return RunDecision(standby, f"no colour is active yet: {standby} is synced and promoted first")
    if state.hold is not None and state.hold.source_digest in (digest, ""):  # "": its content is unknown
        hold = state.hold
        return RunDecision(
            None,
            f"promotion is held since the rollback from {hold.colour} at {hold.at} (run {hold.run_id}): the "
            f"bucket still holds what {hold.colour} was synced from. Fix the bucket (any change lifts the hold) "
            "or launch release_colour_hold_job.",
        )
    if state.served_digest == digest and not push_all:
        change = state.history[-1]
        return RunDecision(
            None,
            f"nothing to sync: the bucket holds exactly what {state.active} serves (synced from it by run "
            f"{change.run_id or '?'} at {change.at}); nothing is written and nothing is promoted",
        )
    return RunDecision(standby, f"{standby} is the standby colour ({state.active} serves): it is synced")


def promote(
    state: ColourState,
    colour: str,
    dataset_id: str,
    at: str,
    run_id: str = "",
    source_digest: str = "",
    apps: str = "",
) -> ColourState:
    """`colour` serves from now on; a hold ends (the bucket moved past it, or it was released)."""
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}; expected blue or green")
    change = ColourChange(colour, dataset_id, at, "promoted after checks passed", run_id, source_digest, apps)
    return ColourState(colour, (*state.history, change)[-HISTORY_LIMIT:])


def rollback(
    state: ColourState, dataset_ids: dict[str, str], at: str, run_id: str = "", note: str = "", apps: str = ""
) -> ColourState:
    """The previous colour serves again, and promotion is held until released or the bucket changes."""
    previous = state.previous
    if previous is None or state.active is None:
        raise ValueError("nothing to roll back to: no earlier active colour in the history")
    reason = f"rollback from {state.active}" + (f": {note}" if note else "")
    served = next((c.source_digest for c in reversed(state.history) if c.colour == previous), "")
    change = ColourChange(previous, dataset_ids[previous], at, reason, run_id, served, apps)
    hold = Hold(state.active, state.served_digest, at, run_id, reason)
    return ColourState(previous, (*state.history, change)[-HISTORY_LIMIT:], hold)


def release(state: ColourState) -> ColourState:
    if state.hold is None:
        raise ValueError("no promotion hold to release: the next sync promotes as usual")
    return ColourState(state.active, state.history, None)


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
