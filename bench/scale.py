"""The scale benchmark (issue 12): how registration, disk, start-up and scans hold up as the registry grows.

Run from the project root::

    python -m bench.scale --articles 2000                          # memory index, SQLite (about a minute)
    python -m bench.scale --articles 300000 --index redis --database postgres

Registers ``--articles`` synthetic articles (bench/corpus.py, streamed: never more than a few corpus blocks
in memory) in batches, then measures disk (and Redis) bytes per article, a fresh process's cold start, scan
latency and excerpt recall, and one against two scanning processes. Prints a table and writes
``bench/results-scale-<N>.json``. See ``bench/README.md`` for what each number means.

It reuses bench/run.py's engine wrapper, registration loop, judging and percentiles, so both benchmarks
measure the same thing the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from queue import Empty, Queue

from bench.corpus import Corpus, suspect_set
from bench.run import (
    HERE,
    AnonPeak,
    Engine,
    Progress,
    Tally,
    judge,
    log,
    maxrss_mb,
    percentile_ms,
    register_range,
    speed_suspects,
)

ROOT = HERE.parent
PG_URL = os.environ.get("CHECKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/13"  # this benchmark's own database: its keys are deleted at the end
SLICES = 10  # registration rate is reported per tenth of --articles
PROGRESS_EVERY_S = 5.0


# ---------------------------------------------------------------------------------------------------------
# storage: where the registry lives, and what it costs


class StorageUnavailable(Exception):
    """The PostgreSQL or Redis server the run asked for cannot be reached."""


class Storage:
    """The registry's database and index as chosen on the command line, with their sizes and clean-up.

    PostgreSQL gets a fresh schema (dropped at the end) and Redis a fresh key prefix in DB 13, so a run
    never touches anything it did not create."""

    def __init__(
        self,
        data_dir: Path,
        index: str,
        database: str,
        *,
        redis_prefix: str | None = None,
        bucket_bits: int | None = None,
    ) -> None:
        """``redis_prefix``: a kept run's index (``--remeasure``) instead of a new one; ``bucket_bits``:
        the new Redis index's bucket count (``?bucket_bits=``), else the product's default."""
        self.data_dir, self.index, self.database = data_dir, index, database
        self.tag = f"bench_scale_{uuid.uuid4().hex[:10]}"
        self.env: dict[str, str] = {}
        self._redis = None
        if index == "redis":  # first: a refused Redis leaves no PostgreSQL schema behind
            import redis

            self._redis = redis.Redis.from_url(REDIS_URL)
            try:
                self._redis.ping()
            except redis.exceptions.RedisError as exc:
                raise StorageUnavailable(f"Redis at {REDIS_URL}: {exc}") from exc
            from checker.index import DEFAULT_PREFIX

            # As long as the product's default prefix: every key name carries it, and the bytes per article
            # should be what a deployment stores (the earlier 28-character prefix cost 16 B more per key
            # name, in jemalloc's size classes).
            self.prefix = redis_prefix or f"bench:{uuid.uuid4().hex}"[: len(DEFAULT_PREFIX)]
            self.env["CHECKER_INDEX_URL"] = REDIS_URL + (f"?bucket_bits={bucket_bits}" if bucket_bits else "")
            self.env["CHECKER_INDEX_PREFIX"] = self.prefix
        if database == "postgres":
            import sqlalchemy as sa

            self._pg = sa.create_engine(PG_URL)
            try:
                with self._pg.begin() as conn:
                    conn.execute(sa.text(f"CREATE SCHEMA {self.tag}"))
            except sa.exc.SQLAlchemyError as exc:
                raise StorageUnavailable(f"PostgreSQL at {PG_URL}: {exc}") from exc
            self.env["CHECKER_DATABASE_URL"] = f"{PG_URL}?options=-csearch_path%3D{self.tag}"

    def describe(self) -> dict:
        """Where the run's data lived (gone after the run, but a test can check that it is)."""
        return {
            "schema": self.tag if self.database == "postgres" else None,
            "redis_prefix": self.prefix if self._redis is not None else None,
            "index_url": self.env.get("CHECKER_INDEX_URL"),
        }

    def kept(self) -> str:
        """What a ``--keep`` run leaves besides its data folder, and how to delete it."""
        kept = []
        if self.database == "postgres":
            kept.append(f"PostgreSQL schema {self.tag} (DROP SCHEMA {self.tag} CASCADE)")
        if self._redis is not None:
            kept.append(
                f'Redis index {self.prefix!r} in {REDIS_URL} (python -c "from checker.index_redis import '
                f"drop; drop('{REDIS_URL}', '{self.prefix}')\")"
            )
        return "; ".join(kept) or "nothing else"

    def redis_used_memory(self) -> int | None:
        return int(self._redis.info("memory")["used_memory"]) if self._redis is not None else None

    def redis_keys(self) -> int | None:
        return int(self._redis.dbsize()) if self._redis is not None else None

    def index_bytes(self) -> int:
        return _tree_bytes(self.data_dir / "index")

    def database_bytes(self) -> int:
        if self.database == "sqlite":  # checker.db and its -wal / -shm companions
            return sum(p.stat().st_size for p in self.data_dir.glob("checker.db*") if p.is_file())
        import sqlalchemy as sa

        with self._pg.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind IN ('r', 'm')"
                    ),
                    {"s": self.tag},
                ).scalar()
            )

    def drop(self) -> None:
        """Delete what the run created (schema, Redis keys), whatever happened before."""
        if self.database == "postgres":
            import sqlalchemy as sa

            with self._pg.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.tag} CASCADE"))
            self._pg.dispose()
        if self._redis is not None:
            from checker.index_redis import drop

            drop(self._redis, self.prefix)
            # and whatever a future key layout adds under the prefix
            stale = list(self._redis.scan_iter(match=f"{self.prefix}*", count=1000))
            for i in range(0, len(stale), 1000):
                self._redis.unlink(*stale[i : i + 1000])


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


