"""Many knowledge bases over one sync world (issue 18): the unnamed `sync:` and named entries of `syncs:`, each
under a prefix of its own in the world's bucket, on blue/green pairs of their own, in one settings file.

The names are spelled out here as the README gives them (`sync_handbook_job`, `_difyops/handbook/...`), not
taken from the product's scope.py, so a test built on them checks the product's naming."""

from __future__ import annotations

from dataclasses import dataclass

from difyops_dagster_tests.sync.conftest import STATE_KEY, SyncWorld, new_pair


def named(base: str, name: str) -> str:
    """A job, schedule or sensor of the sync `name` (`sync_job` -> `sync_handbook_job`); the unnamed one's own."""
    stem, _, kind = base.rpartition("_")
    return f"{stem}_{name}_{kind}" if name else base


def state_key(name: str) -> str:
    return f"_difyops/{name}/active-colour.json" if name else STATE_KEY


@dataclass(frozen=True)
class KnowledgeBase:
    """One sync of the world's bucket, its files under `<name>/` (the unnamed `sync:`'s under `main/`)."""

    name: str  # "" for the `sync:` section
    blue: str
    green: str
    files: int

    @property
    def prefix(self) -> str:
        return f"{self.name or 'main'}/"

    @property
    def job(self) -> str:
        return named("sync_job", self.name)

    def source_keys(self) -> list[str]:
        return [f"{self.prefix}note {i:03d}.md" for i in range(self.files)]

    def datasets(self) -> dict[str, str]:
        return {"blue": self.blue, "green": self.green}

    def step(self, asset: str) -> str:
        """The step key of one of this sync's assets (`handbook__synced_dataset_blue`)."""
        return f"{self.name}__{asset}" if self.name else asset


def knowledge_bases(world: SyncWorld, names: list[str], files: int) -> list[KnowledgeBase]:
    """The bases, the unnamed one on the world's own pair, each base's files put in the bucket."""
    bases = [KnowledgeBase(n, *(new_pair(world.standin) if n else (world.blue, world.green)), files) for n in names]
    for base in bases:
        for key in base.source_keys():
            world.put(key, f"# {key}\n")
    return bases


def syncs_config(world: SyncWorld, bases: list[KnowledgeBase], **fields: object) -> dict:
    """The world's settings file with one section per base, each with `fields` and the world's sync settings."""
    config = world.config(**fields)
    shared = config.pop("sync")
    sections = {b.name: {**shared, "prefix": b.prefix, "blue_dataset_id": b.blue, "green_dataset_id": b.green}
                for b in bases}  # fmt: skip
    if "" in sections:
        config["sync"] = sections.pop("")
    config["syncs"] = [{"name": name, **section} for name, section in sections.items()]
    return config
