"""The demo organization: its people, then each app's part of the story (GLOSSARY.md).

Every app may have a ``demo`` module with ``seed(ctx: DemoContext)``; they run in
INSTALLED_APPS order, so later apps build on what earlier ones made (``ctx.extra``). A
seeder must be idempotent: ``seed_demo`` runs on every ``make run``.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.utils import timezone

from accounts.models import Organization, User


@dataclass
class DemoContext:
    org: Organization
    users: dict[str, User]  # "owner", "admin", "manager", "rep", "rep2", "viewer"
    password: str
    created: bool  # False when the demo organization already existed
    now: datetime = field(default_factory=timezone.now)
    rng: random.Random = field(default_factory=lambda: random.Random(20261126))
    extra: dict[str, Any] = field(default_factory=dict)


def seeders() -> list[Callable[[DemoContext], None]]:
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if importlib.util.find_spec(name) is None:
            continue
        seed = getattr(importlib.import_module(name), "seed", None)
        if seed is not None:
            found.append(seed)
    return found
