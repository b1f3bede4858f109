"""The API key throttle: a fixed window per key, counted in one round trip to Redis."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.connection import Connection

from followup.kernel.api.throttling import count_in_window


@pytest.fixture
def redis_cache():
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("FOLLOWUP_REQUIRE_SERVICES"):
            pytest.fail("REDIS_URL is not set but FOLLOWUP_REQUIRE_SERVICES=1")
        pytest.skip("needs Redis (REDIS_URL)")
    backend = RedisCache(url, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"})
    return backend  # its keys expire by themselves (the window's ttl)


def test_each_request_is_one_round_trip_to_redis(redis_cache, monkeypatch):
    count_in_window(redis_cache, "warm", 5)  # the connection's own handshake is not counted
    sent = []
    real = Connection.send_packed_command

    def counting(self, *args, **kwargs):
        sent.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    assert [count_in_window(redis_cache, "key:1", 5) for _ in range(3)] == [1, 2, 3]
    assert len(sent) == 3
    assert count_in_window(redis_cache, "key:2", 5) == 1  # another window or key: anew
    client = redis_cache._cache.get_client(write=False)
    assert 0 < client.ttl(redis_cache.make_key("key:1")) <= 5  # the window's counter expires


def test_the_throttle_uses_the_pipeline_through_djangos_cache_proxy(
    redis_cache, monkeypatch, settings
):
    """DRF hands the throttle ``django.core.cache.cache``, a proxy: still one round trip."""
    from django.core.cache import cache, caches

    monkeypatch.setitem(caches._connections.__dict__, "default", redis_cache)
    count_in_window(cache, "warm", 5)
    sent = []
    real = Connection.send_packed_command

    def counting(self, *args, **kwargs):
        sent.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    assert [count_in_window(cache, "key:3", 5) for _ in range(2)] == [1, 2]
    assert len(sent) == 2


def test_other_caches_count_the_same():
    cache = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    assert [count_in_window(cache, "key", 5) for _ in range(3)] == [1, 2, 3]
