"""Fixtures of the follow-up engine's tests.

The domain models (customers, engagements) arrive with other issues; a follow-up's subject
here is a model that exists in this branch, registered only for the test: a Membership.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from followup.engine import services
from followup.kernel import subjects


@pytest.fixture
def membership_subject():
    from accounts.models import Membership

    entry = subjects.register(
        "membership",
        Membership,
        label="Membership",
        url=lambda m: f"/o/{m.organization.slug}/members/",
        describe=lambda m: m.user.email,
        related=("user", "organization"),
    )
    yield entry
    subjects.unregister("membership")


@pytest.fixture
def make_followup(org, member):
    def make(**kwargs):
        values = {
            "org": org,
            "actor": member,
            "title": "Call ACME",
            "owner": member,
            "due_at": timezone.now() + timedelta(days=1),
        }
        values.update(kwargs)
        return services.followup_create(**values)

    return make
