"""The composition root. Loading the settings loads the Celery app, so that ``shared_task``
binds to it in every process (web, worker, beat)."""

from followup.site.celery import app

celery_app = app

__all__ = ["app", "celery_app"]
