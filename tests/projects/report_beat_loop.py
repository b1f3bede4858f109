"""A stand-in for ``celery beat`` in the real-worker test of status reports: tick the
report drafting every ``interval`` seconds until killed. The test runs two at once, as a
duplicated beat would."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.followup.worker_settings")
django.setup()

from projects import tasks  # noqa: E402 - needs django.setup()

interval = float(sys.argv[1])
while True:
    tasks.status_reports_tick()
    time.sleep(interval)
