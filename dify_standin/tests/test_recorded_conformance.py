"""The stand-in answers every recorded case as the real Dify version answered it (issue 12, the judge of the
stand-in): for each version folder of the recordings (vendored under `recordings/`, and `../shared/dify-recordings`
when it is there) and each case in it, the stand-in at that version is seeded as the real server was, sent the
same request, and its answer compared with the recording (`conformance/compare.py` says what is compared).

The only differences allowed are the rows of the "Differences kept" table in dify_standin/README.md, each with its
reason; a row that no longer occurs fails as surely as a difference nobody listed. One stand-in per version
(`xdist_group`), reset before every case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from dify_standin.processes import StandinProcess
from dify_standin.tests.conformance import app_cases, knowledge_cases
from dify_standin.tests.conformance.compare import differences
from dify_standin.tests.conformance.recordings import (
    copies_that_differ,
    kept_differences,
    load_version,
    version_folders,
)
from dify_standin.tests.conformance.replay import send
from dify_standin.tests.conformance.world import World
from dify_standin.tests.conftest import Api

PREPARERS = {**knowledge_cases.PREPARERS, **app_cases.PREPARERS}
VERSIONS = list(version_folders())
CASES = [
    pytest.param(version, name, id=f"{version}-{name}", marks=pytest.mark.xdist_group(f"recorded-{version}"))
    for version in VERSIONS
    for name in load_version(version)
]


@pytest.fixture(scope="module")
def standins() -> Iterator[Callable[[str], Api]]:
    running: dict[str, StandinProcess] = {}

    def get(version: str) -> Api:
        if version not in running:
            running[version] = StandinProcess(dify_version=version, indexing_seconds=0.0).start()
        running[version].admin.reset()
        return Api(running[version])

    yield get
    for server in running.values():
        server.stop()


@pytest.mark.parametrize(("version", "name"), CASES)
def test_the_standin_answers_the_recorded_case_as_real_dify(standins, version, name):
    case = load_version(version)[name]
    preparer = PREPARERS.get(name)
    assert preparer is not None, (
        f"recorded case {name!r} ({version}) has no preparer: add one to dify_standin/tests/conformance/"
        "knowledge_cases.py or app_cases.py saying how the real server was seeded for it"
    )
    world = World(standins(version), case)
    found = differences(case.answer, send(world, preparer(world)))
    kept = sorted(row.difference for row in kept_differences() if row.applies(version, name))
    assert sorted(found) == kept, _explain(version, name, found, kept)


def _explain(version: str, name: str, found: list[str], kept: list[str]) -> str:
    new = [line for line in found if line not in kept]
    gone = [line for line in kept if line not in found]
    lines = [f"{version} {name}: the stand-in's answer differs from the recording"]
    lines += [f"  new:  {line}" for line in new]
    lines += [f"  listed in README's 'Differences kept' but no longer found: {line}" for line in gone]
    return "\n".join(lines)


def test_the_vendored_recordings_are_the_shared_ones():
    """CI has only the vendored copy; when the shared one is here and has changed, copy it over (cp -r)."""
    assert copies_that_differ() == []


def test_every_kept_difference_names_a_recorded_case():
    unknown = [
        row
        for row in kept_differences()
        if not any(row.applies(version, row.case) and row.case in load_version(version) for version in VERSIONS)
    ]
    assert unknown == []
    assert all(row.reason for row in kept_differences())
