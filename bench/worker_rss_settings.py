"""Settings of bench/worker_rss.py: the bench's (mail going nowhere) on the real broker
(the test environment otherwise uses an in-memory one, which a worker process cannot see)."""

from bench.worker_settings import *  # noqa: F403
from followup.site.settings import REDIS_URL

CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
