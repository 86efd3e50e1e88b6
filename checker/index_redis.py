"""Shared passage index in Redis: every worker process sees an article the moment it is registered,
and a restart loads nothing (the index lives in Redis, not in the process).

Layout (all keys under ``{prefix}:``; keys are packed as 8-byte big-endian strings, article ids
as 4-byte little-endian unsigned integers):

- ``{prefix}:s:<hhhh>``: a *shard*, a hash mapping key -> packed ids of the articles posting it.
  The shard is the key's first ``shard_hex`` hex digits (keys are ``fmix64`` outputs, so
  their top bits are uniform). Sharding keeps the key count fixed (65,536 by default) instead of one
  Redis key per index key: small hashes are stored as compact listpacks, ~22 bytes per posting instead
  of the ~70 of a Redis key per index key. At 10k articles (3.2M postings) a shard holds ~50
  keys and the whole index, article key lists included, takes ~90 MiB (~30 bytes per posting).
  Listpacks hold up to ``hash-max-listpack-entries`` fields (128 by default): past ~25k articles
  raise that setting or open new indexes with ``shard_hex=5``, or shards become plain hash tables
  (the same speed, about twice the memory).
- ``{prefix}:a:<id>``: the article's distinct keys, packed, so :meth:`RedisIndex.remove` knows
  which postings to delete.
- ``{prefix}:articles``: the set of indexed article ids.
- ``{prefix}:scheme``: the :class:`~checker.fingerprint.FingerprintScheme` as JSON, written at first
  use (``SET NX``); a process with another scheme gets :class:`~checker.index.SchemeMismatch` when it
  opens the index, before it can read or write a key.
- ``{prefix}:layout``: the storage format version and the shard width, so a reopened index reads
  the shards it was written with.

Costs (round trips are what matter: a local round trip is ~0.1 ms, a networked one 0.3-1 ms):

- :meth:`~RedisIndex.query`: ONE round trip (a Lua script run with ``EVALSHA``) for all of a
  suspect's distinct keys, one ``HGET`` each inside Redis (~2.5 µs per key): a 600-word suspect
  (about 350 keys) takes a few milliseconds against 10k articles on a 2-core machine, against
  ~25 ms for a pipeline of one ``HGET`` per key and hundreds of round trips for a per-band lookup.
  Keys posted by more than :data:`~checker.index.MAX_POSTINGS_PER_KEY` articles are stop keys and
  are skipped, as in the memory index (here the count is of distinct articles).
- :meth:`~RedisIndex.add`: one pipeline per :data:`PIPELINE_KEYS` keys; inside it one script call
  per :data:`SCRIPT_KEYS` keys, each covering whole articles, so a reader never sees half an article.
  Re-adding an article replaces its postings (idempotent; re-adding identical keys writes nothing).
- :meth:`~RedisIndex.remove`: one pipeline, one script per :data:`REMOVE_IDS` articles; cost
  proportional to the removed articles' keys (``HGET`` + ``HSET``/``HDEL`` each).
- :meth:`~RedisIndex.article_ids`: one ``SMEMBERS``. :meth:`~RedisIndex.save`: nothing (writes go
  through). :meth:`~RedisIndex.clear`: one pipeline of ``UNLINK`` over the known key names (no
  ``SCAN`` of the database).

The scripts build key names from the prefix, which a single Redis server (and its replicas) allows;
Redis Cluster would need every key in one hash slot (a ``{tag}`` prefix).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import redis

from checker.fingerprint import FingerprintScheme
from checker.arrays import expand_ranges
from checker.index import MAX_POSTINGS_PER_KEY, Hits, SchemeMismatch, checked_keys

FORMAT_VERSION = 1
DEFAULT_SHARD_HEX = 4  # 16**4 = 65,536 shards
MAX_ARTICLE_ID = np.iinfo(np.uint32).max
# A script blocks Redis (and the Celery broker, if it shares the server) while it runs, at 2-4 µs per
# key: keep each call to a few milliseconds. An article is never split across calls.
SCRIPT_KEYS = 2_000
# Query keys per script: a 600-word suspect has ~3,000, so one script; a book-sized one is cut into
# several scripts sent in one pipeline, still one round trip, without blocking Redis for seconds.
QUERY_KEYS = 20_000
# Articles per removal script: ~300 keys each for a 600-word article.
REMOVE_IDS = 8
# Keys sent per pipeline: bounds the client's buffers when a bulk import passes thousands of articles.
PIPELINE_KEYS = 1_000_000
UNLINK_CHUNK = 4_096

_LUA_COMMON = r"""
local prefix = ARGV[1]
local shard_hex = tonumber(ARGV[2])
local shard_base = prefix .. ':s:'
-- byte -> two hex digits: a table lookup per byte is 4x cheaper than string.format per key
local HEX = {}
for b = 0, 255 do HEX[string.char(b)] = string.format('%02x', b) end
local function shard(k)
  local h = HEX[string.sub(k, 1, 1)]
  for j = 2, (shard_hex + 1) / 2 do h = h .. HEX[string.sub(k, j, j)] end
  if shard_hex % 2 == 1 then h = string.sub(h, 1, shard_hex) end
  return shard_base .. h