# ---------------------------------------------------------------------------------------------------------
# child processes: a cold start, and scanning workers


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _spawn(role: str, config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.scale", "--child", role, str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env=_child_env(),
    )


def _read_line(proc: subprocess.Popen) -> dict:
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"benchmark child exited with code {proc.returncode} before reporting")
    return json.loads(line)


def child_main(role: str, config_path: str) -> int:
    """A child process: ``cold`` opens the registry and scans one text; ``worker`` opens it, warms up,
    says it is ready, then scans the texts whose indices the parent sends on stdin, one at a time, until
    ``stop`` (the parent's shared queue, which keeps the clock: see :func:`_run_workers`). Reports JSON
    lines on stdout; a cold start's carries wall-clock (``time.time``) stamps the parent compares with its
    own."""
    started = time.time()
    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    import checker.registry  # noqa: F401  (timed apart from opening)

    imported = time.time()
    eng = Engine(Path(cfg["data_dir"]), cfg["env"])
    opened = time.time()
    if role == "cold":
        eng.scan(cfg["text"])
        scanned = time.time()
        eng.close()
        print(
            json.dumps({"started": started, "imported": imported, "opened": opened, "scanned": scanned}),
            flush=True,
        )
        return 0
    texts = [json.loads(x)["text"] for x in Path(cfg["texts"]).read_text(encoding="utf-8").splitlines() if x]
    eng.warm_up(texts[0])  # lazy loads, caches and the page cache are start-up, not throughput
    print(json.dumps({"ready": True}), flush=True)
    scans = flagged = 0
    while (line := sys.stdin.readline().strip()) not in ("", "stop"):
        flagged += eng.scan(texts[int(line)]).get("verdict") != "no_reuse"
        scans += 1
        print(json.dumps({"done": int(line)}), flush=True)
    eng.close()
    print(json.dumps({"scans": scans, "flagged": flagged}), flush=True)
    return 0


