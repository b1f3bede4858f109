"""Followup's project package, in layers (import-linter contracts in ``pyproject.toml``):

- ``calc/``    pure calculations (recurrence): no Django, no Celery;
- ``kernel/``  the shared primitives every app builds on (outbox, API conventions, claims,
               registries, mail); they import no domain app;
- ``engine/``  the follow-up engine (follow-ups, reminders, notifications, webhooks);
- ``site/``    the composition root (settings, URLs, Celery app, demo): knows every app.

Importing this package imports nothing: ``followup.engine.calc.recurrence`` loads without Django.
"""
