"""In-process passage index: sorted numpy segments, optionally persisted as memory-mapped ``.npy`` files.

Layout: a list of immutable *segments*, each two parallel arrays sorted by key, ``keys`` (uint64
keys) and ``ids`` (uint32 article ids), plus the segment's distinct article ids. Adding articles
writes a new small segment. Segments are merged by size tier (a log-structured merge): a segment's
*level* is ``floor(log4(keys / LEVEL_BASE))``, and when a level holds :data:`MERGE_FACTOR` segments they
are merged into one of the next level. Every posting is merged at most once per level, so adding N
keys costs O(N log N) in all, whatever the index's size (issue 12: the previous policy, "at most 4
segments, merge the two smallest", re-merged the small segments on every save, so a batch cost time
proportional to the whole index: 1,185 articles/s to 100k, about 125/s at 1M). The price is more
segments to look in: at most ``MERGE_FACTOR - 1`` per level, about 0.3 ms each per query of a
600-word suspect; 12 at 100k articles. Removing articles records tombstones that queries filter out and
merges purge.

A query is one ``searchsorted`` per segment for all of the suspect's keys at once.

On disk (``directory``): ``index.json`` (scheme, segment names, tombstones) and three ``.npy`` files
per segment. Segments are written before the ``index.json`` that names them, and ``index.json`` is
replaced atomically under an exclusive file lock, so a crash leaves the previous state and readers
never see half a segment. A process that saves applies its own additions and removals on top of what
is on disk at that moment, so two processes registering at once both keep their articles.

Processes see each other's writes: :meth:`MemoryIndex.refresh` (the registry calls it before every
scan) compares ``index.json``'s identity (inode, size, modification time: one ``stat``) with what
this process last loaded or saved, and loads the new state when another process saved since. A
running dashboard thus finds the articles that ``checker import`` added a moment ago, without a
restart; segments it still maps stay readable after another process deletes their files.

Page cache: lookups read only the pages they touch (``MADV_RANDOM``), and after its first query a process
reads the segment files it has not read or written into the page cache in a background thread
(:meth:`MemoryIndex.warm`; why, with measurements: :func:`read_through`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from checker.arrays import distinct, expand_ranges, in_sorted
from checker.fingerprint import FingerprintScheme
from checker.index import MAX_POSTINGS_PER_KEY, Hits, SchemeMismatch, checked_keys, figures_of
from checker.store import private_dir

LOGGER = logging.getLogger(__name__)

# Segments of one size tier merged together, and the size (keys) below which segments are all of the
# first tier: about 400 articles of 600 words, the size of a registration batch. A larger factor means
# fewer merges and more segments per query (each ~0.3 ms for a 600-word suspect).
MERGE_FACTOR = 4
LEVEL_BASE = 1 << 18
FORMAT_VERSION = 2  # 2: segments carry a bucket directory
SEGMENT_PARTS = (("keys", "keys"), ("ids", "ids"), ("articles", "articles"), ("dir", "directory"))
META_FILE = "index.json"
MAX_ARTICLE_ID = np.iinfo(np.uint32).max
MADV_SEQUENTIAL = getattr(mmap, "MADV_SEQUENTIAL", None)  # None where the platform has no madvise
MADV_RANDOM = getattr(mmap, "MADV_RANDOM", None)
WARM_CHUNK = 1 << 20  # bytes per read of read_through
# A segment's parts as read_through warms them: those every lookup touches first (see Segment.lookup).
WARM_PARTS = ("dir", "keys", "ids")
# Postings a merge reads, sorts and writes at a time (see _merge): about 100 MB of working memory.
MERGE_CHUNK_KEYS = 1 << 22
# allocate(segment name, part, dtype, length) -> a writable array for that part of a new segment
Allocate = Callable[[str, str, type, int], np.ndarray]


# Keys per directory bucket, on average. The directory turns a lookup into one bucket read plus a
# scan of ~16 neighbouring keys, instead of a ~25-step binary search over a memory-mapped array; at
# 100k articles (34M keys) it costs 2^21 uint32 = 8 MB per segment.
KEYS_PER_BUCKET = 4


def directory_bits(n: int) -> int:
    return max(1, int(np.ceil(np.log2(max(n, 2) / KEYS_PER_BUCKET))))


def build_directory(keys: np.ndarray) -> np.ndarray:
    """``directory[b]`` = first position whose key's top ``bits`` bits are >= ``b`` (keys are uniform
    64-bit hashes, so buckets hold about KEYS_PER_BUCKET keys each)."""
    bits = directory_bits(len(keys))
    return np.append(bucket_starts(keys, bits, 0, 1 << bits), len(keys)).astype(np.uint32)


def bucket_starts(keys: np.ndarray, bits: int, first: int, count: int) -> np.ndarray:
    """Directory entries (see :func:`build_directory`) for buckets ``first .. first + count - 1`` of the
    sorted ``keys``, all of whose keys lie in those buckets: a count per bucket and a running sum, where a
    binary search per bucket was a third of a merge's time."""
    bucket = ((keys >> np.uint64(64 - bits)) - np.uint64(first)).view(np.int64)
    counts = np.bincount(bucket, minlength=count)
    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


