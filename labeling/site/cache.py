"""Django's Redis cache, keeping one client per connection pool.

Django's backend makes a new redis.Redis for every cache call, and each one builds its table
of some 170 response callbacks: a cost paid on every request that reads the cache (the event
POST reads it on every call). A client is safe to share between threads: each command takes a
connection from the pool and returns it.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ClientKeepingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class ClientKeepingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ClientKeepingRedisCacheClient
