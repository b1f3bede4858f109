"""The gate criteria the risk register judges (``projects.gates`` registry)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from projects.gates import Verdict
from projects.models import Phase, Project
from risks import selectors

_SHOWN = 3


def _titles(titles: list[str], count: int) -> str:
    return ", ".join(titles[:_SHOWN]) + (" …" if count > _SHOWN else "")


def no_open_high_risk(project: Project, phase: Phase) -> Verdict:
    high = selectors.open_high_risks_of_project(project.organization, project.pk)
    count = high.count()
    if count:
        titles = list(high.order_by("-score", "title").values_list("title", flat=True)[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Open high risks on the project (%(n)d): %(names)s."),
            {"n": count, "names": _titles(titles, count)},
        )
    return Verdict(True, gettext_noop("No open high risk on the project."))


def no_high_risk_without_response(project: Project, phase: Phase) -> Verdict:
    bare = selectors.without_response(
        selectors.open_high_risks_of_project(project.organization, project.pk)
    )
    count = bare.count()
    if count:
        titles = list(bare.order_by("-score", "title").values_list("title", flat=True)[:_SHOWN])
        return Verdict(
            False,
            gettext_noop("Open high risks without a response (%(n)d): %(names)s."),
            {"n": count, "names": _titles(titles, count)},
        )
    return Verdict(True, gettext_noop("Every open high risk has a response."))
