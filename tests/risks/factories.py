"""Builders for the risk register, through the services (so derived fields are right)."""

from __future__ import annotations

from risks import services
from risks.models import Risk


def make_risk(org, subject, actor=None, **fields) -> Risk:
    data = {
        "subject_type": _key(subject),
        "subject_id": subject.pk,
        "title": "A risk",
        "probability": 3,
        "impact": 3,
        **fields,
    }
    return services.risk_create(org=org, actor=actor, data=data)


def _key(subject) -> str:
    return {
        "customer": "customer",
        "engagement": "engagement",
        "project": "project",
        "workitem": "work_item",
    }[subject._meta.model_name]
