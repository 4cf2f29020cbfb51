"""Wiring of this feature into Dagster: `build_defs(settings)` returns its Definitions (empty when it is off)."""

from __future__ import annotations

import dagster as dg

from difyops_dagster.settings import Settings


def build_defs(settings: Settings) -> dg.Definitions:
    return dg.Definitions()
