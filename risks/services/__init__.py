"""State changes of the risk register: one keyword-only function each, one transaction each.

Public (stable names other modules build on):

- ``risk_create(*, org, actor, data)``; ``risk_update(*, org, actor, risk, data, reason="")``;
  ``risk_rate(*, org, actor, risk, probability, impact, residual_probability=None,
  residual_impact=None, reason="")`` (a re-rating, kept in the score history);
- ``risk_occur``, ``risk_close``, ``risk_reopen`` (``*, org, actor, risk, note=""``; status
  moves are data: ``models.TRANSITIONS``); ``risk_occur`` on an occurred risk is a no-op;
- ``risk_escalate(*, org, actor, risk)``: ``risks.escalation.escalate`` when that module
  exists, else the strategy becomes "escalate";
- ``risk_delete``; ``indicator_value_add(*, org, actor, risk, value, observed_at)`` (a KRI
  reading: a zone crossing re-rates the risk and notifies its owner);
- ``risk_action_add(*, org, actor, risk, title, owner, due_at)`` (a follow-up on the risk);
- ``risk_settings_update(*, org, actor, settings)`` (matrix, words, categories; re-levels
  every risk of the organization).

Every change locks the risk row through ``for_org(org)``, writes what changed, records the
audit row and the outbox event (``risk.created``, ``risk.updated``, ``risk.occurred``,
``risk.closed``, ``risk.escalated``, ``risk.deleted``) in the same transaction.

One module per concern; callers import the package (``from risks import services``):
``shared`` (fields, subject links, validation, history rows), ``risks``, ``status``,
``indicators``, ``risk_settings``.
"""

from risks.services.indicators import indicator_value_add
from risks.services.risk_settings import relevel, risk_settings_update
from risks.services.risks import (
    risk_action_add,
    risk_create,
    risk_delete,
    risk_rate,
    risk_update,
    risks_for_deleted_subject,
    risks_hand_over,
)
from risks.services.shared import SUBJECT_TYPES, TransitionRefused, risk_url
from risks.services.status import (
    escalation_available,
    risk_close,
    risk_escalate,
    risk_occur,
    risk_reopen,
)

__all__ = [
    "SUBJECT_TYPES",
    "TransitionRefused",
    "escalation_available",
    "indicator_value_add",
    "relevel",
    "risk_action_add",
    "risk_close",
    "risk_create",
    "risk_delete",
    "risk_escalate",
    "risk_occur",
    "risk_rate",
    "risk_reopen",
    "risk_settings_update",
    "risk_update",
    "risk_url",
    "risks_for_deleted_subject",
    "risks_hand_over",
]
