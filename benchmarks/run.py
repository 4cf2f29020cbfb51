"""Run the benchmarks in this folder and print one table per benchmark.

Usage: `.venv/bin/python benchmarks/run.py [paging sync_resync listing]` (all when none is named).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ("figure", "value", "compared_with", "ratio")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks.{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def print_table(title: str, rows: list[dict], seconds: float) -> None:
    cells = [[str(row.get(c, "")) for c in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    print(f"\n## {title}  ({seconds:.1f} s)\n")
    print("| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def main(names: list[str]) -> None:
    sys.path.insert(0, str(HERE.parent))
    names = names or sorted(p.stem for p in HERE.glob("*.py") if p.stem not in ("run", "__init__"))
    for name in names:
        module = load(name)
        started = time.monotonic()
        rows = module.run()
        print_table(module.TITLE, rows, time.monotonic() - started)


if __name__ == "__main__":
    main(sys.argv[1:])