def _write_config(work: Path, name: str, storage: Storage, **extra) -> Path:
    path = work / f"{name}.json"
    path.write_text(
        json.dumps({"data_dir": str(storage.data_dir), "env": storage.env, **extra}), encoding="utf-8"
    )
    return path


# ---------------------------------------------------------------------------------------------------------
# phases


def phase_register(
    eng: Engine, corpus: Corpus, n: int, batch: int, id_to_index: dict, storage: Storage
) -> dict:
    """Register ``n`` articles in tenths; the rate of each tenth shows whether registration slows down,
    and the index folder's size after each whether files pile up (leaked segments) as it grows."""
    log(f"[register] {n:,} articles in batches of {batch}")
    slices = []
    engine_total = 0.0
    t_start = time.perf_counter()
    eng.reg.prepare_in_parallel()  # forks its pool now: a process with a thread (the sampler's) may not
    with AnonPeak() as anon:
        for k in range(SLICES):
            a, b = n * k // SLICES, n * (k + 1) // SLICES
            if b <= a:
                continue
            t0 = time.perf_counter()
            spent = register_range(eng, corpus, a, b, id_to_index, batch=batch, every=PROGRESS_EVERY_S)
            wall = time.perf_counter() - t0
            engine_total += spent
            slices.append(
                {
                    "from": a,
                    "to": b,
                    "engine_seconds": spent,
                    "wall_seconds": wall,
                    "articles_per_s": (b - a) / spent,
                    "cumulative_articles_per_s": b / engine_total,
                    "index_bytes": storage.index_bytes(),
                    "process_maxrss_mb": maxrss_mb(),
                    "process_peak_anon_mb": anon.peak_mb,
                }
            )
    wall_total = time.perf_counter() - t_start
    t0 = time.perf_counter()
    eng.close()
    closed = time.perf_counter() - t0
    return {
        "articles": n,
        "batch": batch,
        "slices": slices,
        "engine_seconds": engine_total,
        "articles_per_s": n / engine_total,
        "wall_seconds": wall_total,  # with generating the corpus
        "close_seconds": closed,
        "last_slice_articles_per_s": slices[-1]["articles_per_s"],
        "process_maxrss_mb": maxrss_mb(),  # with the mapped index files' pages
        "process_peak_anon_mb": anon.peak_mb,  # the process's own memory
    }


def drop_page_cache(root: Path) -> int:
    """Drop the files under ``root`` from the page cache (``POSIX_FADV_DONTNEED``, after an fsync:
    dirty pages stay), as if the machine had just booted; the bytes of those files. Needs no root."""
    dropped = 0
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
            dropped += path.stat().st_size
    return dropped


def phase_cold_start(storage: Storage, work: Path, text: str) -> dict:
    """A fresh process opens the registry and scans once: what `checker scan` or a restarted worker pays,
    twice: with the page cache as this run left it (files just written are likely cached), then with the
    data folder's files dropped from the page cache (a machine just booted; PostgreSQL's and Redis's own
    memory are not dropped) under ``"dropped_cache"``."""
    log("[cold start] a fresh process: open the registry, first scan")
    result = _cold_start(storage, work, text)
    log("[cold start] again, with the data folder dropped from the page cache")
    dropped = drop_page_cache(storage.data_dir)
    result["dropped_cache"] = {**_cold_start(storage, work, text), "dropped_bytes": dropped}
    return result


def _cold_start(storage: Storage, work: Path, text: str) -> dict:
    cfg = _write_config(work, "cold", storage, text=text)
    spawned = time.time()
    proc = _spawn("cold", cfg)
    r = _read_line(proc)
    proc.wait()
    return {
        "wall_to_first_scan_s": r["scanned"] - spawned,  # interpreter start, imports, open, first scan
        "interpreter_start_s": r["started"] - spawned,
        "imports_s": r["imported"] - r["started"],
        "open_s": r["opened"] - r["imported"],  # Registry(settings) and the organisation look-up
        "first_scan_s": r["scanned"] - r["opened"],
    }


