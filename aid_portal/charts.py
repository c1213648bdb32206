"""Charts beside the tables of the county's overview pages (issue 15 item 9).

A chart is drawn in the browser by one static script (``portal/charts.js``, Chart.js 4
vendored) from the figures the page embeds with ``json_script``: no front-end build and no
inline script. The figures are the very numbers of the table beside the chart (the table
is the accessible version and stays); every label arrives already translated, so the
chart speaks the page's language. The page includes ``_chart.html`` for each chart and
``_chart_scripts.html`` once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Series:
    label: str  # or a lazy translation
    values: Sequence[int | float | Decimal | None]


@dataclass(frozen=True)
class Chart:
    caption: str  # the figure's caption
    summary: str  # the canvas's aria-label: what the chart shows, in one sentence
    data: dict  # what portal/charts.js reads (json_script)

    @property
    def is_empty(self) -> bool:
        # A zero is a figure (a rate of 0%); only a chart without any figure is empty.
        return all(v is None for s in self.data["datasets"] for v in s["data"])


def _number(value):
    # json_script writes a Decimal as a string; the chart wants a number.
    return float(value) if isinstance(value, Decimal) else value


def chart(
    *,
    caption: str,
    summary: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_title: str,
    kind: str = "bar",
    stacked: bool = False,
    percent: bool = False,
    horizontal: bool = False,
) -> Chart:
    """A bar (or line) chart: one dataset per series, one value per label."""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"{s.label}: {len(s.values)} values for {len(labels)} labels")
    return Chart(
        caption=caption,
        summary=summary,
        data={
            "type": kind,
            "labels": list(labels),
            "datasets": [
                {"label": str(s.label), "data": [_number(v) for v in s.values]} for s in series
            ],
            "stacked": stacked,
            "percent": percent,
            "horizontal": horizontal,
            "yTitle": y_title,
        },
    )


def listing(items: Sequence[tuple[str, object]]) -> str:
    """ "label value; label value" for an aria-label summary, in the page's language."""
    return _("; ").join(f"{label} {value}" for label, value in items)
