"""Shared passage index in Redis (or Redis Cluster): every worker process sees an article the moment it
is registered, and a restart loads nothing (the index lives in Redis, not in the process).

Layout (format 2; every key under ``{prefix}:``; the prefix may not contain ``{`` or ``}``):

- *Buckets* ``{prefix}:{tt}rrr``: a 64-bit key's top ``bucket_bits`` bits (20 by default: 1,048,576
  buckets) pick its bucket; ``tt`` is the top 8 bits in hex, a Redis Cluster *hash tag*, and ``rrr``
  the remaining bucket bits in fixed-width hex. A bucket is a plain string of packed 6-byte postings:
  the key's low 16 bits (a fingerprint telling the bucket's keys apart) and the article id (uint32),
  little-endian. A scan reads whole buckets. A posting with article id 0 is a *stop marker*: that
  fingerprint's postings were moved out of the bucket (see hot keys below). False matches: a query
  key meets ``postings per bucket / 65,536`` foreign postings with its fingerprint, e.g. 0.0015 per
  key at 100 postings a bucket: a stray single-key hit that candidate ranking ignores.
- *Overflow* ``{prefix}:{tt}rrr:ffff``: the postings of a stop key (fingerprint ``ffff``), same hash tag
  as its bucket. Never read by a scan; kept so removals can revive the key.
- ``{prefix}:a:<id>``: the article's record: an 8-byte digest of its distinct keys (re-adding identical
  keys writes nothing) and its buckets, delta- and Rice-coded (~1.1 bytes a key), so a removal knows
  which buckets to rewrite.
- ``{prefix}:articles``: the set of indexed article ids.
- ``{prefix}:articles:{{prefix}:articles}``: that set's *figures*, a hash of ``count``, ``sum`` and ``top``
  (the largest id ever added), changed with the set by :data:`_IDS_ADD_SCRIPT` and
  :data:`_IDS_REMOVE_SCRIPT`; its hash tag puts it in the set's own cluster slot. Opening a registry
  compares these three numbers with the database's, not a million ids (``SMEMBERS``: ~1 s at 1M).
  An index made before the figures existed gets them once, counted inside Redis, when first opened.
- ``{prefix}:scheme``: the :class:`~checker.fingerprint.FingerprintScheme` as JSON, written at first
  use (``SET NX``); a process with another scheme gets :class:`~checker.index.SchemeMismatch` when it
  opens the index, before it can read or write a key.
- ``{prefix}:layout``: format version, ``bucket_bits`` and a random generation (``made``), read in the same
  ``MGET`` as every query's buckets and every addition's records: a process sees at once that another
  rebuilt the index, takes its bucket count, and refuses (:class:`~checker.index.SchemeMismatch`) when it
  was rebuilt with another scheme, instead of reading or writing the wrong buckets. An index of another
  format (format 1 was one hash per shard, ~25 KB an article, scanned by a Lua script) is refused with
  :class:`~checker.index.SchemeMismatch` until ``checker index rebuild``.

Memory (``python -m bench.redis_index``): 6 bytes a posting, ~90 bytes per non-empty bucket, and ~0.9 KB
per article record (a 600-word article posts ~650 keys). Measured at 20k articles with bucket_bits=17:
5.8 KB an article (format 1: 19.4 KB; format 2 with ``APPEND``: 7.8 KB); with bucket_bits=20, too many
buckets for that size, 10.7 KB. Buckets should hold 50-150 postings:
``2**bucket_bits`` ~ articles x keys per article / 100 (2**17 for ~20k articles, 2**20 for ~150k,
2**23 for ~1M). Fewer, fuller buckets cost a scan more bytes read; more, emptier ones ~90 bytes each.

Costs (round trips are what matter: a local one is ~0.1 ms, a networked one 0.3-1 ms):

- :meth:`~RedisIndex.query`: ONE ``MGET`` of the suspect's buckets (plain command, no script: Redis
  spends microseconds copying strings, numpy does the matching). On a cluster, one pipeline per node
  (``MGET`` per hash tag). Stop keys (more than :data:`~checker.index.MAX_POSTINGS_PER_KEY` postings
  counted in the bucket, or a stop marker) are skipped, as in the memory index.
- :meth:`~RedisIndex.add`: one ``MGET`` of the article records (so identical re-adds write nothing),
  then one pipeline: per hash tag and :data:`SCRIPT_BUCKETS` buckets a short script (:data:`_ADD_SCRIPT`,
  ~1 µs a bucket) that rewrites each bucket as its old postings plus the new ones, then ``SET`` per
  record and one ``SADD``. Not ``APPEND``: it doubles a string's allocation whenever it grows, ~40 %
  more memory for the same postings. Re-adding an article with other keys first purges its old
  postings. A reader may see an article's postings before the last of them is written (the matcher
  verifies every candidate anyway).
- Hot keys: each time an addition takes a bucket past a multiple of :data:`TIDY_BYTES`, the writer
  reads that bucket and moves the postings of every fingerprint with more than ``MAX_POSTINGS_PER_KEY``
  articles to its overflow key, leaving a stop marker (an optimistic ``WATCH``/``MULTI`` transaction on
  keys of one hash tag). A paragraph copied into thousands of articles thus costs each registration
  one bounded bucket rewrite per key plus, once per ``TIDY_BYTES``, one bucket read; a scan reads at
  most one bucket's normal postings plus ``TIDY_BYTES`` per key.
- :meth:`~RedisIndex.remove`: one ``MGET`` of records, then per group of :data:`TXN_BUCKETS` buckets
  (one hash tag on a cluster) a transaction that rewrites them without the removed ids (overflow keys
  included: a stop key that falls back to ``MAX_POSTINGS_PER_KEY`` or fewer postings is moved back).
- :meth:`~RedisIndex.id_figures`: one ``HMGET`` (what opening a registry reads); :meth:`~RedisIndex.article_ids`:
  one ``SMEMBERS`` (only when the figures disagree with the database). :meth:`~RedisIndex.save`: nothing (writes go
  through). :meth:`~RedisIndex.clear` and :func:`drop`: ``SCAN`` for the prefix's keys and ``UNLINK``.

Configuration: ``CHECKER_INDEX_URL`` (see :mod:`checker.settings`) is a ``redis://`` or ``rediss://``
URL for one server, or ``redis+cluster://host:port/`` (``rediss+cluster://`` with TLS) naming any node
of a Redis Cluster (the others are discovered). ``?bucket_bits=N`` (12-24) sets the bucket count of a
new index; an existing index keeps its own (a log line says so) until ``checker index rebuild`` (which
calls :meth:`~RedisIndex.clear`) makes it again with the requested count.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import redis
import redis.cluster
from redis.crc import key_slot

from checker.arrays import expand_ranges
from checker.fingerprint import FingerprintScheme
from checker.index import DEFAULT_PREFIX, MAX_POSTINGS_PER_KEY, Hits, SchemeMismatch, checked_keys

LOGGER = logging.getLogger(__name__)
FORMAT_VERSION = 2
DEFAULT_BUCKET_BITS = 20
MIN_BUCKET_BITS, MAX_BUCKET_BITS = 12, 24
TAG_BITS = 8  # 256 hash tags: spread evenly over the 16,384 slots of any cluster of up to ~30 nodes
FP_MASK = np.uint64(0xFFFF)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
POSTING = np.dtype([("fp", "<u2"), ("id", "<u4")])  # 6 bytes, unaligned
MAX_ARTICLE_ID = np.iinfo(np.uint32).max
# A bucket is looked at for hot keys each time an append takes it past a multiple of this many bytes.
TIDY_BYTES = 3_072
# Buckets rewritten per WATCH/MULTI transaction (more: more conflicts with concurrent registrations).
TXN_BUCKETS = 64
TXN_RETRIES = 50
# Buckets one registration script rewrites (~1 µs each inside Redis: a script stays well under 1 ms).
SCRIPT_BUCKETS = 512
# Postings written per pipeline: bounds the client's buffers when a bulk import passes many articles.
BATCH_KEYS = 200_000
UNLINK_CHUNK = 1_000
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


# Registration's only script: each bucket is rewritten as old + new postings (SET of an exact-size
# string) rather than APPENDed: APPEND doubles a string's allocation whenever it grows, which left
# buckets ~40 % slack (measured: 100 postings took 952 bytes appended, 696 rewritten). KEYS: the
# buckets; ARGV: their new postings concatenated, each bucket's share in bytes (uint32 LE), the tidy
# step. Returns the (0-based) positions of the buckets that crossed a multiple of the step.
_ADD_SCRIPT = """
local blob, sizes, step = ARGV[1], ARGV[2], tonumber(ARGV[3])
local crossed = {}
local pos = 1
for i, key in ipairs(KEYS) do
  local n = struct.unpack('<I4', sizes, 4 * i - 3)
  local add = string.sub(blob, pos, pos + n - 1)
  pos = pos + n
  local old = redis.call('GET', key)
  local len = n
  if old then
    len = len + #old
    redis.call('SET', key, old .. add)
  else
    redis.call('SET', key, add)
  end
  if math.floor(len / step) > math.floor((len - n) / step) then crossed[#crossed + 1] = i - 1 end
end
return redis.status_reply(table.concat(crossed, ','))
"""


# The article set and its figures (count, sum, largest id ever added) change together: each id is
# SADDed and, when new to the set, counted. Lua numbers are doubles, exact to 2**53: a batch's sum of
# uint32 ids stays far below. KEYS: the set, the figures hash; ARGV: the ids. Returns how many were new.
_IDS_ADD_SCRIPT = """
local n, sum, top = 0, 0, tonumber(redis.call('HGET', KEYS[2], 'top') or '0')
for _, id in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], id) == 1 then
    local v = tonumber(id)
    n, sum = n + 1, sum + v
    if v > top then top = v end
  end
