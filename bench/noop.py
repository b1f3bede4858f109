"""The baseline task of ``bench/reminders.py``: does nothing but count itself in Redis."""

from celery import shared_task
from django.conf import settings

COUNTER = "bench:noop"
_client = None


@shared_task(name="bench.noop", ignore_result=True)
def noop() -> None:
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    _client.incr(COUNTER)
