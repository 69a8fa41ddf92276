"""The Redis cache keeps one client per connection pool (Django's makes one per call), against
the real Redis the suite uses (QUORUM_TEST_BROKER_URL)."""

import os
import threading
import uuid

from labeling.site.cache import ClientKeepingRedisCache

REDIS_URL = os.environ.get("QUORUM_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def test_one_client_serves_every_call_and_every_thread():
    cache = ClientKeepingRedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client() is first
    assert cache._cache.get_client("any key", write=True) is first
    errors = []

    def worker(n: int) -> None:
        try:
            for k in range(50):
                cache.set(f"k{n}.{k}", {"n": n, "k": k}, timeout=30)
                assert cache.get(f"k{n}.{k}") == {"n": n, "k": k}
            assert cache.get_many([f"k{n}.0", f"k{n}.49"]) == {
                f"k{n}.0": {"n": n, "k": 0},
                f"k{n}.49": {"n": n, "k": 49},
            }
        except Exception as exc:  # noqa: BLE001 - reported below, with the thread's number
            errors.append((n, exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache._cache.get_client() is first
    cache.delete_many([f"k{n}.{k}" for n in range(8) for k in range(50)])