_NO_IDS = np.empty(0, dtype=np.uint32)


def _shared(held: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The ``ids`` (sorted, distinct) that the sorted ``held`` also holds: a binary search of each, and
    none at all when the two ranges do not overlap (new articles have ids above every indexed one)."""
    if not len(held) or not len(ids) or ids[0] > held[-1] or ids[-1] < held[0]:
        return _NO_IDS
    return np.asarray(ids[in_sorted(held, ids)], dtype=np.uint32)


@dataclass(slots=True)
class Segment:
    name: str
    keys: np.ndarray  # uint64, sorted
    ids: np.ndarray  # uint32, article id per key
    articles: np.ndarray  # uint32, sorted distinct article ids
    directory: np.ndarray  # uint32, bucket -> first position (see build_directory)

    @classmethod
    def build(cls, keys: np.ndarray, ids: np.ndarray) -> Segment:
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        return cls(uuid.uuid4().hex, keys, ids[order], distinct(ids), build_directory(keys))

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, unique: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of every posting whose key is in the sorted ``unique``, and the index into
        ``unique`` each belongs to. Equal keys share a bucket, so one bucket scan finds them all."""
        bits = directory_bits(len(self.keys))
        bucket = (unique >> np.uint64(64 - bits)).astype(np.int64)
        lo = self.directory[bucket].astype(np.int64)
        hi = self.directory[bucket + 1].astype(np.int64)
        pos, owner = expand_ranges(lo, hi)
        equal = self.keys[pos] == unique[owner]
        return pos[equal], owner[equal]


def map_npy(path: Path) -> np.ndarray:
    """A 1-D ``.npy`` file's array, memory-mapped read-only: nothing is read until used, and pages
    are shared with every process mapping the file. A plain ndarray over the map (indexing a
    ``np.memmap`` subclass costs microseconds of Python per call, which adds up in queries)."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _fortran, dtype = read_header(fh)
        count, offset = int(np.prod(shape)), fh.tell()
        if not count:  # an empty map is refused
            return np.empty(count, dtype=dtype)
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype=dtype, count=count, offset=offset)


def advise(array: np.ndarray, advice: int | None) -> None:
    """``madvise`` the map under ``array`` (from :func:`map_npy`; nothing for other arrays). A merge
    reads its inputs in order once, and asks for :data:`MADV_SEQUENTIAL` (read ahead, drop behind).
    Lookups ask for :data:`MADV_RANDOM`: see :func:`read_through`."""
    base: object = array
    while isinstance(base, np.ndarray):
        base = base.base
    if advice is not None and isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap):
        base.obj.madvise(advice)


def read_through(paths: Iterable[Path], chunk: int = WARM_CHUNK) -> int:
    """Read ``paths`` start to end and drop the bytes, so that the page cache holds them; a file that
    another process's merge deleted meanwhile is skipped. The bytes read.

    Why (issue 12, cold start): a lookup touches a few pages of each segment, scattered over the index.
    Under the kernel's default read-around, each page fault read the whole read-ahead window around it,
    and this machine's disk has an 8 MB window (``/sys/block/vda/queue/read_ahead_kb``): a fresh
    process's first scan read the whole index, 2.6 GB at 300k articles (1.96 s; 13.5 s at 1M). With
    :data:`MADV_RANDOM` a fault reads its own page: the first scan read 30 MB (0.37 s). But then every
    later scan faults its own few thousand pages (p50 64 ms instead of 9 ms) until the index is cached.
    So after its first query a process reads the segment files through once, in a background thread
    (:meth:`MemoryIndex.query`): at 300k articles 2.5 GB in 1.3-1.8 s, after which scans run at the
    cached speed. The thread is not started before the first query because a scan that faults while the
    disk streams the index waits for it (the first scan took as long as the whole read, 1.2-1.6 s).
    Measured with the page cache of the index's files dropped (``POSIX_FADV_DONTNEED``)."""
    buf = bytearray(chunk)
    total = 0
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as fh:
                while n := fh.readinto(buf):
                    total += n
        except FileNotFoundError:
            continue
    return total


def _filtered(seg: Segment, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = ~np.isin(seg.ids, drop)
    return np.asarray(seg.keys[keep]), np.asarray(seg.ids[keep])


def _allocate(name: str, part: str, dtype: type, n: int) -> np.ndarray:
    return np.empty(n, dtype=dtype)


def _merge(group: list[Segment], tombstones: np.ndarray, allocate: Allocate = _allocate) -> Segment:
    """One segment holding every live posting of ``group``, equal to sorting their concatenation
    (stable: equal keys keep the group's order) and dropping ``tombstones``.

    Built one key range at a time: the inputs (memory-mapped when they are on disk) are cut at the
    same key in each, one range of each is read, sorted and written to its place in the output, which
    ``allocate(name, part, dtype, n)`` provides (a memory-mapped file when the index is on disk). A
    merge thus holds about :data:`MERGE_CHUNK_KEYS` postings in memory whatever its size: building it
    whole held the inputs, their concatenation and its sort order at once, 14.3 GB for the merge of
    170M postings at 512k articles, which also pushed the index out of the page cache (issue 12).
    Ranges start at multiples of the directory's bucket width, so each range also fills its part of
    the directory."""
    name = uuid.uuid4().hex
    for seg in group:
        advise(seg.keys, MADV_SEQUENTIAL)
        advise(seg.ids, MADV_SEQUENTIAL)
    held = distinct(np.concatenate([np.asarray(s.articles) for s in group]))
    dead = np.intersect1d(held, tombstones, assume_unique=True)
    touched = [bool(len(dead)) and bool(np.isin(s.articles, dead).any()) for s in group]
    total = sum(len(s) for s in group) - sum(
        int(np.isin(s.ids[at : at + MERGE_CHUNK_KEYS], dead).sum())
        for s, hit in zip(group, touched)
        if hit
        for at in range(0, len(s), MERGE_CHUNK_KEYS)
    )
    bits = directory_bits(total)
    range_bits = min(bits, max(0, int(np.ceil(np.log2(max(total, 1) / MERGE_CHUNK_KEYS)))))
    buckets = 1 << (bits - range_bits)  # directory buckets per key range
    keys = allocate(name, "keys", np.uint64, total)
    ids = allocate(name, "ids", np.uint32, total)
    directory = allocate(name, "dir", np.uint32, (1 << bits) + 1)
    written = 0
    for r in range(1 << range_bits):
        first, last = r << (64 - range_bits), (r + 1) << (64 - range_bits)
        cuts = [
            (
                int(np.searchsorted(s.keys, np.uint64(first))) if r else 0,
                int(np.searchsorted(s.keys, np.uint64(last))) if last < 1 << 64 else len(s),
            )
            for s in group
        ]
        part_keys = np.concatenate([s.keys[a:b] for s, (a, b) in zip(group, cuts)])
        part_ids = np.concatenate([s.ids[a:b] for s, (a, b) in zip(group, cuts)])
        if any(touched):
            keep = ~np.isin(part_ids, dead)
            part_keys, part_ids = part_keys[keep], part_ids[keep]
        order = np.argsort(part_keys, kind="stable")
        part_keys = part_keys[order]
        end = written + len(part_keys)
        keys[written:end], ids[written:end] = part_keys, part_ids[order]
        directory[r * buckets : (r + 1) * buckets] = (
            bucket_starts(part_keys, bits, r * buckets, buckets) + written
        )
        written = end
    directory[-1] = total
    articles = allocate(name, "articles", np.uint32, len(held) - len(dead))
    articles[:] = np.setdiff1d(held, dead, assume_unique=True)
    return Segment(name, keys, ids, articles, directory)


def level(keys: int) -> int:
    """A segment's size tier: 0 below ``LEVEL_BASE * MERGE_FACTOR`` keys, then one more per factor."""
    tier, size = 0, LEVEL_BASE * MERGE_FACTOR
    while keys >= size:
        tier, size = tier + 1, size * MERGE_FACTOR
    return tier


class MemoryIndex:
    """Passage index in numpy arrays; persisted under ``directory`` when one is given."""

    def __init__(self, scheme: FingerprintScheme, directory: str | os.PathLike[str] | None = None) -> None:
        self.scheme = scheme
        self.directory = Path(directory) if directory else None
        self.segments: list[Segment] = []
        self.tombstones = np.empty(0, dtype=np.uint32)
        # Changes not yet saved, replayed on top of the on-disk state if another process saved first.
        self._pending: list[tuple[str, Segment | np.ndarray]] = []
        self._disk_names: set[str] = set()
        self._seen: tuple[int, int, int] | None = None  # identity of the index.json this state came from
        self.merged_postings = 0  # postings rewritten by merges (what registration's merges cost)
        # (state, article count): see article_count
        self._count: tuple[tuple[tuple[str, ...], int, int], int] | None = None
        # Segments whose files this process has read or written (in the page cache), and the thread
        # reading the others (see read_through).
        self._warm: set[str] = set()
        self._warming: threading.Thread | None = None
        if self.directory and (self.directory / META_FILE).exists():
            self._load()

    # -- persistence -------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        assert self.directory is not None
        private_dir(self.directory)
        with open(self.directory / "index.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read_meta(self) -> dict[str, Any] | None:
        assert self.directory is not None
        path = self.directory / META_FILE
        if not path.exists():
            return None
        meta: dict[str, Any] = json.loads(path.read_text("utf-8"))
        if meta.get("format") != FORMAT_VERSION or meta.get("scheme") != self.scheme.index_identity():
            raise SchemeMismatch(
                f"the index in {self.directory} was built with fingerprint scheme {meta.get('scheme')}, "
                f"not {self.scheme.index_identity()}; rebuild it with `checker index rebuild`"
            )
        return meta

    def _load_segment(self, name: str) -> Segment:
        directory = self.directory
        assert directory is not None

        def load(part: str) -> np.ndarray:
            array = map_npy(directory / f"seg-{name}-{part}.npy")
            if part in WARM_PARTS:  # looked up page by page; "articles" is read whole on open
                advise(array, MADV_RANDOM)
            return array

        return Segment(name, load("keys"), load("ids"), load("articles"), load("dir"))

    def _meta_identity(self) -> tuple[int, int, int] | None:
        assert self.directory is not None
        try:
            st = os.stat(self.directory / META_FILE)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def refresh(self) -> bool:
        """Load what another process saved since this one last loaded or saved (one ``stat`` when
        nothing changed); True if it did. Unsaved changes of this process are kept: :meth:`save`
        merges them."""
        if self.directory is None or self._pending or self._meta_identity() == self._seen:
            return False
        with self._locked():  # no saver deletes the files of the state being loaded meanwhile
            self._load()
        return True

    def _load(self) -> None:
        self._seen = self._meta_identity()
        meta = self._read_meta()
        if meta is None:
            self.segments, self._disk_names = [], set()
            self.tombstones = np.empty(0, dtype=np.uint32)
            return
        self.segments = [self._load_segment(name) for name in meta["segments"]]
        self._disk_names = set(meta["segments"])
        self.tombstones = np.asarray(sorted(meta["tombstones"]), dtype=np.uint32)

    def _write_segment(self, seg: Segment) -> None:
        assert self.directory is not None
        for part, attr in SEGMENT_PARTS:
            np.save(self.directory / f"seg-{seg.name}-{part}.npy", np.ascontiguousarray(getattr(seg, attr)))
        self._warm.add(seg.name)

    def _allocate_file(self, name: str, part: str, dtype: type, n: int) -> np.ndarray:
        """A new segment's part as a writable memory-mapped ``.npy`` file (see :func:`_merge`)."""
        assert self.directory is not None
        path = self.directory / f"seg-{name}-{part}.npy"
        if not n:  # an empty file cannot be mapped
            np.save(path, np.empty(0, dtype=dtype))
            return np.empty(0, dtype=dtype)
        return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n,))

    def _delete_segment_files(self, name: str) -> None:
        assert self.directory is not None
        for part, _attr in SEGMENT_PARTS:
            (self.directory / f"seg-{name}-{part}.npy").unlink(missing_ok=True)

    def save(self) -> None:
        """Write pending changes on top of the current on-disk state (no-op without a directory)."""
        if self.directory is None:
            self._compact()
            self._pending = []
            return
        with self._locked():
            meta = self._read_meta()
            disk_names = set(meta["segments"]) if meta else set()
            if disk_names != self._disk_names:
                # Another process saved since we loaded: start from its state, replay our changes.
                pending, self._pending = self._pending, []
                self._load()
                for op, arg in pending:
                    self._apply(op, arg)
                self._pending = pending
            written = {s.name for s in self.segments} - disk_names
            for seg in self.segments:
                if seg.name in written:
                    self._write_segment(seg)
            written |= self._compact(
                write=True
            )  # merges written, some merged again: all deleted below unless live
            meta = {
                "format": FORMAT_VERSION,
                "scheme": self.scheme.index_identity(),
                "segments": [s.name for s in self.segments],
                "tombstones": [int(t) for t in self.tombstones],
            }
            tmp = self.directory / f"{META_FILE}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(meta), "utf-8")
            os.replace(tmp, self.directory / META_FILE)
            self._seen = self._meta_identity()
            live = {s.name for s in self.segments}
            for name in (disk_names | written) - live:
                self._delete_segment_files(name)
            self._disk_names = live
            self._pending = []

    def _compact(self, write: bool = False) -> set[str]:
        """Merge every size tier that holds MERGE_FACTOR segments, lowest first, until none does; the
        names of the merged segments written to disk (the caller deletes those a later merge consumed)."""
        written = set()
        while (group := self._full_level()) is not None:
            merged = _merge(group, self.tombstones, self._allocate_file if write else _allocate)
            self.merged_postings += sum(len(s) for s in group)
            if write:  # written in place by _merge; mapped again read-only
                written.add(merged.name)
                self._warm.add(merged.name)
                merged = self._load_segment(merged.name)
            gone = {id(s) for s in group}
            self.segments = [s for s in self.segments if id(s) not in gone] + [merged]
        return written

    def _full_level(self) -> list[Segment] | None:
        """The MERGE_FACTOR smallest segments of the lowest level that holds that many, if any."""
        levels: dict[int, list[Segment]] = {}
        for seg in self.segments:
            levels.setdefault(level(len(seg)), []).append(seg)
        for lv in sorted(levels):
            if len(levels[lv]) >= MERGE_FACTOR:
                return sorted(levels[lv], key=len)[:MERGE_FACTOR]
        return None

    # -- index operations --------------------------------------------------------------------------
    def add(self, items: Iterable[tuple[int, np.ndarray]]) -> None:
        keys, ids = [], []
        for article_id, article_keys in items:
            flat = checked_keys(article_id, article_keys, MAX_ARTICLE_ID)
            keys.append(flat)
            ids.append(np.full(len(flat), article_id, dtype=np.uint32))
        if keys:
            self._apply("add", Segment.build(np.concatenate(keys), np.concatenate(ids)))

    def remove(self, article_ids: Iterable[int]) -> None:
        ids = np.asarray(sorted({int(i) for i in article_ids}), dtype=np.uint32)
        if len(ids):
            self._apply("remove", ids)

    def _apply(self, op: str, arg: Segment | np.ndarray) -> None:
        self._pending.append((op, arg))
        if op == "remove":
            assert isinstance(arg, np.ndarray)  # "remove" carries article ids, "add" a segment
            self.tombstones = np.union1d(self.tombstones, arg).astype(np.uint32)
            return
        assert isinstance(arg, Segment)
        seg = arg
        # Adding an id again (removed, or still live: another process's sync added it too) replaces it:
        # its old postings are purged (segments that held it are rewritten under new names) and its
        # tombstone lifted.
        replaced = np.union1d(
            np.intersect1d(seg.articles, self.tombstones),
            np.concatenate([_shared(s.articles, seg.articles) for s in self.segments] or [_NO_IDS]),
        )
        if len(replaced):
            self.segments = [
                s if not len(_shared(s.articles, replaced)) else Segment.build(*_filtered(s, replaced))
                for s in self.segments
            ]
            self.tombstones = np.setdiff1d(self.tombstones, replaced).astype(np.uint32)
        self.segments.append(seg)

    def clear(self) -> None:
        if self.directory is not None:
            with self._locked():
                for path in self.directory.glob("seg-*.npy"):
                    path.unlink()
                (self.directory / META_FILE).unlink(missing_ok=True)
        self.segments, self._pending, self._disk_names, self._seen = [], [], set(), None
        self.tombstones = np.empty(0, dtype=np.uint32)

    def article_count(self) -> int:
        """How many articles are live: ``len(article_ids())``, remembered while the segments and the
        deletions are the same (the metrics scrape asks often; the answer changes only on a save)."""
        state = (tuple(s.name for s in self.segments), len(self.tombstones), len(self._pending))
        if self._count is None or self._count[0] != state:
            self._count = (state, len(self.article_ids()))
        return self._count[1]

    def id_figures(self) -> tuple[int, int, int]:
        """``(count, largest, sum)`` of the live ids (:meth:`article_ids`, about 50 ms at a million)."""
        return figures_of(self.article_ids())

    def article_ids(self) -> np.ndarray:
        """The live article ids, sorted. By sorting (:func:`~checker.arrays.distinct`) and a
        ``searchsorted`` against the tombstones: ``np.unique``/``np.setdiff1d`` took 2.6 s for a million
        ids with numpy 2.4's hash table, this about 50 ms (opening a registry calls it)."""
        if not self.segments:
            return np.empty(0, dtype=np.int64)
        ids = distinct(np.concatenate([s.articles for s in self.segments])).astype(np.int64)
        if not len(ids) or not len(self.tombstones):
            return ids
        return ids[~in_sorted(np.asarray(self.tombstones, dtype=np.int64), ids)]

    def query(self, keys: np.ndarray) -> Hits:
        """The postings of ``keys`` (see :class:`checker.index.Hits`); then the rest of the index is
        read into the page cache in the background, once (:meth:`warm`)."""
        hits = self._query(keys)
        self.warm()
        return hits

    def _query(self, keys: np.ndarray) -> Hits:
        if not len(keys) or not self.segments:
            return Hits.empty()
        # Look up each distinct key once (a suspect may repeat keys).
        unique, inverse = np.unique(np.asarray(keys, dtype=np.uint64), return_inverse=True)
        order = np.argsort(inverse, kind="stable")  # query rows grouped by distinct key
        sorted_inv = inverse[order]
        found_ids, found_keys = [], []
        for seg in self.segments:
            if not len(seg.keys):
                continue
            pos, owner = seg.lookup(unique)
            if len(pos):
                found_ids.append(np.asarray(seg.ids[pos], dtype=np.int64))
                found_keys.append(owner)
        if not found_ids:
            return Hits.empty()
        ids, owner = np.concatenate(found_ids), np.concatenate(found_keys)
        if len(self.tombstones):
            keep = ~np.isin(ids, self.tombstones)
            ids, owner = ids[keep], owner[keep]
        # Stop keys: posted by too many articles, counted over all segments (as the Redis index does).
        postings = np.bincount(owner, minlength=len(unique))
        if postings.max(initial=0) > MAX_POSTINGS_PER_KEY:
            keep = postings[owner] <= MAX_POSTINGS_PER_KEY
            ids, owner = ids[keep], owner[keep]
        # Map each hit distinct key back to every query position that holds it.
        starts = np.searchsorted(sorted_inv, owner, side="left")
        ends = np.searchsorted(sorted_inv, owner, side="right")
        flat_pos, which = expand_ranges(starts, ends)
        return Hits(ids[which], order[flat_pos])

    def warm(self) -> threading.Thread | None:
        """Read the files of the segments this process has not read or written yet into the page
        cache, in a background thread (:func:`read_through`); the thread, None when nothing is left or
        a thread is still reading. Queries call it, so a process warms after its first query."""
        if self.directory is None or (self._warming is not None and self._warming.is_alive()):
            return None
        names = [s.name for s in self.segments if s.name not in self._warm]
        if not names:
            return None
        self._warm.update(names)
        paths = [self.directory / f"seg-{name}-{part}.npy" for part in WARM_PARTS for name in names]
        self._warming = threading.Thread(target=read_through, args=(paths,), name="index-warm", daemon=True)
        self._warming.start()
        return self._warming

    def wait_warm(self, timeout: float | None = None) -> bool:
        """Wait for the background read of :meth:`warm` to end (at most ``timeout`` seconds); True when
        no read is running. For measuring scans once the index is cached (bench/scale.py)."""
        if self._warming is not None:
            self._warming.join(timeout)
        return self._warming is None or not self._warming.is_alive()
