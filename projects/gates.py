"""The gate-criterion registry: what a phase gate can check, and how.

A gate criterion is either *checked by the system from evidence* (a registered ``kind``
whose ``evaluate(project, phase)`` says whether it holds, and why not) or *attested* by a
person in a named role (the project's sponsor or manager, or an organization admin) with an
evidence note or link. Apps add kinds in their ``AppConfig.ready()``; this app registers
the ones it can judge itself (``register_builtin_kinds``), and later apps add theirs (part 2:
"a baseline exists", "budget set"; the risk register: "no open high risk", "milestone risk
reviews signed off")::

    from django.utils.translation import gettext_lazy as _, gettext_noop
    from projects import gates

    def _no_open_high_risk(project, phase):
        n = Risk.objects.for_org(project.organization).filter(...).count()
        if n:
            return gates.Verdict(False, gettext_noop("%(n)d open high risks"), {"n": n})
        return gates.Verdict(True, gettext_noop("No open high risk."))

    gates.register_kind("no_open_high_risk", _("No open high risk"), _no_open_high_risk)

``reason`` is a msgid with ``%(name)s`` parameters, not a translated sentence: the verdict is
stored in the decision's snapshot and read later in each person's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from projects.models import GateCriterion, Phase, Project

ATTESTED = "attested"


class Verdict(NamedTuple):
    met: bool
    reason: str  # a msgid, formatted with params when shown
    params: Mapping[str, Any] = {}

    def text(self) -> str:
        return render_reason(self.reason, self.params)


def render_reason(reason: str, params: Mapping[str, Any] | None) -> str:
    """A stored reason in the current language."""
    words = gettext(reason) if reason else ""
    try:
        return words % dict(params) if params else words
    except (KeyError, TypeError, ValueError):
        return words


Evaluate = Callable[["Project", "Phase"], Verdict]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    evaluate: Evaluate | None  # None: attested by a person
    help: str | Promise = ""

    @property
    def attested(self) -> bool:
        return self.evaluate is None


_KINDS: dict[str, Kind] = {}


def register_kind(
    key: str, label: str | Promise, evaluate: Evaluate, *, help: str | Promise = ""
) -> Kind:
    """Add a criterion kind checked by the system. Idempotent for the same function."""
    if key == ATTESTED:
        raise ValueError(f"{ATTESTED!r} is the attested kind; choose another key")
    existing = _KINDS.get(key)
    if existing is not None and existing.evaluate is not evaluate:
        raise ValueError(f"Gate criterion kind {key!r} is already registered")
    kind = Kind(key=key, label=label, evaluate=evaluate, help=help)
    _KINDS[key] = kind
    return kind


def unregister_kind(key: str) -> None:
    if key != ATTESTED:
        _KINDS.pop(key, None)


def get(key: str) -> Kind | None:
    return _KINDS.get(key)


def kinds() -> list[Kind]:
    """Every kind, the attested one first, then by key."""
    return sorted(_KINDS.values(), key=lambda k: (not k.attested, k.key))


def choices() -> list[tuple[str, str]]:
    return [(k.key, str(k.label)) for k in kinds()]


def label_of(criterion: GateCriterion) -> str:
    """What a criterion is called: its own label, else its kind's (with the role)."""
    if criterion.label:
        return criterion.label
    kind = _KINDS.get(criterion.kind)
    if kind is None:
        return criterion.kind
    if kind.attested and criterion.role:
        return gettext("Attested by %(role)s") % {"role": criterion.get_role_display()}
    return str(kind.label)


def evaluate(project: Project, phase: Phase, criterion: GateCriterion) -> Verdict:
    """Whether ``criterion`` holds now. An unknown kind (its app was removed) never holds."""
    kind = _KINDS.get(criterion.kind)
    if kind is None:
        return Verdict(
            False, gettext_noop("Unknown kind of criterion “%(kind)s”."), {"kind": criterion.kind}
        )
    if kind.evaluate is None:
        if criterion.attested_at is None:
            return Verdict(
                False,
                gettext_noop("Not attested yet: waiting for the %(role)s."),
                {"role": str(criterion.get_role_display() or gettext("Project manager")).lower()},
            )
        who = criterion.attested_by.name if criterion.attested_by else gettext_noop("someone")
        return Verdict(
            True,
            gettext_noop("Attested by %(name)s on %(day)s."),
            {"name": who, "day": criterion.attested_at.date().isoformat()},
        )
    return kind.evaluate(project, phase)


_KINDS[ATTESTED] = Kind(
    key=ATTESTED,
    label=_("Attested by a person"),
    evaluate=None,
    help=_("The sponsor, the project manager or an admin confirms it with a note or a link."),
)