end
if n > 0 then
  redis.call('HINCRBY', KEYS[2], 'count', n)
  redis.call('HINCRBY', KEYS[2], 'sum', string.format('%d', sum))
  redis.call('HSET', KEYS[2], 'top', string.format('%d', top))
end
return n
"""
# The same for removals (``top`` stays: it is a high-water mark, never lowered).
_IDS_REMOVE_SCRIPT = """
local n, sum = 0, 0
for _, id in ipairs(ARGV) do
  if redis.call('SREM', KEYS[1], id) == 1 then n, sum = n + 1, sum + tonumber(id) end
end
if n > 0 then
  redis.call('HINCRBY', KEYS[2], 'count', -n)
  redis.call('HINCRBY', KEYS[2], 'sum', string.format('%d', -sum))
end
return n
"""
# An index made before the figures existed: count them once, inside Redis (atomic with writers). A
# no-op when they exist, so every open runs it in its one round trip.
_IDS_FIGURES_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  local n, sum, top = 0, 0, 0
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local v = tonumber(id)
    n, sum = n + 1, sum + v
    if v > top then top = v end
  end
  redis.call('HSET', KEYS[2], 'count', n, 'sum', string.format('%d', sum), 'top', string.format('%d', top))
end
return 0
"""


# -- configuration ---------------------------------------------------------------------------------------
def connect(url: str) -> tuple[redis.Redis | redis.cluster.RedisCluster, int | None]:
    """A client for ``url`` (one server, or ``redis+cluster://`` for a cluster) and the URL's
    ``bucket_bits`` option, if any."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    bits = [v for k, v in query if k == "bucket_bits"]
    rest = urlencode([(k, v) for k, v in query if k != "bucket_bits"])
    bucket_bits = None
    if bits:
        try:
            bucket_bits = int(bits[-1])
        except ValueError:
            raise ValueError(f"bucket_bits must be a number, got {bits[-1]!r}") from None
    scheme = CLUSTER_SCHEMES.get(parts.scheme)
    if scheme:
        plain = urlunsplit((scheme, parts.netloc, "", rest, ""))
        return redis.cluster.RedisCluster.from_url(plain), bucket_bits
    return redis.Redis.from_url(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))), bucket_bits


def is_cluster(client: Any) -> bool:
    return isinstance(client, redis.cluster.RedisCluster)


# -- article records ------------------------------------------------------------------------------------
def varint_sizes(values: np.ndarray) -> np.ndarray:
    return 1 + (values >= 1 << 7).astype(np.int64) + (values >= 1 << 14) + (values >= 1 << 21)


def encode_varints(values: np.ndarray) -> bytes:
    """LEB128 of non-negative integers below 2**28 (7 bits a byte, high bit = more bytes follow)."""
    values = np.asarray(values, dtype=np.int64)
    nbytes = varint_sizes(values)
    ends = np.cumsum(nbytes)
    starts = ends - nbytes
    out = np.zeros(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
    for j in range(4):
        sel = nbytes > j
        more = (nbytes[sel] > j + 1).astype(np.int64) << 7
        out[starts[sel] + j] = ((values[sel] >> (7 * j)) & 0x7F) | more
    return out.tobytes()


def decode_varints(data: bytes) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    if not len(raw):
        return np.empty(0, dtype=np.int64)
    last = raw < 0x80
    which = np.concatenate(([0], np.cumsum(last)[:-1]))  # value each byte belongs to
    starts = np.flatnonzero(np.concatenate(([True], last[:-1])))
    shift = 7 * (np.arange(len(raw)) - starts[which])
    return np.bincount(which, weights=(raw & 0x7F) << shift).astype(np.int64)


def article_records(keys: list[np.ndarray], bucket_bits: int) -> list[bytes]:
    """Each article's record: a digest of its distinct sorted ``keys`` and its buckets (sorted,
    delta-coded, Rice-coded: ~9 bits a bucket for 650 keys among 2**17 buckets, where LEB128 took ~12),
    for a whole batch at once (numpy per batch, not per article)."""
    if not keys:
        return []
    digests = [hashlib.blake2b(k.astype("<u8").tobytes(), digest_size=8).digest() for k in keys]
    flat = np.concatenate(keys)
    article = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    buckets = (flat >> np.uint64(64 - bucket_bits)).astype(np.int64)
    new = np.ones(len(flat), dtype=bool)  # keys are sorted in each article: so are their buckets
    new[1:] = (article[1:] != article[:-1]) | (buckets[1:] != buckets[:-1])
    buckets, article = buckets[new], article[new]
    first = np.ones(len(buckets), dtype=bool)
    first[1:] = article[1:] != article[:-1]
    deltas = np.diff(buckets, prepend=0)
    deltas[first] = buckets[first]
    cuts = np.flatnonzero(first)[1:]
    return [d + encode_rice(v) for d, v in zip(digests, np.split(deltas, cuts))]


def encode_rice(values: np.ndarray) -> bytes:
    """Non-negative integers as a Golomb-Rice code: a header (the parameter k, the count as LEB128),
    then per value its quotient ``v >> k`` in unary (ones, then a zero) and its low k bits."""
    values = np.asarray(values, dtype=np.int64)
    if not len(values):
        return b"\x00" + encode_varints(np.zeros(1, dtype=np.int64))
    k = max(0, int(np.log2(max(1.0, float(values.mean())))))
    q = values >> k
    sizes = q + 1 + k
    starts = np.cumsum(sizes) - sizes
    bits = np.zeros(int(sizes.sum()), dtype=np.uint8)
    ones, _ = expand_ranges(starts, starts + q)
    bits[ones] = 1
    if k:
        shifts = np.arange(k - 1, -1, -1)
        bits[(starts + q + 1)[:, None] + np.arange(k)] = (values[:, None] >> shifts) & 1
    return bytes([k]) + encode_varints(np.array([len(values)])) + np.packbits(bits).tobytes()


def decode_rice(data: bytes) -> np.ndarray:
    k = data[0]
    raw = np.frombuffer(data[1:], dtype=np.uint8)
    header = int(np.flatnonzero(raw < 0x80)[0]) + 1
    count = int(decode_varints(raw[:header].tobytes())[0])
    bits = np.unpackbits(raw[header:])
    zeros = np.flatnonzero(bits == 0)
    weights = 1 << np.arange(k - 1, -1, -1)
    out = np.empty(count, dtype=np.int64)
    pos = 0
    for i in range(count):  # sequential, but only a removal reads a record
        z = int(zeros[np.searchsorted(zeros, pos)])
        out[i] = ((z - pos) << k) | int(bits[z + 1 : z + 1 + k] @ weights if k else 0)
        pos = z + 1 + k
    return out


def article_record(keys: np.ndarray, bucket_bits: int) -> bytes:
    return article_records([keys], bucket_bits)[0]


def record_buckets(record: bytes) -> np.ndarray:
    return np.cumsum(decode_rice(record[8:]))


# -- the index ------------------------------------------------------------------------------------------
class RedisIndex:
    """Passage index shared through Redis (see the module docstring for the layout and costs).

    Args:
        scheme: the fingerprint scheme; must equal the one stored under ``{prefix}:scheme``.
        url: a ``redis://``, ``rediss://`` or ``redis+cluster://`` URL (ignored when ``client`` is given);
            ``?bucket_bits=N`` sets ``bucket_bits``.
        prefix: namespace of every key; two indexes on one server need two prefixes.
        client: an existing ``redis.Redis`` or ``RedisCluster`` (must not decode responses).
        bucket_bits: bucket count (``2**bucket_bits``) of a new index; a reopened index keeps its own.
    """

    def __init__(
        self,
        scheme: FingerprintScheme,
        url: str = "redis://127.0.0.1:6379/0",
        prefix: str = DEFAULT_PREFIX,
        *,
        client: redis.Redis | redis.cluster.RedisCluster | None = None,
        bucket_bits: int | None = None,
    ) -> None:
        if not prefix:
            raise ValueError("an empty prefix would mix the index with other data")
        if "{" in prefix or "}" in prefix:
            raise ValueError(
                f"the index prefix {prefix!r} may not contain braces (they are Redis Cluster hash tags)"
            )
        self.scheme = scheme
        self.prefix = prefix
        self._owns_client = client is None
        url_bits = None
        if client is None:
            client, url_bits = connect(url)
        self.client = client
        self.cluster = is_cluster(client)
        self._requested_bits = bucket_bits or url_bits
        bits = self._requested_bits or DEFAULT_BUCKET_BITS
        self._pfx = prefix.encode()
        try:
            if not MIN_BUCKET_BITS <= bits <= MAX_BUCKET_BITS:
                raise ValueError(f"bucket_bits must be {MIN_BUCKET_BITS}..{MAX_BUCKET_BITS}, got {bits}")
            self._open(bits)
            if self._requested_bits and self._requested_bits != self.bucket_bits:
                LOGGER.warning(
                    "the Redis index %r has 2**%d buckets, not the 2**%d asked for: it keeps its own until "
                    "`checker index rebuild` makes it again",
                    prefix,
                    self.bucket_bits,
                    self._requested_bits,
                )
        except BaseException:
            self.close()
            raise

    # -- setup -------------------------------------------------------------------------------------
    def _key(self, part: str) -> str:
        return f"{self.prefix}:{part}"

    def _id_keys(self) -> tuple[str, str]:
        """The article set and its figures (same cluster slot)."""
        return self._key("articles"), figures_name(self.prefix)

    def _open(self, bucket_bits: int) -> None:
        """Claim the prefix for our scheme (or check it holds our scheme) and take the stored layout
        (:meth:`_adopt`): one round trip."""
        scheme_json = json.dumps(self.scheme.index_identity(), sort_keys=True)
        # "made": this index's generation. Every query and addition reads the layout with its buckets,
        # so a process sees at once when another rebuilt the index (other buckets, another scheme).
        layout_json = json.dumps(
            {"format": FORMAT_VERSION, "bucket_bits": bucket_bits, "made": secrets.token_hex(8)},
            sort_keys=True,
        )
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._key("scheme"), scheme_json, nx=True, get=True)
        pipe.set(self._key("layout"), layout_json, nx=True, get=True)
        pipe.execute_command("EVAL", _IDS_FIGURES_SCRIPT, 2, *self._id_keys())
        old_scheme, old_layout, _ = pipe.execute()
        self._adopt(old_scheme, old_layout if old_layout is not None else layout_json.encode())

    def _adopt(self, scheme_json: bytes | None, layout_json: bytes) -> None:
        """Take the stored layout (its bucket count) as this instance's, after checking the stored scheme
        (None: unclaimed) and format."""
        if scheme_json is not None and json.loads(scheme_json) != self.scheme.index_identity():
            raise SchemeMismatch(
                f"the Redis index {self.prefix!r} was built with fingerprint scheme {json.loads(scheme_json)}, "
                f"not {self.scheme.index_identity()}; rebuild it with `checker index rebuild`, or restart "
                "this process with the scheme it was rebuilt with"
            )
        layout = json.loads(layout_json)
        if layout.get("format") != FORMAT_VERSION:
            raise SchemeMismatch(
                f"the Redis index {self.prefix!r} has storage format {layout.get('format')}, "
                f"not {FORMAT_VERSION}; rebuild it with `checker index rebuild`"
            )
        self._layout = layout_json
        self._shift = np.uint64(64 - layout["bucket_bits"])
        self._rest_bits = layout["bucket_bits"] - TAG_BITS
        self._rest_digits = (self._rest_bits + 3) // 4
        self.bucket_bits = int(layout["bucket_bits"])

    def _still_current(self, layout_json: bytes | None, *, claim: bool) -> bool:
        """Whether the layout read with an operation's first ``MGET`` is the one this instance works
        with. When another process rebuilt the index, take the new one (its scheme checked) and answer
        False, so the operation starts again. A dropped index (a rebuild in progress) is claimed by a
        writer (``claim``), as a new index is; a reader finds nothing in it (also False)."""
        if layout_json == self._layout:
            return True
        if layout_json is None:
            if claim:
                self._open(self._requested_bits or self.bucket_bits)
            return False
        scheme_json = self.client.get(self._key("scheme"))
        assert not isinstance(scheme_json, str)  # the client does not decode responses
        self._adopt(scheme_json, layout_json)
        return False

    def close(self) -> None:
        """Release the connections if this index created the client."""
        if self._owns_client:
            self.client.close()

    # -- key names ---------------------------------------------------------------------------------
    def _bucket_name(self, bucket: int) -> bytes:
        rest = bucket & ((1 << self._rest_bits) - 1)
        return b"%s:{%02x}%0*x" % (self._pfx, bucket >> self._rest_bits, self._rest_digits, rest)

    def _bucket_names(self, buckets: np.ndarray) -> list[bytes]:
        """:meth:`_bucket_name` of many buckets, built as one numpy array (~0.2 µs a name, not ~1 µs)."""
        names = self._bucket_name_rows(np.asarray(buckets, dtype=np.int64))
        return [row.tobytes() for row in names]

    def _bucket_name_rows(self, buckets: np.ndarray) -> np.ndarray:
        head = len(self._pfx) + 2  # 'prefix:{'
        template = np.frombuffer(self._bucket_name(0), dtype=np.uint8)
        rows = np.tile(template, (len(buckets), 1))
        digits = [(head, buckets >> (self._rest_bits + 4)), (head + 1, buckets >> self._rest_bits)]
        rest = buckets & ((1 << self._rest_bits) - 1)
        digits += [
            (head + 3 + i, rest >> (4 * (self._rest_digits - 1 - i))) for i in range(self._rest_digits)
        ]
        for column, value in digits:
            rows[:, column] = HEX[value & 15]
        return rows

    def _overflow_name(self, bucket: int, fp: int) -> bytes:
        return b"%s:%04x" % (self._bucket_name(bucket), fp)

    def _article_name(self, article_id: int) -> bytes:
        return b"%s:a:%d" % (self._pfx, article_id)

    # -- plumbing ----------------------------------------------------------------------------------
    def _mget(self, names: list[bytes]) -> list[bytes | None]:
        """One ``MGET`` (a cluster: one pipeline per node, an ``MGET`` per slot)."""
        if not names:
            return []
        if isinstance(self.client, redis.cluster.RedisCluster):  # self.cluster, narrowing the client's type
            return self.client.mget_nonatomic(names)
        return self._mget_raw(len(names), b"".join(b"$%d\r\n%s\r\n" % (len(n), n) for n in names))

    def _mget_raw(self, count: int, args: bytes) -> list[bytes | None]:
        """``MGET`` on one server, its reply parsed here: redis-py's Python parser spends ~5 µs per
        bulk string, 3-5 ms per scan of ~900 buckets; this ~1 µs. Either protocol: a null is ``$-1``
        (RESP2) or ``_`` (RESP3)."""
        blob = b"*%d\r\n$4\r\nMGET\r\n" % (count + 1) + args
        values: list[bytes | None] = []
        assert isinstance(self.client, redis.Redis)  # one server: a cluster never takes this path
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([blob])  # type: ignore[no-untyped-call]  # untyped in redis-py
            sock = conn._sock
            assert sock is not None  # connected by send_packed_command
            buf, pos, expected = bytearray(), 0, -1
            while True:
                if expected < 0 and (j := buf.find(b"\r\n")) >= 0:
                    if buf[:1] != b"*":
                        raise redis.exceptions.ResponseError(bytes(buf[1:j]).decode(errors="replace"))
                    expected, pos = int(buf[1:j]), j + 2
                while 0 <= expected and len(values) < expected and (j := buf.find(b"\r\n", pos)) >= 0:
                    length = -1 if buf[pos] == 0x5F else int(buf[pos + 1 : j])  # RESP3 null: "_"
                    if length < 0:
                        values.append(None)
                        pos = j + 2
                    elif j + 4 + length <= len(buf):
                        values.append(bytes(buf[j + 2 : j + 2 + length]))
                        pos = j + 4 + length
                    else:
                        break
                if len(values) == expected:
                    return values
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise redis.exceptions.ConnectionError("Redis closed the connection")
                buf += chunk
        except BaseException:
            conn.disconnect()  # type: ignore[no-untyped-call]  # untyped in redis-py
            raise
        finally:
            pool.release(conn)

    def _write(
        self,
        buckets: np.ndarray,
        blob: bytes,
        sizes: np.ndarray,
        sets: list[tuple[bytes, bytes]],
        members: list[int],
    ) -> np.ndarray:
        """Add to each bucket ``buckets[i]`` (sorted) its ``sizes[i]`` bytes of ``blob``, ``SET`` each
        pair, ``SADD`` the members to the article set, in one pipeline; the buckets an addition took
        past a multiple of TIDY_BYTES.

        Additions go through :data:`_ADD_SCRIPT`, one call per hash tag and :data:`SCRIPT_BUCKETS`
        buckets (a cluster runs each call on the node of its tag), its arguments packed so that
        building a call costs a few Python operations, not a few per bucket."""
        tags = buckets >> self._rest_bits
        cuts = np.flatnonzero(np.diff(tags)) + 1
        calls = [
            (s, min(int(e), s + SCRIPT_BUCKETS))
            for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(buckets)])
            for s in range(int(s), int(e), SCRIPT_BUCKETS)
        ]
        ends = np.cumsum(sizes)
        starts = ends - sizes
        step = b"%d" % TIDY_BYTES
        packed_sizes = sizes.astype("<u4")

        def args(s: int, e: int) -> tuple[bytes, bytes]:
            return blob[int(starts[s]) : int(ends[e - 1])], packed_sizes[s:e].tobytes()

        if self.cluster:
            names = self._bucket_names(buckets)
            pipe = self.client.pipeline(transaction=False)
            for s, e in calls:
                pipe.execute_command("EVAL", _ADD_SCRIPT, e - s, *names[s:e], *args(s, e), step)
            for name, value in sets:
                pipe.set(name, value)
            if members:
                pipe.execute_command("EVAL", _IDS_ADD_SCRIPT, 2, *self._id_keys(), *members)
            replies = [r if isinstance(r, bytes) else str(r).encode() for r in pipe.execute()[: len(calls)]]
        else:
            rows = self._bucket_name_rows(buckets)
            width = rows.shape[1]
            bulk_names = np.empty((len(rows), width + len(b"$%d\r\n" % width) + 2), dtype=np.uint8)
            bulk_names[:, : -width - 2] = np.frombuffer(b"$%d\r\n" % width, dtype=np.uint8)
            bulk_names[:, -width - 2 : -2] = rows
            bulk_names[:, -2:] = np.frombuffer(b"\r\n", dtype=np.uint8)
            script = b"$%d\r\n%s\r\n" % (len(_ADD_SCRIPT), _ADD_SCRIPT.encode())
            chunks = []
            for s, e in calls:
                postings, shares = args(s, e)
                chunks.append(
                    b"".join(
                        (
                            b"*%d\r\n$4\r\nEVAL\r\n" % (e - s + 6),
                            script,
                            b"$%d\r\n%d\r\n" % (len(b"%d" % (e - s)), e - s),
                            bulk_names[s:e].tobytes(),
                            b"$%d\r\n%s\r\n" % (len(postings), postings),
                            b"$%d\r\n%s\r\n" % (len(shares), shares),
                            b"$%d\r\n%s\r\n" % (len(step), step),
                        )
                    )
                )
            chunks += [
                b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(n), n, len(v), v) for n, v in sets
            ]
            if members:
                margs = [b"EVAL", _IDS_ADD_SCRIPT.encode(), b"2", *(k.encode() for k in self._id_keys())]
                margs += [b"%d" % m for m in members]
                chunks.append(
                    b"*%d\r\n" % len(margs) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in margs)
                )
            replies = self._raw(b"".join(chunks), len(chunks))
            errors = [r for r in replies if r.startswith(b"-")]
            if errors:
                raise redis.exceptions.ResponseError(errors[0][1:].decode(errors="replace"))
            replies = [r[1:] for r in replies[: len(calls)]]
        crossed = [s + int(i) for (s, _e), r in zip(calls, replies) for i in r.split(b",") if i]
        return buckets[crossed]

    def _raw(self, blob: bytes, replies: int) -> list[bytes]:
        """Send ``blob`` (``replies`` commands) on a pooled connection and read that many one-line replies."""
        assert isinstance(self.client, redis.Redis)  # one server: a cluster never takes this path
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([blob])  # type: ignore[no-untyped-call]  # untyped in redis-py
            sock = conn._sock
            assert sock is not None  # connected by send_packed_command
            buf, lines = bytearray(), 0
            while lines < replies:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise redis.exceptions.ConnectionError("Redis closed the connection")
                lines += chunk.count(b"\r\n") + (buf[-1:] == b"\r" and chunk[:1] == b"\n")
                buf += chunk
        except BaseException:
            # Never hand a connection with unread replies back to the pool.
            conn.disconnect()  # type: ignore[no-untyped-call]  # untyped in redis-py
            raise
        finally:
            pool.release(conn)
        return bytes(buf).split(b"\r\n")[:replies]

    # -- index operations --------------------------------------------------------------------------
    def add(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        """Index ``(article_id, keys)`` pairs, replacing any earlier postings of the same ids."""
        batch: dict[int, np.ndarray] = {}
        size = 0
        for article_id, keys in items:
            batch[int(article_id)] = flat = checked_keys(article_id, keys, MAX_ARTICLE_ID)
            size += len(flat)
            if size >= BATCH_KEYS:
                self._add_batch(batch)
                batch, size = {}, 0
        if batch:
            self._add_batch(batch)

    def _add_batch(self, batch: dict[int, np.ndarray]) -> None:
        ids = list(batch)
        records = dict(zip(ids, article_records([batch[i] for i in ids], self.bucket_bits)))
        layout, *stored = self._mget([self._key("layout").encode(), *(self._article_name(i) for i in ids)])
        if not self._still_current(layout, claim=True):
            return self._add_batch(batch)  # records again, in the index's new buckets
        old = dict(zip(ids, stored))
        fresh = [i for i in ids if old[i] != records[i]]
        if not fresh:
            return
        stale = {i: record for i in fresh if (record := old[i]) is not None}
        if stale:
            self._purge(stale)
        keys = np.concatenate([batch[i] for i in fresh])
        owners = np.repeat(np.asarray(fresh, dtype=np.uint32), [len(batch[i]) for i in fresh])
        buckets = (keys >> self._shift).astype(np.int64)
        order = np.argsort(buckets, kind="stable")
        postings = np.empty(len(keys), dtype=POSTING)
        postings["fp"] = keys[order] & FP_MASK
        postings["id"] = owners[order]
        buckets = buckets[order]
        starts = np.flatnonzero(np.diff(buckets, prepend=-1))
        ends = np.append(starts[1:], len(buckets))
        tidy = self._write(
            buckets[starts],
            postings.tobytes(),
            (ends - starts) * POSTING.itemsize,
            [(self._article_name(i), records[i]) for i in fresh],
            fresh,
        )
        if len(tidy):
            self._rewrite(tidy, np.empty(0, dtype=np.uint32))

    def remove(self, article_ids: Iterable[int]) -> None:
        """Forget these articles (ids not indexed are ignored)."""
        ids = sorted({int(i) for i in article_ids})
        if not ids:
            return
        layout, *stored = self._mget([self._key("layout").encode(), *(self._article_name(i) for i in ids)])
        if not self._still_current(layout, claim=False) and layout is not None:
            return self.remove(ids)
        found = {i: r for i, r in zip(ids, stored) if r is not None}
        if found:
            self._purge(found)
        pipe = self.client.pipeline(transaction=False)
        for i in ids:
            pipe.unlink(self._article_name(i))
        pipe.execute_command("EVAL", _IDS_REMOVE_SCRIPT, 2, *self._id_keys(), *ids)
        pipe.execute()

    def _purge(self, records: dict[int, bytes]) -> None:
        """Delete the postings of these articles (their records list the buckets to rewrite)."""
        buckets = np.unique(np.concatenate([record_buckets(r) for r in records.values()]))
        self._rewrite(buckets, np.asarray(sorted(records), dtype=np.uint32))

    def _rewrite(self, buckets: np.ndarray, drop_ids: np.ndarray) -> None:
        """Rewrite ``buckets`` without ``drop_ids``' postings and with stop keys moved to overflow keys,
        in optimistic transactions of buckets sharing one hash tag (any tags on one server)."""
        buckets = np.unique(np.asarray(buckets, dtype=np.int64))
        if self.cluster:
            tags = buckets >> self._rest_bits
            cuts = np.flatnonzero(np.diff(tags)) + 1
            groups = [
                g[i : i + TXN_BUCKETS] for g in np.split(buckets, cuts) for i in range(0, len(g), TXN_BUCKETS)
            ]
        else:
            groups = [buckets[i : i + TXN_BUCKETS] for i in range(0, len(buckets), TXN_BUCKETS)]
        for group in groups:
            for _attempt in range(TXN_RETRIES):
                try:
                    self._rewrite_group([int(b) for b in group], drop_ids)
                    break
                except redis.exceptions.WatchError:
                    continue
            else:
                raise redis.exceptions.WatchError(
                    f"buckets of {self.prefix!r} kept changing during {TXN_RETRIES} rewrites"
                )

    def _rewrite_group(self, buckets: list[int], drop_ids: np.ndarray) -> None:
        names = self._bucket_names(np.asarray(buckets))
        with self.client.pipeline(transaction=True) as pipe:
            pipe.watch(*names)
            values = pipe.execute_command("MGET", *names)  # redis-py's cluster pipeline has no mget()
            plans = [_split(v or b"", drop_ids) for v in values]
            # Overflow keys to read: a purge must filter them, a stop key that gained postings appends.
            overflow = [
                (b, int(fp)) for b, (_, markers, _) in zip(buckets, plans) for fp in markers if len(drop_ids)
            ]
            over_names = [self._overflow_name(b, fp) for b, fp in overflow]
            if over_names:
                pipe.watch(*over_names)
                over_values = dict(zip(overflow, pipe.execute_command("MGET", *over_names)))
            else:
                over_values = {}
            writes: list[tuple[str, bytes, bytes | None]] = []
            for bucket, name, value, (kept, markers, moved) in zip(buckets, names, values, plans):
                for fp in markers:
                    if (bucket, int(fp)) not in over_values:
                        continue
                    rest = np.frombuffer(over_values[(bucket, int(fp))] or b"", dtype=POSTING)
                    rest = rest[~np.isin(rest["id"], drop_ids)]
                    extra = moved.get(int(fp))
                    total = len(rest) + (len(extra) if extra is not None else 0)
                    oname = self._overflow_name(bucket, int(fp))
                    if total <= MAX_POSTINGS_PER_KEY:  # no longer a stop key: back into the bucket
                        kept = np.concatenate([kept, rest] + ([extra] if extra is not None else []))
                        moved.pop(int(fp), None)
                        markers = markers[markers != fp]
                        writes.append(("del", oname, None))
                    else:
                        writes.append(("set", oname, rest.tobytes()))
                new = _join(kept, markers, moved)
                if new != (value or b""):
                    writes.append(("set", name, new) if new else ("del", name, None))
                for fp, postings in moved.items():
                    if (bucket, fp) not in over_values:
                        writes.append(("append", self._overflow_name(bucket, fp), postings.tobytes()))
                    else:  # its overflow is being rewritten above: add to that value
                        i = next(j for j, w in enumerate(writes) if w[1] == self._overflow_name(bucket, fp))
                        _op, over_name, over_value = writes[i]
                        assert over_value is not None  # a "set" (the "del" case took fp out of moved)
                        writes[i] = ("set", over_name, over_value + postings.tobytes())
            if not writes:
                pipe.unwatch()
                return
            pipe.multi()
            for op, name, value in writes:
                if op == "append":
                    assert value is not None  # appends carry postings
                    pipe.append(name, value)
                elif op == "set" and value:
                    pipe.set(name, value)
                else:
                    pipe.unlink(name)
            pipe.execute()

    def query(self, keys: np.ndarray) -> Hits:
        """Articles posting any of ``keys``: one ``MGET`` of their buckets."""
        if not len(keys):
            return Hits.empty()
        flat = np.ascontiguousarray(keys, dtype=np.uint64)
        distinct, inverse = np.unique(flat, return_inverse=True)
        # A key's lookup code: its bucket and fingerprint (distinct keys may share one).
        codes = ((distinct >> self._shift) << np.uint64(16)) | (distinct & FP_MASK)
        ucodes, code_of = np.unique(codes, return_inverse=True)
        buckets = np.unique(ucodes >> np.uint64(16))
        layout_name = self._key("layout").encode()
        if self.cluster:
            layout, *values = self._mget([layout_name, *self._bucket_names(buckets)])
        else:
            rows = self._bucket_name_rows(buckets.astype(np.int64))
            width = rows.shape[1]
            args = np.empty((len(rows), width + len(b"$%d\r\n" % width) + 2), dtype=np.uint8)
            args[:, : -width - 2] = np.frombuffer(b"$%d\r\n" % width, dtype=np.uint8)
            args[:, -width - 2 : -2] = rows
            args[:, -2:] = np.frombuffer(b"\r\n", dtype=np.uint8)
            head = b"$%d\r\n%s\r\n" % (len(layout_name), layout_name)
            layout, *values = self._mget_raw(len(rows) + 1, head + args.tobytes())
        if not self._still_current(layout, claim=False):
            return self.query(keys) if layout is not None else Hits.empty()
        counts = np.fromiter(
            (len(v) // POSTING.itemsize if v else 0 for v in values), dtype=np.int64, count=len(values)
        )
        if not counts.sum():
            return Hits.empty()
        postings = np.frombuffer(b"".join(v for v in values if v), dtype=POSTING)
        # Only postings whose fingerprint some query key has can match (~1 in 70 of a scan's): a
        # 65,536-entry table drops the rest before the costlier code lookup.
        wanted = np.zeros(1 << 16, dtype=bool)
        wanted[(ucodes & FP_MASK).astype(np.int64)] = True
        near = np.flatnonzero(wanted[postings["fp"]])
        postings = postings[near]
        rec_codes = (np.repeat(buckets, counts)[near] << np.uint64(16)) | postings["fp"].astype(np.uint64)
        owner = np.searchsorted(ucodes, rec_codes)
        owner[owner == len(ucodes)] = 0
        hit = ucodes[owner] == rec_codes
        owner, ids = owner[hit], postings["id"][hit].astype(np.int64)
        # Stop keys: a stop marker (id 0) in the bucket, or too many postings.
        stop = np.bincount(owner[ids != 0], minlength=len(ucodes)) > MAX_POSTINGS_PER_KEY
        stop[owner[ids == 0]] = True
        keep = ~stop[owner]
        owner, ids = owner[keep], ids[keep]
        if not len(ids):
            return Hits.empty()
        # Every query position whose key has a found code, then every id posted under that code.
        row_code = code_of[inverse]
        order = np.argsort(row_code, kind="stable")
        sorted_codes = row_code[order]
        lo = np.searchsorted(sorted_codes, owner, side="left")
        hi = np.searchsorted(sorted_codes, owner, side="right")
        occurrence, which = expand_ranges(lo, hi)
        rows, hit_ids = order[occurrence], ids[which]
        sort = np.lexsort((hit_ids, rows))
        return Hits(hit_ids[sort], rows[sort].astype(np.int64))

    def article_count(self) -> int:
        """How many articles are indexed: one ``SCARD`` (what the metrics gauge reads)."""
        return int(self.client.scard(self._key("articles")))

    def id_figures(self) -> tuple[int, int, int]:
        """``(count, top, sum)`` of the indexed ids, ``top`` the largest id ever added (at least the
        largest indexed): one ``HMGET`` of the figures, whatever the index's size."""
        count, top, total = self.client.hmget(figures_name(self.prefix), ["count", "top", "sum"])
        return int(count or 0), int(top or 0), int(total or 0)

    def article_ids(self) -> np.ndarray:
        members = self.client.smembers(self._key("articles"))
        return np.asarray(sorted(int(m) for m in members), dtype=np.int64)

    def refresh(self) -> bool:
        """Every process reads the one Redis index: nothing to reload."""
        return False

    def save(self) -> None:
        """Nothing to do: every add and remove is already in Redis."""

    def clear(self) -> None:
        """Drop every posting and article of this prefix; the scheme stays claimed by this instance, and
        the bucket count becomes the one asked for when this instance was opened (if any)."""
        drop(self.client, self.prefix)
        self._open(self._requested_bits or self.bucket_bits)