end
-- position of the 4-byte id in the packed list v (aligned to 4 bytes), or nil
local function find_id(v, idb)
  local start = 1
  while true do
    local p = string.find(v, idb, start, true)
    if not p then return nil end
    if (p - 1) % 4 == 0 then return p end
    start = p + 1
  end
end
local function unpost(k, idb)
  local s = shard(k)
  local v = redis.call('HGET', s, k)
  if not v then return end
  local p = find_id(v, idb)
  if not p then return end
  if #v == 4 then
    redis.call('HDEL', s, k)
  else
    redis.call('HSET', s, k, string.sub(v, 1, p - 1) .. string.sub(v, p + 4))
  end
end
local function drop_article(id, idb, old)
  for i = 1, #old, 8 do unpost(string.sub(old, i, i + 7), idb) end
end
"""

# ARGV: prefix, shard_hex, then (id, packed keys) per article.
_ADD = _LUA_COMMON + r"""
local added = 0
for a = 3, #ARGV, 2 do
  local id = ARGV[a]
  local blob = ARGV[a + 1]
  local idb = struct.pack('<I4', tonumber(id))
  local akey = prefix .. ':a:' .. id
  local old = redis.call('GET', akey)
  if old ~= blob then
    if old then drop_article(id, idb, old) end
    for i = 1, #blob, 8 do
      local k = string.sub(blob, i, i + 7)
      local s = shard(k)
      local v = redis.call('HGET', s, k)
      if v then
        if not find_id(v, idb) then redis.call('HSET', s, k, v .. idb) end
      else
        redis.call('HSET', s, k, idb)
      end
    end
    redis.call('SET', akey, blob)
    added = added + 1
  end
  redis.call('SADD', prefix .. ':articles', id)
end
return added
"""

# ARGV: prefix, shard_hex, ids...
_REMOVE = _LUA_COMMON + r"""
local removed = 0
for a = 3, #ARGV do
  local id = ARGV[a]
  local akey = prefix .. ':a:' .. id
  local old = redis.call('GET', akey)
  if old then
    drop_article(id, struct.pack('<I4', tonumber(id)), old)
    redis.call('DEL', akey)
  end
  removed = removed + redis.call('SREM', prefix .. ':articles', id)
