"""How one sync's Dagster objects are named, so that many syncs live side by side in one code location.

A sync comes from the `sync:` section (unnamed) or from an entry of `syncs:` (named, e.g. `handbook`); for
the one, then the other:

- asset group `sync` / `sync_handbook`; asset keys `s3_objects`, `active_colour`, ... / `handbook/s3_objects`,
  `handbook/active_colour`, ...;
- jobs, schedule and sensor `sync_job`, `rollback_colour_job`, `release_colour_hold_job`, `daily_sync_schedule`,
  `bucket_changed_sensor` / `sync_handbook_job`, `rollback_colour_handbook_job`, ... (the name before the kind);
- ops, resources and pools `promote_synced_colour`, `sync_webhook`, `bucket_notifications`, `dify_writes` (shared
  with the video feature), `sync_colour` / the same with `_handbook` appended;
- colour state `sync.state_key` (`_difyops/active-colour.json`) / `_difyops/handbook/active-colour.json`.

The unnamed sync keeps the names it always had, so an existing deployment keeps its asset history, its
schedule and sensor state, and its check results; `sync:` and `syncs:` may be used together. Op names carry the
sync's name too: Dagster refuses two different ops of one name in the implicit job of all assets.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from difyops_dagster.sync.config import SyncSettings

WRITE_POOL = "dify_writes"  # the unnamed sync's writes, and the video feature's
COLOUR_POOL = "sync_colour"  # the unnamed sync's colour changes


@dataclass(frozen=True)
class SyncScope:
    settings: SyncSettings
    name: str | None = None  # None: the `sync:` section
    # Colour-state objects of every sync in this bucket: none of them is ever a document (the listing skips them).
    state_keys: tuple[str, ...] = ()

    def key(self, asset: str) -> dg.AssetKey:
        return dg.AssetKey([self.name, asset] if self.name else [asset])

    def ref(self, asset: str) -> str:
        """The asset key as a person (and `workflows.apps[].run_after`) writes it: `handbook/active_colour`."""
        return self.key(asset).to_user_string()

    @property
    def group(self) -> str:
        return f"sync_{self.name}" if self.name else "sync"

    @property
    def key_prefix(self) -> list[str]:
        return [self.name] if self.name else []

    def named(self, base: str) -> str:
        """A job, schedule or sensor name: `sync_job` -> `sync_handbook_job` (suffix kept last)."""
        if not self.name:
            return base
        stem, _, kind = base.rpartition("_")
        return f"{stem}_{self.name}_{kind}"

    def op(self, base: str) -> str:
        """An op or resource key: `promote_synced_colour` -> `promote_synced_colour_handbook`."""
        return f"{base}_{self.name}" if self.name else base

    @property
    def webhook_resource(self) -> str:
        return self.op("sync_webhook")

    @property
    def notifications_resource(self) -> str:
        return self.op("bucket_notifications")

    @property
    def write_pool(self) -> str:
        return self.op(WRITE_POOL)

    @property
    def colour_pool(self) -> str:
        return self.op(COLOUR_POOL)

    @property
    def pools(self) -> list[str]:
        return [self.write_pool, self.colour_pool]

    @property
    def excluded_keys(self) -> list[str]:
        return sorted({self.settings.state_key, *self.state_keys})

    def setting(self, field: str) -> str:
        """Where a setting of this sync lives, for messages: `sync.bucket` or `syncs[handbook].bucket`."""
        return f"syncs[{self.name}].{field}" if self.name else f"sync.{field}"

    def label(self) -> str:
        return f"sync {self.name}" if self.name else "the sync"