def phase_scans(eng: Engine, corpus: Corpus, n: int, suspects: int, seed: int, id_to_index: dict) -> dict:
    """Scan latency over half excerpts (80-150 words of an article, 5% edited, inside new text) and half
    unrelated texts; recall is the share of excerpts whose top match is their source article."""
    half = suspects // 2
    log(f"[scans] {suspects} suspects ({half} excerpts, {suspects - half} unrelated) over {n:,} articles")
    sus = suspect_set(corpus, n, {"excerpt": half, "unrelated": suspects - half}, seed=seed)
    warm_s = eng.warm_up(sus[0].text)
    times: list[float] = []
    excerpts, unrelated = Tally(), Tally()
    prog = Progress("scan", len(sus), PROGRESS_EVERY_S)
    for i, s in enumerate(sus):
        t0 = time.perf_counter()
        res = eng.scan(s.text)
        times.append(time.perf_counter() - t0)
        (excerpts if s.source is not None else unrelated).add(judge(s, res, id_to_index))
        prog.update(i + 1)
    prog.done()
    ex = excerpts.summary()
    return {
        "suspects": len(sus),
        "page_cache_warm_s": warm_s,  # after the first scan, the index read into the page cache
        "p50_ms": percentile_ms(times, 50),
        "p95_ms": percentile_ms(times, 95),
        "p99_ms": percentile_ms(times, 99),
        "max_ms": percentile_ms(times, 100),
        "excerpts": excerpts.n,
        "excerpt_recall": ex["recall"],
        "excerpt_wrong_article": excerpts.wrong,
        "excerpt_passage_f1": ex["passage"]["f1"],
        "unrelated": unrelated.n,
        "unrelated_flagged": unrelated.fp,
    }


def _run_workers(storage: Storage, work: Path, texts: list[str], processes: int) -> dict:
    """``processes`` workers scan ``texts`` from one queue, as Celery workers do (each takes the next
    text when it has finished one, so none idles while another still has work). They open the registry
    and warm up first; the clock starts when all are ready and stops when the queue is empty and every
    worker has finished its last scan."""
    path = work / "worker_texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    config = _write_config(work, "worker", storage, texts=str(path))
    procs = [_spawn("worker", config) for _ in range(processes)]
    queue: Queue[int] = Queue()
    for i in range(len(texts)):
        queue.put(i)
    done: list[dict] = []
    finished: list[float] = []  # when each worker reported its last scan (before it closes the registry)
    failed: list[BaseException] = []

    def feed(proc: subprocess.Popen) -> None:
        """Hand ``proc`` the next index whenever it reports the last one done; then ``stop``."""
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except Empty:
                    break
                proc.stdin.write(f"{i}\n")
                proc.stdin.flush()
                assert _read_line(proc)["done"] == i
            finished.append(time.time())
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            done.append(_read_line(proc))
        except BaseException as exc:  # reported by the caller's thread
            failed.append(exc)

    try:
        for p in procs:
            _read_line(p)  # ready
        t0 = time.time()
        feeders = [threading.Thread(target=feed, args=(p,)) for p in procs]
        for f in feeders:
            f.start()
        for f in feeders:
            f.join()
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    if failed:
        raise failed[0]
    scans = sum(d["scans"] for d in done)
    seconds = max(finished) - t0
    return {
        "processes": processes,
        "scans": scans,
        "seconds": seconds,
        "scans_per_s": scans / seconds,
        "per_process": sorted(d["scans"] for d in done),
        "flagged": sum(d["flagged"] for d in done),
    }


