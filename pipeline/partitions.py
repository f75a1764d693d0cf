"""The period partitions: one per quarter folder of the raw directory (`YYYY-Qn`)."""

from __future__ import annotations

import dagster as dg

PERIOD_PARTITIONS = "period"

period_partitions = dg.DynamicPartitionsDefinition(name=PERIOD_PARTITIONS)
"""Quarters are registered as their folders appear (by the CLI and the raw-folder sensor)."""