end
return removed
"""

# ARGV: prefix, shard_hex, max postings, packed distinct query keys.
# Returns {packed (key index, id count) pairs, packed ids}: two bulk strings, whatever the hit count.
_QUERY = _LUA_COMMON + r"""
local limit = 4 * tonumber(ARGV[3])
local blob = ARGV[4]
local meta, ids, n = {}, {}, 0
for i = 1, #blob, 8 do
  local k = string.sub(blob, i, i + 7)
  local v = redis.call('HGET', shard(k), k)
  if v and #v <= limit then
    n = n + 1
    meta[n] = struct.pack('<I4I4', (i - 1) / 8, #v / 4)
    ids[n] = v
  end
end
return {table.concat(meta), table.concat(ids)}
"""

_SCRIPTS = {"add": _ADD, "remove": _REMOVE, "query": _QUERY}


class RedisIndex:
    """Passage index shared through Redis (see the module docstring for the layout and costs).

    Args:
        scheme: the fingerprint scheme; must equal the one stored under ``{prefix}:scheme``.
        url: a ``redis://`` URL (ignored when ``client`` is given).
        prefix: namespace of every key; two indexes on one server need two prefixes.
        client: an existing ``redis.Redis`` (must not decode responses).
        shard_hex: shard width in hex digits for a new index (1-5); a reopened index keeps its own.
    """

    def __init__(
        self,
        scheme: FingerprintScheme,
        url: str = "redis://127.0.0.1:6379/0",
        prefix: str = "checker:index",
        *,
        client: redis.Redis | None = None,
        shard_hex: int = DEFAULT_SHARD_HEX,
    ) -> None:
        if not 1 <= shard_hex <= 5:
            raise ValueError(f"shard_hex must be 1..5, got {shard_hex}")
        if not prefix:
            raise ValueError("an empty prefix would mix the index with other data")
        self.scheme = scheme
        self.prefix = prefix
        self._owns_client = client is None
        self.client = client if client is not None else redis.Redis.from_url(url)
        self._sha: dict[str, str] = {}
        try:
            self.shard_hex = self._open(shard_hex)
        except BaseException:
            self.close()
            raise

    # -- setup -------------------------------------------------------------------------------------
    def _key(self, part: str) -> str:
        return f"{self.prefix}:{part}"

    def _open(self, shard_hex: int) -> int:
        """Claim the prefix for our scheme (or check it holds our scheme) and load the scripts: one trip."""
        scheme_json = json.dumps(self.scheme.index_identity(), sort_keys=True)
        layout_json = json.dumps({"format": FORMAT_VERSION, "shard_hex": shard_hex}, sort_keys=True)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._key("scheme"), scheme_json, nx=True, get=True)
        pipe.set(self._key("layout"), layout_json, nx=True, get=True)
        for body in _SCRIPTS.values():
            pipe.script_load(body)
        old_scheme, old_layout, *shas = pipe.execute()
        self._sha = dict(zip(_SCRIPTS, (s.decode() if isinstance(s, bytes) else s for s in shas)))
        if old_scheme is not None and json.loads(old_scheme) != self.scheme.index_identity():
            raise SchemeMismatch(
                f"the Redis index {self.prefix!r} was built with fingerprint scheme {json.loads(old_scheme)}, "
                f"not {self.scheme.index_identity()}; rebuild it with `checker index rebuild`"
            )
        layout = json.loads(old_layout) if old_layout is not None else json.loads(layout_json)
        if layout.get("format") != FORMAT_VERSION:
            raise SchemeMismatch(
                f"the Redis index {self.prefix!r} has storage format {layout.get('format')}, "
                f"not {FORMAT_VERSION}; rebuild it with `checker index rebuild`"
            )
        return int(layout["shard_hex"])

    def _load_scripts(self) -> None:
        pipe = self.client.pipeline(transaction=False)
        for body in _SCRIPTS.values():
            pipe.script_load(body)
        self._sha = dict(zip(_SCRIPTS, (s.decode() if isinstance(s, bytes) else s for s in pipe.execute())))

    def _run(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Run script calls in one pipeline; reload the scripts once if Redis forgot them (a restart
        or ``SCRIPT FLUSH``). Every script is idempotent, so re-running a partly applied batch is safe."""
        for attempt in (0, 1):
            pipe = self.client.pipeline(transaction=False)
            for name, args in calls:
                pipe.evalsha(self._sha[name], 0, self.prefix, self.shard_hex, *args)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt:
                    raise
                self._load_scripts()
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Release the connection pool if this index created the client."""
        if self._owns_client:
            self.client.close()

    # -- index operations --------------------------------------------------------------------------
    def _packed(self, items: Iterable[tuple[int, np.ndarray]]) -> Iterator[tuple[int, bytes]]:
        for article_id, keys in items:
            # Distinct and sorted, so re-adding identical content compares equal byte for byte.
            yield int(article_id), checked_keys(article_id, keys, MAX_ARTICLE_ID).astype(">u8").tobytes()

    def add(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        """Index ``(article_id, keys)`` pairs, replacing any earlier postings of the same ids."""
        calls: list[tuple[str, list[Any]]] = []
        args: list[Any] = []
        script_keys = pipeline_keys = 0
        for article_id, blob in self._packed(items):
            args += [article_id, blob]
            script_keys += len(blob) // 8
            if script_keys >= SCRIPT_KEYS:
                calls.append(("add", args))
                pipeline_keys += script_keys
                args, script_keys = [], 0
                if pipeline_keys >= PIPELINE_KEYS:
                    self._run(calls)
                    calls, pipeline_keys = [], 0
        if args:
            calls.append(("add", args))
        if calls:
            self._run(calls)

    def remove(self, article_ids: Iterable[int]) -> None:
        """Forget these articles (ids not indexed are ignored)."""
        ids = sorted({int(i) for i in article_ids})
        if ids:
            self._run([("remove", ids[i : i + REMOVE_IDS]) for i in range(0, len(ids), REMOVE_IDS)])

    def query(self, keys: np.ndarray) -> Hits:
        """Articles posting any of ``keys``: one round trip to Redis."""
        if not len(keys):
            return Hits.empty()
        flat = np.ascontiguousarray(keys, dtype=np.uint64)
        distinct, inverse = np.unique(flat, return_inverse=True)
        packed = distinct.astype(">u8").tobytes()
        chunks = [packed[i : i + 8 * QUERY_KEYS] for i in range(0, len(packed), 8 * QUERY_KEYS)]
        replies = self._query_scripts(chunks)
        pairs = [
            np.frombuffer(meta, dtype="<u4").reshape(-1, 2).astype(np.int64) + [n * QUERY_KEYS, 0]
            for n, (meta, _) in enumerate(replies)
        ]
        if not sum(len(p) for p in pairs):
            return Hits.empty()
        found, counts = np.concatenate(pairs).T
        ids = np.frombuffer(b"".join(r[1] for r in replies), dtype="<u4").astype(np.int64)
        id_start = np.cumsum(counts) - counts
        # Every position of the query holding a found key, then every id posted under that key.
        order = np.argsort(inverse, kind="stable")
        sorted_inverse = inverse[order]
        lo = np.searchsorted(sorted_inverse, found, side="left")
        hi = np.searchsorted(sorted_inverse, found, side="right")
        occurrence, which = expand_ranges(lo, hi)
        positions = order[occurrence]
        id_pos, owner = expand_ranges(id_start[which], id_start[which] + counts[which])
        rows = positions[owner]
        sort = np.lexsort((ids[id_pos], rows))
        return Hits(ids[id_pos][sort], rows[sort])

    def _query_scripts(self, chunks: list[bytes]) -> list[tuple[bytes, bytes]]:
        """Run the query script on each chunk of packed keys: one command, or one pipeline."""
        if len(chunks) > 1:
            return self._run([("query", [MAX_POSTINGS_PER_KEY, chunk]) for chunk in chunks])
        args = (self.prefix, self.shard_hex, MAX_POSTINGS_PER_KEY, chunks[0])
        try:
            return [self.client.evalsha(self._sha["query"], 0, *args)]
        except redis.exceptions.NoScriptError:
            self._load_scripts()
            return [self.client.evalsha(self._sha["query"], 0, *args)]

    def article_ids(self) -> np.ndarray:
        members = self.client.smembers(self._key("articles"))
        return np.asarray(sorted(int(m) for m in members), dtype=np.int64)

    def refresh(self) -> bool:
        """Every process reads the one Redis index: nothing to reload."""
        return False

    def save(self) -> None:
        """Nothing to do: every add and remove is already in Redis."""

    def clear(self) -> None:
        """Drop every posting and article of this prefix; the scheme stays claimed by this instance."""
        drop(self.client, self.prefix, shard_hex=self.shard_hex)
        self._open(self.shard_hex)


def drop(client: redis.Redis, prefix: str, *, shard_hex: int | None = None) -> None:
    """Delete the index under ``prefix`` whatever its scheme (what a rebuild after
    :class:`~checker.index.SchemeMismatch` starts with). Key names are derived from the layout and the
    article set, so no ``SCAN`` of the database is needed."""
    if shard_hex is None:
        layout = client.get(f"{prefix}:layout")
        shard_hex = json.loads(layout)["shard_hex"] if layout else DEFAULT_SHARD_HEX
    names = [f"{prefix}:s:{i:0{shard_hex}x}" for i in range(16**shard_hex)]
    names += [f"{prefix}:a:{int(m)}" for m in client.smembers(f"{prefix}:articles")]
    names += [f"{prefix}:{part}" for part in ("articles", "scheme", "layout")]
    pipe = client.pipeline(transaction=False)
    for i in range(0, len(names), UNLINK_CHUNK):
        pipe.unlink(*names[i : i + UNLINK_CHUNK])
    pipe.execute()
