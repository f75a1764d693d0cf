"""When Dagster refreshes an asset by itself: the automation conditions of kttt's assets.

They are evaluated by the `follow_refreshes` sensor (`pipeline.automation`), which runs with the
daemon of `kttt ui` (and of a production deployment).
"""

from __future__ import annotations

import dagster as dg

QUARTER_FOLLOWS = dg.AutomationCondition.eager().with_label("refreshed when its quarter's inputs are")
"""A quarter's indicators, figures, report and feedback follow its tables: materializing one table of the quarter
(`cooperatives` from the UI, say) refreshes everything of that quarter that reads it, in the same order as a
`refresh_period` run would, and never while the quarter is still being written."""

YEARLY_FOLLOWS = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("refreshed after any quarter's refresh")
"""What spans every quarter is refreshed after any quarter changed, whatever launched that quarter's run (sensor,
schedule, UI, `kttt run`); unlike `eager()` it does not wait for quarters that were never stored."""
