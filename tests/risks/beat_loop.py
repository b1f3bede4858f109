"""A stand-in for ``celery beat`` in the real-worker test of milestone reviews: run the
review tick every ``interval`` seconds until killed. The test runs two at once."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.followup.worker_settings")
django.setup()

from risks import tasks  # noqa: E402 - needs django.setup()

interval = float(sys.argv[1])
while True:
    tasks.milestone_reviews_tick()
    time.sleep(interval)
