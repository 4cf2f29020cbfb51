"""Who writes what: each Dify dataset has one writer, each colour-state object one sync, each sync one name.

A dataset written by two syncs (or by a sync and the video feature) would have each delete the other's
documents on every run, and two syncs sharing a colour-state object would promote each other's datasets; both
are refused when the code location loads, naming the two owners. Pure functions: settings.py calls them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from difyops_dagster.sync.config import SyncSettings


def duplicate_names(names: Iterable[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


def ownership_conflicts(syncs: list[SyncSettings], video_dataset_id: str | None = None) -> list[str]:
    """One line per dataset or state object claimed twice, naming both claimants."""
    conflicts: list[str] = []
    datasets: dict[str, str] = {}
    states: dict[tuple[str, str], str] = {}

    def claim_dataset(dataset_id: str, owner: str) -> None:
        if dataset_id in datasets:
            conflicts.append(f"{owner} and {datasets[dataset_id]} both write dataset {dataset_id}")
        else:
            datasets[dataset_id] = owner

    for sync in syncs:
        at = sync.section()
        for target, dataset_id in sync.targets().items():
            claim_dataset(dataset_id, f"{at}.{'dataset_id' if target == 'main' else f'{target}_dataset_id'}")
        state = (sync.bucket, sync.state_key)
        if state in states:
            conflicts.append(
                f"{at}.state_key and {states[state]} are the same colour-state object s3://{state[0]}/{state[1]}"
            )
        else:
            states[state] = f"{at}.state_key"
    if video_dataset_id:
        claim_dataset(video_dataset_id, "video.dataset_id")
    return conflicts
