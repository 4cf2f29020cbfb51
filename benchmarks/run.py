"""Run the benchmarks in this folder and print one table per benchmark.

Usage: `.venv/bin/python benchmarks/run.py [name ...]` — every module here (except this one) when none is
named. A module is a benchmark when it defines `TITLE` (str) and `run() -> list[dict]`, one dict per figure
with the keys `figure`, `value`, `compared_with` and `ratio`; it starts the local processes it needs itself
(`dify_standin.processes.StandinProcess`, `MotoS3Process`). A benchmark that fails is reported and the
others still run; the exit status is then 1.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
COLUMNS = ("figure", "value", "compared_with", "ratio")


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in ("run", "__init__") and not p.stem.startswith("_"))


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmarks.{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)) or not isinstance(getattr(module, "TITLE", None), str):
        raise TypeError(f"benchmarks/{name}.py must define TITLE (str) and run() -> list[dict]")
    return module


def format_table(title: str, rows: list[dict], seconds: float) -> str:
    cells = [[str(row.get(c, "")) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    lines = [f"## {title}  ({seconds:.1f} s)", ""]
    lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |" for row in cells]
    return "\n".join(lines)


def main(names: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    known = available()
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(known)}", file=sys.stderr)
        return 2
    failed = []
    for name in names or known:
        started = time.monotonic()
        try:
            module = load(name)
            rows = module.run()
        except Exception:  # one broken benchmark must not hide the figures of the others
            failed.append(name)
            print(f"\n## {name}: FAILED after {time.monotonic() - started:.1f} s\n", file=sys.stderr)
            traceback.print_exc()
            continue
        print("\n" + format_table(module.TITLE, rows, time.monotonic() - started), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
