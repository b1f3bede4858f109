"""Builders for project follow-up, through the services (so derived fields are right)."""

from __future__ import annotations

from datetime import date
from itertools import count

from projects import services
from projects.models import Dependency, Project, WorkItem

_n = count(1)


def make_project(org, actor=None, **fields) -> Project:
    data = {
        "code": f"P-{next(_n)}",
        "name": "A project",
        "start_date": date(2027, 1, 4),
        **fields,
    }
    return services.project_create(org=org, actor=actor, data=data)


def item(org, project, name, days=1, parent=None, **fields) -> WorkItem:
    return services.work_item_create(
        org=org,
        actor=None,
        project=project,
        data={"name": name, "duration_days": days, **fields},
        parent=parent,
    )


def link(org, pred, succ, type="FS", lag=0) -> Dependency:
    return services.dependency_create(
        org=org,
        actor=None,
        data={"predecessor": pred, "successor": succ, "type": type, "lag_days": lag},
    )


def fresh(obj):
    return type(obj).objects.for_org(obj.organization).get(pk=obj.pk)
