"""What ``bench/load.sh`` needs from the bench database, printed as shell variables.

An admin API key; a logged-in session of rep 0 (same ``DJANGO_SECRET_KEY`` as the servers,
so they accept it) with a CSRF secret; a customer of that rep with exactly one active
engagement, and ``PAIRS``: up to 200 such customers and their engagements, over which the
quick-log POSTs are spread, as a rep's calls are; and 60 open follow-ups on rep 0's My day
(made once).
"""

from __future__ import annotations

import os
import runpy
import secrets
import string
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    url = os.environ["BENCH_DATABASE_URL"]
    bench = runpy.run_path(str(ROOT / "bench" / "engagements.py"), run_name="bench_data")
    bench["_ensure_database"](url)
    bench["_setup"](url)
    bench["build"](False)
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count, Q
    from django.utils import timezone

    from accounts.models import Organization, User
    from accounts.roles import Role
    from accounts.services import api_key_create
    from engagements.models import Customer, Engagement
    from followup.engine import services as engine
    from followup.engine.models import FollowUp

    org = Organization.objects.get(slug="bench")
    rep = User.objects.get(email="rep0@bench.test")
    key = api_key_create(
        org=org, name="load bench", role=Role.ADMIN, created_by=None, granter_role=None
    )
    session = SessionStore()
    session[SESSION_KEY] = str(rep.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = rep.get_session_auth_hash()
    session.create()
    customers = list(
        Customer.objects.for_org(org)
        .filter(owner=rep)
        .annotate(active=Count("engagements", filter=Q(engagements__status="active")))
        .filter(active=1)
        .order_by("pk")[:200]
    )
    assert customers
    customer = customers[0]
    engagement = Engagement.objects.for_org(org).get(customer=customer, status="active")
    engagement_of = dict(
        Engagement.objects.for_org(org)
        .filter(customer__in=customers, status="active")
        .values_list("customer_id", "pk")
    )
    open_ones = FollowUp.objects.for_org(org).filter(owner=rep, status="open").count()
    now = timezone.now()
    for n in range(open_ones, 60):
        engine.followup_create(
            org=org,
            actor=rep,
            title=f"Call back about the renewal {n}",
            owner=rep,
            due_at=now + timedelta(hours=n - 30),
            subject=engagement,
        )
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    print(f"API_KEY={key.plain}")
    print(f"SESSION={session.session_key}")
    print(f"CSRF={csrf}")
    print(f"CUSTOMER={customer.pk}")
    print(f"ENGAGEMENT={engagement.pk}")
    print("PAIRS=" + ",".join(f"{c.pk}:{engagement_of[c.pk]}" for c in customers))


if __name__ == "__main__":
    main()