def phase_workers(
    storage: Storage, corpus: Corpus, n: int, scans: int, seed: int, work: Path, rounds: int = 7
) -> dict:
    """Scan throughput of one process against two processes taking the texts from one queue, measured
    in ``rounds`` pairs, one right after the other (the order alternates, one process first in odd
    rounds). This machine's speed drifts by tens of percent from minute to minute (one process: 40-75
    scans/s within ten minutes at 300k on Redis), so ``ratio`` is the median of each pair's own ratio,
    which cancels a drift slower than a round; ``one`` and ``two`` are the rounds with the median
    throughput of each, for the rates."""
    log(f"[workers] {scans} scans (half reuse, half unrelated): 1 and 2 processes, {rounds} rounds")
    texts = [s.text for s in speed_suspects(corpus, n, scans, seed=seed)]
    runs = []
    for k in range(rounds):
        if k % 2 == 0:
            one = _run_workers(storage, work, texts, 1)
            two = _run_workers(storage, work, texts, 2)
        else:
            two = _run_workers(storage, work, texts, 2)
            one = _run_workers(storage, work, texts, 1)
        log(
            f"  1 process {one['scans_per_s']:,.0f} scans/s, 2 processes {two['scans_per_s']:,.0f} scans/s: "
            f"{two['scans_per_s'] / one['scans_per_s']:.2f}x"
        )
        runs.append((one, two))

    def median(which: int) -> dict:
        return sorted((r[which] for r in runs), key=lambda x: x["scans_per_s"])[(len(runs) - 1) // 2]

    ratios = [b["scans_per_s"] / a["scans_per_s"] for a, b in runs]
    return {
        "scans": scans,
        "one": median(0),
        "two": median(1),
        "ratio": statistics.median(ratios),
        "rounds": [{"one": a["scans_per_s"], "two": b["scans_per_s"]} for a, b in runs],
    }


# ---------------------------------------------------------------------------------------------------------
# report


def report(r: dict) -> str:
    lines: list[str] = []
    w = lines.append
    m = r["machine"]
    w("")
    w(
        f"Scale benchmark: {r['articles']:,} articles, {r['index']} index, {r['database']} database "
        f"({m['cpus']} CPUs, Python {m['python']}, load {m['loadavg_start']:.1f}-{m['loadavg_end']:.1f}) "
        f"in {r['total_seconds']:.0f}s"
    )
    reg = r["registration"]
    w("")
    w(f"Registration (batches of {reg['batch']}; engine time = inside register_many)")
    w(
        f"  {'articles':>19}{'articles/s':>12}{'cumulative':>12}{'wall s':>9}{'index MB':>10}{'RSS MB':>9}{'anon MB':>9}"
    )
    for s in reg["slices"]:
        w(
            f"  {s['from']:>9,}-{s['to']:<9,}{s['articles_per_s']:>12,.0f}{s['cumulative_articles_per_s']:>12,.0f}"
            f"{s['wall_seconds']:>9.1f}{s['index_bytes'] / 2**20:>10,.1f}{s['process_maxrss_mb']:>9,.0f}"
            f"{s.get('process_peak_anon_mb', 0):>9,.0f}"
        )
    w(
        f"  total {reg['articles_per_s']:,.0f} articles/s ({reg['engine_seconds']:.1f} s in the engine, "
        f"{reg['wall_seconds']:.1f} s with generation; close {reg['close_seconds']:.2f} s); peak RSS "
        f"{reg['process_maxrss_mb']:,.0f} MB (mapped index pages included), own memory "
        f"{reg.get('process_peak_anon_mb', 0):,.0f} MB"
    )
    d = r["disk"]
    w("")
    w(
        f"Disk per article: index {d['index_bytes_per_article']:,.0f} B, database {d['database_bytes_per_article']:,.0f} B "
        f"(index {d['index_bytes'] / 2**20:,.1f} MB, database {d['database_bytes'] / 2**20:,.1f} MB)"
    )
    if r.get("redis"):
        rd = r["redis"]
        w(
            f"Redis per article: {rd['bytes_per_article']:,.0f} B (used_memory {rd['used_memory_before'] / 2**20:,.1f} -> "
            f"{rd['used_memory_after'] / 2**20:,.1f} MB, {rd['keys']:,} keys; server-wide, so other clients add noise)"
        )
    c = r["cold_start"]
    w("")
    for label, cs in (("fresh process", c), ("page cache dropped", c.get("dropped_cache"))):
        if cs:  # runs before the dropped-cache measure have none
            w(
                f"Cold start ({label}): {cs['wall_to_first_scan_s']:.2f} s to the first scan's result = "
                f"interpreter {cs['interpreter_start_s']:.2f} + imports {cs['imports_s']:.2f} + open "
                f"{cs['open_s']:.2f} + first scan {cs['first_scan_s']:.2f}"
            )
    s = r["scans"]
    w("")
    w(
        f"Scans ({s['suspects']} suspects, half excerpts, half unrelated): p50 {s['p50_ms']:.1f} ms, "
        f"p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms"
        + (
            f", after {s['page_cache_warm_s']:.1f} s reading the index into the page cache"
            if "page_cache_warm_s" in s
            else ""
        )
    )
    w(
        f"  excerpt recall {s['excerpt_recall']:.3f} ({s['excerpts']} excerpts, wrong article "
        f"{s['excerpt_wrong_article']}); unrelated flagged {s['unrelated_flagged']}/{s['unrelated']}"
    )
    wk = r["workers"]
    w("")
    w(
        f"Workers ({wk['scans']} scans, open and warm-up excluded): 1 process {wk['one']['scans_per_s']:,.0f} scans/s, "
        f"2 processes {wk['two']['scans_per_s']:,.0f} scans/s: ratio {wk['ratio']:.2f}x"
        + (f" (the median of {len(wk['rounds'])} rounds' ratios)" if wk.get("rounds") else "")
    )
    w("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------


def remeasure(args, out: Path) -> int:
    """The phases after registration, again, on a kept registry (after a change to how it is read)."""
    if args.database != "sqlite" or not (args.remeasure / "checker.db").exists():
        log("--remeasure takes the data folder of a --keep run on SQLite")
        return 2
    results = json.loads(out.read_text("utf-8")) if out.exists() else {"articles": args.articles}
    if results.get("articles") != args.articles or results.get("index", args.index) != args.index:
        log(f"{out} is a run of {results.get('articles')} articles on the {results.get('index')} index")
        return 2
    prefix = (results.get("storage") or {}).get("redis_prefix")
    if args.index == "redis" and not prefix:
        log(f"{out} names no kept Redis index (storage.redis_prefix)")
        return 2
    t_start = time.perf_counter()
    data, work = args.remeasure, Path(tempfile.mkdtemp(prefix="checker-scale-"))
    storage = Storage(data, args.index, "sqlite", redis_prefix=prefix)
    corpus, n = Corpus(seed=args.seed), args.articles
    results["remeasured"] = {"loadavg_start": os.getloadavg()[0], "at": time.strftime("%Y-%m-%d %H:%M")}
    try:
        eng = Engine(data, storage.env)
        try:
            # The run registered corpus articles 0..n-1 in order: the i-th smallest id is article i.
            ids = sorted(int(i) for i in eng.reg.index.article_ids())
            id_to_index = {article_id: i for i, article_id in enumerate(ids)}
            eng.close()
            cold_text = suspect_set(corpus, n, {"excerpt": 1}, seed=args.seed + 500)[0].text
            results["cold_start"] = phase_cold_start(storage, work, cold_text)
            eng = Engine(data, storage.env)
            results["scans"] = phase_scans(eng, corpus, n, args.suspects, args.seed + 100, id_to_index)
        finally:
            eng.close()
        results["workers"] = phase_workers(
            storage, corpus, n, args.worker_scans, args.seed + 200, work, args.worker_rounds
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["remeasured"]["seconds"] = time.perf_counter() - t_start
    results["remeasured"]["loadavg_end"] = os.getloadavg()[0]
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    log(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"] and len(argv) == 3:
        return child_main(argv[1], argv[2])
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, required=True, help="how many articles to register")
    ap.add_argument("--index", choices=("memory", "redis"), default="memory")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--suspects", type=int, default=300, help="suspects for latency and excerpt recall")
    ap.add_argument("--worker-scans", type=int, default=400, help="scans for the 1 vs 2 processes comparison")
    ap.add_argument(
        "--worker-rounds",
        type=int,
        default=7,
        help="rounds of 1 and 2 processes; the ratio is the median of the rounds' own ratios",
    )
    ap.add_argument(
        "--redis-bucket-bits", type=int, help="bucket count of the new Redis index (default: the product's)"
    )
    ap.add_argument("--batch", type=int, default=500, help="articles per register_many call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="JSON results (default bench/results-scale-<N>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    ap.add_argument(
        "--remeasure",
        type=Path,
        metavar="DATA_DIR",
        help="measure the cold start, scans and workers again on the data folder a --keep run left "
        "(SQLite; a Redis run's kept index is found through --out), keeping that run's registration and "
        "disk figures from --out",
    )
    args = ap.parse_args(argv)
    if (
        args.articles < 10
        or args.suspects < 2
        or args.worker_scans < 2
        or args.batch < 1
        or args.worker_rounds < 1
    ):
        ap.error(
            "--articles must be at least 10, --suspects and --worker-scans at least 2, --batch and "
            "--worker-rounds at least 1"
        )
    out = args.out or HERE / f"results-scale-{args.articles}.json"
    if args.remeasure:
        return remeasure(args, out)

    t_start = time.perf_counter()
    results: dict = {
        "articles": args.articles,
        "index": args.index,
        "database": args.database,
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_start": os.getloadavg()[0],
        },
    }
    work = Path(tempfile.mkdtemp(prefix="checker-scale-"))
    data = work / "data"
    log(f"work dir {work}")
    try:
        storage = Storage(data, args.index, args.database, bucket_bits=args.redis_bucket_bits)
    except StorageUnavailable as exc:  # a clear message, not a stack trace
        shutil.rmtree(work, ignore_errors=True)
        log(f"cannot reach {exc}")
        return 2
    results["storage"] = storage.describe()
    try:
        corpus = Corpus(seed=args.seed)
        id_to_index: dict[int, int] = {}
        import checker.registry  # noqa: F401  (imports are not registration)

        redis_before = storage.redis_used_memory()
        results["registration"] = phase_register(
            Engine(data, storage.env), corpus, args.articles, args.batch, id_to_index, storage
        )
        redis_after = storage.redis_used_memory()
        n = args.articles
        results["disk"] = {"index_bytes": storage.index_bytes(), "database_bytes": storage.database_bytes()}
        results["disk"]["index_bytes_per_article"] = results["disk"]["index_bytes"] / n
        results["disk"]["database_bytes_per_article"] = results["disk"]["database_bytes"] / n
        results["redis"] = (
            None
            if redis_before is None
            else {
                "url": REDIS_URL,
                "used_memory_before": redis_before,
                "used_memory_after": redis_after,
                "bytes_per_article": (redis_after - redis_before) / n,
                "keys": storage.redis_keys(),
            }
        )
        cold_text = suspect_set(corpus, n, {"excerpt": 1}, seed=args.seed + 500)[0].text
        results["cold_start"] = phase_cold_start(storage, work, cold_text)
        eng = Engine(data, storage.env)
        try:
            results["scans"] = phase_scans(eng, corpus, n, args.suspects, args.seed + 100, id_to_index)
        finally:
            eng.close()
        results["workers"] = phase_workers(
            storage, corpus, n, args.worker_scans, args.seed + 200, work, args.worker_rounds
        )
    finally:
        if args.keep:
            log(f"kept {work}; {storage.kept()}")
        else:
            storage.drop()
            shutil.rmtree(work, ignore_errors=True)
    results["total_seconds"] = time.perf_counter() - t_start
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
