"""Fair sharing of the scan workers between organisations (issue 9, finding 8). See docs/fairness.md.

The policy: at most ``per_org_inflight`` scans of one organisation are *in flight* (sent to the broker
and not finished) at a time; the rest of its scans wait in the database as ``queued``, oldest first.
When one of its scans finishes (done, failed, or found finished already), the next one is sent. So the
broker queue holds at most ``per_org_inflight`` scans per busy organisation, and a single scan of
another organisation waits behind those, not behind a 1,000-URL batch or a 500-page crawl.

In flight is tracked in Redis (the broker's; one sorted set per organisation, scan id -> deadline):
taking slots is one Lua script, so two workers finishing at once cannot both send the same scan or
overrun the limit, and a slot whose scan vanished (its worker died and the message was lost) expires
at its deadline; the sweeper then sends the scan again. Without a Redis broker every scan is sent at
once, as before.

The embedded default (no broker) runs tasks on one background thread: :class:`FairRunner` keeps one
queue per organisation there and always runs next the organisation served least recently, so a new
organisation's scan runs right after the task running now. Crawls get a thread of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from checker.models import Scan
from checker.settings import WorkerSettings

LOGGER = logging.getLogger(__name__)

# How long a slot is held for a scan sent and not yet started: it waits in the broker behind the
# scans of the other organisations. After this a lost message no longer blocks its organisation.
SEND_SLOT_S = 30 * 60
# A started scan holds its slot for the task's hard time limit plus this margin.
RUN_SLOT_MARGIN_S = 60


def org_key(org_id: int | None) -> str:
    return "none" if org_id is None else str(org_id)


# --------------------------------------------------------------------------------------------------
# Celery with a Redis broker: slots in Redis, the queue in the database

# KEYS[1]: the organisation's sorted set. ARGV: ttl, limit, candidate scan ids (oldest first).
# Drops expired slots, then gives slots to candidates that hold none until the limit; returns them.
_ACQUIRE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[2])
local got = {}
for i = 3, #ARGV do
  if held >= limit then break end
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
    held = held + 1
    got[#got + 1] = ARGV[i]
  end
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 60)
return got
"""
# KEYS[1]: the set. ARGV: ttl, scan id. (Re)sets the scan's deadline: a started or retried scan.
_HOLD = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) + 60 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 60) end
return 1
"""


class Slots:
    """In-flight scans per organisation, in Redis: ``<prefix><org>`` is a sorted set of scan ids
    scored by the time their slot expires."""

    def __init__(self, client, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._hold = client.register_script(_HOLD)

    def key(self, org_id: int | None) -> str:
        return f"{self.prefix}{org_key(org_id)}"

    def acquire(
        self, org_id: int | None, candidates: Iterable[int], limit: int, ttl: int = SEND_SLOT_S
    ) -> list[int]:
        """Slots for the first ``candidates`` (oldest first) that hold none, while fewer than
        ``limit`` are held; the scans that got one."""
        ids = [str(c) for c in candidates]
        if not ids:
            return []
        return [int(x) for x in self._acquire(keys=[self.key(org_id)], args=[ttl, limit, *ids])]

    def hold(self, org_id: int | None, scan_id: int, ttl: int) -> None:
        """The scan holds a slot for ``ttl`` more seconds (taken if it held none: it runs, so it counts)."""
        self._hold(keys=[self.key(org_id)], args=[ttl, scan_id])

    def release(self, org_id: int | None, scan_id: int) -> None:
        self.client.zrem(self.key(org_id), str(scan_id))

    def held(self, org_id: int | None) -> list[int]:
        """Scans holding a live slot (tests and the docs' examples)."""
        now = self.client.time()[0]
        return sorted(int(x) for x in self.client.zrangebyscore(self.key(org_id), now, "+inf"))


def slot_prefix(settings) -> str:
    return f"{settings.index_prefix}:fair:"


@lru_cache(maxsize=8)
def _client(url: str):
    import redis

    return redis.Redis.from_url(url)


def slots_for(settings, *, fresh: bool = False) -> Slots | None:
    """The slot store these settings select, or None (no Redis broker: no limit). ``fresh`` opens a
    client of its own (the worker's parent process, which must not share one with its children)."""
    url = settings.redis_broker_url  # the slots live in the broker's Redis
    if url is None:
        return None
    if fresh:
        import redis

        return Slots(redis.Redis.from_url(url), slot_prefix(settings))
    return Slots(_client(url), slot_prefix(settings))


def queued_candidates(Session: sessionmaker[Session], org_id: int | None, count: int) -> list[int]:
    """The ``count`` oldest queued scans of an organisation."""
    same = Scan.org_id.is_(None) if org_id is None else Scan.org_id == org_id
    with Session() as session:
        return list(
            session.scalars(
                select(Scan.id).where(Scan.status == "queued", same).order_by(Scan.id).limit(count)
            )
        )


def orgs_of(Session: sessionmaker[Session], scan_ids: Iterable[int]) -> dict[int | None, list[int]]:
    """``scan_ids`` grouped by organisation (unknown ids are left out)."""
    ids = list(dict.fromkeys(scan_ids))
    grouped: dict[int | None, list[int]] = {}
    with Session() as session:
        for start in range(0, len(ids), 500):
            for scan_id, org_id in session.execute(
                select(Scan.id, Scan.org_id).where(Scan.id.in_(ids[start : start + 500]))
            ):
                grouped.setdefault(org_id, []).append(scan_id)
    return grouped


def orgs_with_queued(Session: sessionmaker[Session]) -> list[int | None]:
    with Session() as session:
        return list(session.scalars(select(Scan.org_id).where(Scan.status == "queued").distinct()))


def dispatch_org(
    Session: sessionmaker[Session],
    slots: Slots,
    org_id: int | None,
    send: Callable[[int], None],
    limit: int | None = None,
) -> list[int]:
    """Send an organisation's oldest queued scans while it has free slots; the ids sent.

    The candidates are twice the limit: at most ``limit`` of the oldest queued scans hold a slot
    already (sent, not yet started), so the rest includes every scan a free slot can take."""
    limit = WorkerSettings.from_env().per_org_inflight if limit is None else limit
    sent = slots.acquire(org_id, queued_candidates(Session, org_id, 2 * limit), limit)
    for scan_id in sent:
        try:
            send(scan_id)
        except Exception:  # the broker is down: free the slot, the sweeper sends it later
            slots.release(org_id, scan_id)
            LOGGER.warning("could not send scan %s to the broker; it stays queued", scan_id, exc_info=True)
    return sent


def dispatch(
    Session: sessionmaker[Session],
    slots: Slots,
    scan_ids: Iterable[int],
    send: Callable[[int], None],
    limit: int | None = None,
) -> list[int]:
    """The fair path for newly queued scans: their organisations send what their free slots allow."""
    return [
        s for org_id in orgs_of(Session, scan_ids) for s in dispatch_org(Session, slots, org_id, send, limit)
    ]


def dispatch_all(
    Session: sessionmaker[Session], slots: Slots, send: Callable[[int], None], limit: int | None = None
) -> list[int]:
    """Every organisation with queued scans sends what its free slots allow (the sweeper)."""
    return [
        s for org_id in orgs_with_queued(Session) for s in dispatch_org(Session, slots, org_id, send, limit)
    ]


# --------------------------------------------------------------------------------------------------
# the embedded default: one thread, one queue per organisation


class FairRunner:
    """Runs callables on one daemon thread. Each has a lane (an organisation); the next one comes from
    the lane served least recently (a lane never served first, then in order of arrival), so a lane
    with one item waits at most for the item running now, however long the other lanes are."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lanes: dict[Hashable, deque[Callable[[], object]]] = {}
        self._served: dict[Hashable, int] = {}
        self._tick = 0
        self._busy = False
        self._closing = False
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, lane: Hashable, fn: Callable[[], object]) -> None:
        with self._cv:
            if self._closing:
                raise RuntimeError(f"{self.name} is shut down")
            self._lanes.setdefault(lane, deque()).append(fn)
            self._cv.notify_all()

    def pending(self) -> dict[Hashable, int]:
        with self._cv:
            return {lane: len(q) for lane, q in self._lanes.items()}

    def _next(self) -> Callable[[], object] | None:
        with self._cv:
            while not self._lanes and not self._closing:
                self._cv.wait()
            if not self._lanes:
                return None
            # dicts keep insertion order and min() keeps the first of equals: arrival order breaks ties
            lane = min(self._lanes, key=lambda k: self._served.get(k, -1))
            queue = self._lanes[lane]
            fn = queue.popleft()
            if not queue:
                del self._lanes[lane]
            self._tick += 1
            self._served[lane] = self._tick
            self._busy = True
            return fn

    def _run(self) -> None:
        while (fn := self._next()) is not None:
            try:
                fn()
            except Exception:  # a task's own errors are recorded by the task
                LOGGER.exception("%s: task failed", self.name)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every submitted item ran; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self._lanes or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; what is queued still runs (as with ThreadPoolExecutor), and ``wait``
        waits for it."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        if wait:
            self._thread.join()
