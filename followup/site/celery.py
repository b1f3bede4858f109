import inspect
import os
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.site.settings")


class TenantTask(Task):  # type: ignore[misc]
    """Every task runs as the organization of its ``org_id`` argument (row-level security,
    ``accounts.rls``). A task without one (a beat tick) starts with no tenant context and
    names its cross-organization reads with ``cross_tenant``; whatever context the caller
    had (an eager task inside a request) is not inherited."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from accounts import rls

        org_id = kwargs.get("org_id")
        if org_id is None:
            try:
                bound = inspect.signature(self.run).bind_partial(*args, **kwargs)
            except TypeError:
                bound = None
            org_id = bound.arguments.get("org_id") if bound is not None else None
        with rls.no_context():
            if org_id is None:
                return super().__call__(*args, **kwargs)
            with rls.org_context(org_id):
                return super().__call__(*args, **kwargs)


app = Celery("followup", task_cls=TenantTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
