"""The default phase template (GLOSSARY.md's five phases) and the default working calendar.

Names and labels here are stored in English (they are data, copied into each project) and
marked with ``gettext_noop`` so that the catalogue carries them: pages show a stored name
through ``gettext``, so an unchanged default reads in each person's language while a name an
admin typed is shown as typed.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from projects.models import AttestRole

DEFAULT_TEMPLATE_NAME = gettext_noop("Standard project (five phases)")

DEFAULT_CALENDAR: dict[str, Any] = {"working_days": [1, 2, 3, 4, 5], "holidays": []}

# key, name, [(kind, label, role)]: "attested" kinds name the role that attests them.
DEFAULT_PHASES: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    (
        "initiating",
        gettext_noop("Initiating"),
        [
            ("charter_complete", "", ""),
            (
                "attested",
                gettext_noop("Project charter approved by the sponsor"),
                AttestRole.SPONSOR,
            ),
        ],
    ),
    (
        "planning",
        gettext_noop("Planning"),
        [
            ("wbs_exists", "", ""),
            ("schedule_fits", "", ""),
            ("work_items_done", "", ""),
            ("attested", gettext_noop("Project plan approved by the sponsor"), AttestRole.SPONSOR),
        ],
    ),
    (
        "executing",
        gettext_noop("Executing"),
        [("work_items_done", "", ""), ("milestones_reached", "", "")],
    ),
    (
        "monitoring",
        gettext_noop("Monitoring & controlling"),
        [
            ("work_items_done", "", ""),
            ("milestones_reached", "", ""),
            (
                "attested",
                gettext_noop("Deliverables accepted by the customer"),
                AttestRole.MANAGER,
            ),
        ],
    ),
    (
        "closing",
        gettext_noop("Closing"),
        [
            ("work_items_done", "", ""),
            ("success_marked", "", ""),
            ("attested", gettext_noop("Closure approved by the sponsor"), AttestRole.SPONSOR),
        ],
    ),
]
