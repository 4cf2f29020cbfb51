"""The recorded cases: where the version folders are, what one case holds, and the kept-differences table.

Two copies are read: the one vendored in the repository (`dify_standin/tests/recordings/`, what CI on a fresh clone
has) and, when it exists, the shared one (`../shared/dify-recordings/` next to the worktree, where new versions are
recorded). Version folders are found in both, so a folder added to either is tested without a code change; a file
that exists in both must be identical (the vendored copy is refreshed by copying the shared one over it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dify_standin.tests.conformance.compare import Answer, parse_cookies
from dify_standin.versions import parse_version

HERE = Path(__file__).resolve().parent
VENDORED = HERE.parent / "recordings"
REPO = HERE.parents[2]
README = REPO / "dify_standin" / "README.md"
VERSION_NAME = re.compile(r"\d+\.\d+\.\d+")


def shared_root() -> Path | None:
    """`../shared/dify-recordings` beside the repository (a worktree under /work/wt/<name> has it two levels up)."""
    for base in (REPO.parent, REPO.parent.parent):
        candidate = base / "shared" / "dify-recordings"
        if candidate.is_dir():
            return candidate
    return None


def version_folders() -> dict[str, list[Path]]:
    """Version -> the folders holding it (vendored first), sorted by version."""
    found: dict[str, list[Path]] = {}
    for root in (VENDORED, shared_root()):
        if root is None or not root.is_dir():
            continue
        for folder in root.iterdir():
            if folder.is_dir() and VERSION_NAME.fullmatch(folder.name):
                found.setdefault(folder.name, []).append(folder)
    return dict(sorted(found.items(), key=lambda item: parse_version(item[0])))


@dataclass(frozen=True)
class Case:
    version: str
    name: str
    request: dict[str, Any]
    response: dict[str, Any]
    note: str

    @property
    def answer(self) -> Answer:
        headers = self.response.get("headers") or {}
        cookies = parse_cookies([headers["Set-Cookie"]]) if "Set-Cookie" in headers else ()
        return Answer(
            status=self.response["status"],
            content_type=self.response["content_type"],
            body=self.response["body"],
            www_authenticate=headers.get("WWW-Authenticate"),
            cookies=cookies,
        )


@cache
def load_version(version: str) -> dict[str, Case]:
    """Every case of one version, by name, from the first folder that has it."""
    cases: dict[str, Case] = {}
    for folder in version_folders()[version]:
        for path in sorted(folder.glob("*.json")):
            if path.stem not in cases:
                data = json.loads(path.read_text())
                cases[path.stem] = Case(version, data["case"], data["request"], data["response"], data.get("note", ""))
    return cases


def copies_that_differ() -> list[str]:
    """Files present in both copies whose bytes differ, and shared files the vendored copy lacks."""
    shared = shared_root()
    if shared is None:
        return []
    problems = []
    for path in sorted(shared.rglob("*")):
        if path.is_file():
            mine = VENDORED / path.relative_to(shared)
            if not mine.exists():
                problems.append(f"{path.relative_to(shared)}: not vendored")
            elif mine.read_bytes() != path.read_bytes():
                problems.append(f"{path.relative_to(shared)}: differs from the shared copy")
    return problems


@dataclass(frozen=True)
class KeptDifference:
    versions: str  # "*", or versions separated by commas
    case: str
    difference: str
    reason: str

    def applies(self, version: str, case: str) -> bool:
        names = [v.strip() for v in self.versions.split(",")]
        return case == self.case and (self.versions.strip() == "*" or version in names)


KEPT_HEADING = "## Differences kept"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def kept_differences() -> list[KeptDifference]:
    """The table under `## Differences kept` in dify_standin/README.md: `| versions | case | difference | reason |`,
    the difference in backticks exactly as the suite prints it."""
    text = README.read_text()
    if KEPT_HEADING not in text:
        return []
    section = text.split(KEPT_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in UNESCAPED_PIPE.split(line.strip().strip("|"))]
        if len(cells) == 4 and cells[2].startswith("`") and cells[2].endswith("`"):
            rows.append(KeptDifference(cells[0], cells[1], cells[2][1:-1].replace("\\|", "|"), cells[3]))
    return rows
