"""Reading docker/ as the tests need it: the example environment file."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def env_example() -> dict[str, str]:
    """docker/.env.example as a mapping (comments and blank lines skipped)."""
    lines = (DOCKER / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
