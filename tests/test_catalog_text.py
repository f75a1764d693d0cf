"""What the Dagster UI shows about each definition is Markdown: no reStructuredText left in it."""

from __future__ import annotations

import dagster as dg

from pipeline.definitions import defs


def _texts() -> dict[str, str]:
    """Every description the UI renders, by where it comes from."""
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    out: dict[str, str] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        out[f"asset {name}"] = node.description or ""
        schema = node.metadata.get("dagster/column_schema")
        for column in getattr(schema, "columns", []):
            out[f"asset {name} column {column.name}"] = column.description or ""
        for check in node.check_keys:
            spec = graph.get_check_spec(check)
            out[f"check {check.name}"] = spec.description or ""
    for job in repo.get_all_jobs():
        out[f"job {job.name}"] = job.description or ""
        for node in job.graph.node_defs:
            out[f"op {node.name}"] = node.description or ""
    for sensor in repo.sensor_defs:
        out[f"sensor {sensor.name}"] = sensor.description or ""
    for schedule in repo.schedule_defs:
        out[f"schedule {schedule.name}"] = schedule.description or ""
    for name, resource in (defs.resources or {}).items():
        text = resource.__class__.__doc__ if isinstance(resource, dg.ConfigurableResource | dg.IOManager) else ""
        out[f"resource {name}"] = text or ""
    return out


def test_no_definition_description_holds_rst_double_backticks() -> None:
    texts = _texts()
    assert len(texts) > 100  # assets, their columns, checks, jobs, sensors, schedules and resources
    offenders = {where: text[:80] for where, text in texts.items() if "``" in text or ":mod:`" in text}
    assert not offenders, offenders