def _split(value: bytes, drop_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """A bucket's postings without ``drop_ids``: (kept postings, stop-marker fingerprints, postings to
    move to overflow keys by fingerprint: every fingerprint past the limit or already a stop key)."""
    postings = np.frombuffer(value, dtype=POSTING)
    if len(drop_ids):
        postings = postings[~np.isin(postings["id"], drop_ids)]
    is_marker = postings["id"] == 0
    markers = np.unique(postings["fp"][is_marker])
    normal = postings[~is_marker]
    fps, counts = np.unique(normal["fp"], return_counts=True)
    hot = np.union1d(fps[counts > MAX_POSTINGS_PER_KEY], np.intersect1d(fps, markers))
    if not len(hot):
        return normal, markers, {}
    moving = np.isin(normal["fp"], hot)
    moved = {int(fp): normal[moving & (normal["fp"] == fp)] for fp in hot}
    return normal[~moving], markers, moved


def _join(kept: np.ndarray, markers: np.ndarray, moved: dict[int, np.ndarray]) -> bytes:
    """A bucket's value: its kept postings, then one stop marker per stop key."""
    stops = np.union1d(markers, np.asarray(sorted(moved), dtype=np.uint16)).astype(np.uint16)
    tail = np.zeros(len(stops), dtype=POSTING)
    tail["fp"] = stops
    return kept.tobytes() + tail.tobytes()


def figures_name(prefix: str) -> str:
    """The article set's figures: hash-tagged with the set's own name, so both live in one cluster slot
    (a script may touch them together) and the name still starts with the prefix."""
    return f"{prefix}:articles:{{{prefix}:articles}}"


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def unlink(client: redis.Redis | redis.cluster.RedisCluster, names: list[Any]) -> None:
    """``UNLINK`` ``names`` in one pipeline (on a cluster, one command per slot: redis-py's own
    cross-slot ``unlink`` leaves a connection unclosed)."""
    if is_cluster(client):
        by_slot: dict[int, list[Any]] = {}
        for name in names:
            by_slot.setdefault(key_slot(name.encode() if isinstance(name, str) else name), []).append(name)
        chunks = [
            group[i : i + UNLINK_CHUNK]
            for group in by_slot.values()
            for i in range(0, len(group), UNLINK_CHUNK)
        ]
    else:
        chunks = [names[i : i + UNLINK_CHUNK] for i in range(0, len(names), UNLINK_CHUNK)]
    pipe = client.pipeline(transaction=False)
    for chunk in chunks:
        pipe.execute_command("UNLINK", *chunk)
    pipe.execute()


def drop(client: redis.Redis | redis.cluster.RedisCluster | str, prefix: str) -> None:
    """Delete the index under ``prefix`` whatever its scheme or format (what a rebuild after
    :class:`~checker.index.SchemeMismatch` starts with). ``client`` may be a URL. Finds the keys with
    ``SCAN`` (every node of a cluster): this prefix's names only, not those of a longer prefix."""
    owned = isinstance(client, str)
    if isinstance(client, str):
        client, _bits = connect(client)
    try:
        # Names this layout (or format 1) makes: a longer prefix's names ("prefix:a:1:...") never match.
        own = re.compile(
            re.escape(prefix.encode()) + rb":(\{[0-9a-f]{2}\}[0-9a-f]+(:[0-9a-f]{4})?|a:[0-9]+|s:[0-9a-f]+)"
        )
        names: list[Any] = [f"{prefix}:{part}" for part in ("articles", "scheme", "layout")]
        names.append(figures_name(prefix))
        names += [
            n for n in client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=10_000) if own.fullmatch(n)
        ]
        unlink(client, names)
    finally:
        if owned:
            client.close()
