"""The overview's charts (aid_portal.charts): the very numbers of the tables beside them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aid_portal import charts
from cases.overview.selectors import DecisionsByMonth, StatesTable, TownshipOverdue


def _summary(caption: str, series: list[charts.Series]) -> str:
    return caption + _(": ") + charts.listing([(s.label, sum(s.values)) for s in series])


def case_states_chart(table: StatesTable) -> charts.Chart:
    """One stack per township, one layer per state."""
    caption = _("Cases by state and township")
    series = [
        charts.Series(label, [r.counts[i] for r in table.rows])
        for i, (_value, label) in enumerate(table.states)
    ]
    return charts.chart(
        caption=caption,
        summary=_summary(caption, series),
        labels=[r.township.name for r in table.rows],
        series=series,
        y_title=_("Number of cases"),
        stacked=True,
    )


MONTH_FIELDS = [
    ("in_time", gettext_lazy("decided in time")),
    ("late", gettext_lazy("decided late")),
    ("undated", gettext_lazy("without a due date")),
]
OVERDUE_FIELDS = [
    ("past_due", gettext_lazy("past due")),
    ("not_due", gettext_lazy("not yet due")),
]


def decisions_chart(monthly: DecisionsByMonth) -> charts.Chart:
    """One stack per month: decided in time, late, without a due date."""
    caption = _("Decisions in time by month")
    series = [
        charts.Series(label, [getattr(r, f) for r in monthly.rows]) for f, label in MONTH_FIELDS
    ]
    return charts.chart(
        caption=caption,
        summary=_summary(caption, series),
        labels=[r.month.strftime("%Y-%m") for r in monthly.rows],
        series=series,
        y_title=_("Cases decided"),
        stacked=True,
    )


def overdue_chart(rows: list[TownshipOverdue]) -> charts.Chart:
    """One stack per township: open cases past due, and the rest."""
    caption = _("Open cases past due by township")
    series = [charts.Series(label, [getattr(r, f) for r in rows]) for f, label in OVERDUE_FIELDS]
    return charts.chart(
        caption=caption,
        summary=_summary(caption, series),
        labels=[r.township.name for r in rows],
        series=series,
        y_title=_("Open cases"),
        stacked=True,
    )
