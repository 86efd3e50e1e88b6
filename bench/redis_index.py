"""The shared Redis index on its own: bytes per article, registration rate, query latency, and scan
throughput of one process against two (issue 12, point 5). Redis database 13; its keys are deleted at
the end.

Run from the project root::

    python -m bench.redis_index --articles 20000                 # this layout, default bucket_bits
    python -m bench.redis_index --articles 20000 --bucket-bits 17 20 --old   # two sizes + format 1
    python -m bench.redis_index --articles 20000 --bucket-bits 17 --revs 0032667   # + an older format 2

Synthetic ~600-word articles (bench.corpus) are fingerprinted once (cached under the temp folder, on
every CPU) with the default scheme and mixed with one organisation's id, as the registry posts them;
then each layout registers them in batches of 500 (``RedisIndex.add`` only: no database), and answers
the fingerprinted suspects of bench.run's speed mix (half reuse, half unrelated).

Measured, per layout:

- Redis bytes per article: the ``INFO memory`` ``used_memory`` delta over the registration (the whole
  server: other clients' writes meanwhile count too), and an estimate from ``MEMORY USAGE`` of sampled
  keys times the number of keys of each kind (buckets or shards, article records, the article set).
- registration: articles per second inside ``add`` (fingerprinting excluded).
- query p50/p95: one ``query`` per suspect, one process.
- scan throughput with 1 and 2 processes, each running the suspects for ``--seconds``: "query" is the
  index lookups alone, "scan" adds fingerprinting the suspect text (what a worker does besides the
  verification, which does not touch Redis). Redis shares the machine's cores with the processes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import redis

from bench.corpus import Corpus
from checker.index import DEFAULT_PREFIX

HERE = Path(__file__).resolve().parent
REDIS_URL = "redis://127.0.0.1:6379/13"
ORG = 1
BATCH = 500
# The last commit with the format-1 layout (one hash per shard, Lua scripts).
OLD_REV = "89ddc44"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- fingerprints -----------------------------------------------------------------------------------------
def _fingerprint(texts: list[str]) -> list[np.ndarray]:
    from checker.fingerprint import DEFAULT_SCHEME, fingerprint
    from checker.normalize import normalize
    from checker.partition import org_keys

    return [org_keys(fingerprint(normalize(t), DEFAULT_SCHEME).keys, ORG) for t in texts]


def fingerprints(texts_of, n: int, tag: str, seed: int) -> list[np.ndarray]:
    """Keys of ``n`` texts, cached in the temp folder (fingerprinting 20k articles takes minutes)."""
    path = Path(tempfile.gettempdir()) / f"bench-redis-index-{tag}-{n}-{seed}.npz"
    if path.exists():
        data = np.load(path)
        return np.split(data["keys"], data["offsets"][1:-1])
    texts = texts_of(n)
    chunks = [texts[i : i + 500] for i in range(0, len(texts), 500)]
    with mp.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        out = [k for part in pool.imap(_fingerprint, chunks) for k in part]
    offsets = np.cumsum([0] + [len(k) for k in out])
    np.savez(path, keys=np.concatenate(out), offsets=offsets)
    return out


# -- layouts ----------------------------------------------------------------------------------------------
_MODULES: dict[str, object] = {}


def module_at(rev: str):
    """checker/index_redis.py as of git revision ``rev``, imported under another name."""
    if rev not in _MODULES:
        source = subprocess.run(
            ["git", "show", f"{rev}:checker/index_redis.py"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        name = f"index_redis_{rev}"
        path = Path(tempfile.mkdtemp()) / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[rev] = module
    return _MODULES[rev]


def open_layout(layout: str, prefix: str):
    """``format 1`` (OLD_REV), ``bucket_bits=N`` (this checkout) or ``REV bucket_bits=N`` (another
    revision of format 2)."""
    from checker.fingerprint import DEFAULT_SCHEME

    if layout == "format 1":
        return module_at(OLD_REV).RedisIndex(DEFAULT_SCHEME, url=REDIS_URL, prefix=prefix)
    rev, _, bits = layout.rpartition(" ")
    cls = (
        module_at(rev).RedisIndex
        if rev
        else __import__("checker.index_redis", fromlist=["RedisIndex"]).RedisIndex
    )
    return cls(DEFAULT_SCHEME, url=REDIS_URL, prefix=prefix, bucket_bits=int(bits.split("=")[1]))


def key_kinds(
    layout: str, idx, prefix: str, all_keys: np.ndarray, n: int
) -> dict[str, tuple[int, list[bytes]]]:
    """Each kind of key: (how many there are, names to sample)."""
    rng = np.random.default_rng(0)
    ids = rng.choice(np.arange(1, n + 1), size=min(n, 500), replace=False)
    records = [f"{prefix}:a:{i}".encode() for i in ids]
    if layout == "format 1":
        shards = [f"{prefix}:s:{i:04x}".encode() for i in rng.choice(16**4, size=2_000, replace=False)]
        return {"shards": (16**4, shards), "article keys": (n, records)}
    buckets = np.unique(all_keys >> idx._shift)
    sample = [
        idx._bucket_name(int(b)) for b in rng.choice(buckets, size=min(len(buckets), 2_000), replace=False)
    ]
    overflow = list(idx.client.scan_iter(match=f"{prefix}:{{*}}*:*", count=10_000))
    kinds = {"buckets": (len(buckets), sample), "article records": (n, records)}
    if overflow:
        kinds["overflow"] = (len(overflow), overflow[:2_000])
    return kinds


def memory_estimate(client: redis.Redis, kinds: dict, prefix: str) -> dict:
    out = {}
    for kind, (count, names) in kinds.items():
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.memory_usage(name, samples=0)
        sizes = [s or 0 for s in pipe.execute()]
        out[kind] = {
            "keys": count,
            "mean_bytes": float(np.mean(sizes)),
            "bytes": float(np.mean(sizes)) * count,
        }
    out["article set"] = {
        "keys": 1,
        "bytes": float(client.memory_usage(f"{prefix}:articles", samples=0) or 0),
    }
    return out


# -- scanning processes -----------------------------------------------------------------------------------
def _scan_worker(
    layout: str, prefix: str, suspects: list, texts: list[str] | None, seconds: float, start, out
) -> None:
    idx = open_layout(layout, prefix)
    start.wait()
    done, t0, cpu0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for i, keys in enumerate(suspects):
            if texts is not None:
                keys = _fingerprint([texts[i]])[0]
            idx.query(keys)
            done += 1
            if time.perf_counter() - t0 >= seconds:
                break
    out.put((done, time.perf_counter() - t0, time.process_time() - cpu0))
    idx.close()


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def throughput(
    layout: str, prefix: str, suspects: list, texts: list[str] | None, procs: int, seconds: float
) -> dict:
    """Operations per second of ``procs`` processes together, and the CPU each operation cost in the
    process and in Redis (Redis's CPU counts every client's commands meanwhile: an upper bound)."""
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_scan_worker, args=(layout, prefix, suspects, texts, seconds, start, out))
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    time.sleep(1.0)  # every process connected and waiting
    client = redis.Redis.from_url(REDIS_URL)
    cpu0 = redis_cpu(client)
    start.set()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    redis_s = redis_cpu(client) - cpu0
    client.close()
    for w in workers:
        w.join()
    ops = sum(r[0] for r in results)
    return {
        "per_s": float(sum(r[0] / r[1] for r in results)),
        "client_cpu_ms": 1000 * sum(r[2] for r in results) / ops,
        "redis_cpu_ms": 1000 * redis_s / ops,
    }


def two_core_ratio(client_ms: float, redis_ms: float) -> float:
    """What two processes would scan against one on two otherwise idle cores, from the CPU one
    operation costs: one process waits for Redis (client + Redis time in turn); two are bounded by
    Redis's one thread (1 / redis_ms) and by two cores shared by both processes and Redis."""
    one = 1 / (client_ms + redis_ms)
    two = min(2 * one, 1 / redis_ms, 2 / (client_ms + redis_ms))
    return two / one


# -- one layout -------------------------------------------------------------------------------------------
def run_layout(
    layout: str, articles: list[np.ndarray], suspects: list[np.ndarray], texts: list[str], seconds: float
) -> dict:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"bench:{uuid.uuid4().hex}"[: len(DEFAULT_PREFIX)]  # key names as long as a deployment's
    n = len(articles)
    idx = open_layout(layout, prefix)
    try:
        log(f"[{layout}] registering {n:,} articles")
        used0 = int(client.info("memory")["used_memory"])
        t0 = time.perf_counter()
        for s in range(0, n, BATCH):
            idx.add((i + 1, articles[i]) for i in range(s, min(n, s + BATCH)))
        reg_s = time.perf_counter() - t0
        used1 = int(client.info("memory")["used_memory"])
        kinds = key_kinds(layout, idx, prefix, np.concatenate(articles), n)
        estimate = memory_estimate(client, kinds, prefix)
        est_total = sum(k["bytes"] for k in estimate.values())
        log(
            f"  {n / reg_s:,.0f} articles/s; used_memory +{(used1 - used0) / n:,.0f} B/article; "
            f"MEMORY USAGE estimate {est_total / n:,.0f} B/article"
        )
        idx.query(suspects[0])
        times = []
        for keys in suspects:
            t = time.perf_counter()
            idx.query(keys)
            times.append(time.perf_counter() - t)
        p50, p95 = (float(np.percentile(times, q) * 1000) for q in (50, 95))
        log(f"  query p50 {p50:.2f} ms, p95 {p95:.2f} ms")
        rates, cpu = {}, {}
        for what, txt in (("query", None), ("scan", texts)):
            for procs in (1, 2):
                m = throughput(layout, prefix, suspects, txt, procs, seconds)
                rates[f"{what}_{procs}"] = m["per_s"]
                cpu[f"{what}_{procs}"] = m
            one = cpu[f"{what}_1"]
            log(
                f"  {what}/s: 1 process {rates[f'{what}_1']:,.0f}, 2 processes {rates[f'{what}_2']:,.0f} "
                f"({rates[f'{what}_2'] / rates[f'{what}_1']:.2f}x); CPU per {what}: process "
                f"{one['client_cpu_ms']:.2f} ms, Redis {one['redis_cpu_ms']:.2f} ms: on 2 idle cores "
                f"{two_core_ratio(one['client_cpu_ms'], one['redis_cpu_ms']):.2f}x"
            )
        return {
            "layout": layout,
            "articles": n,
            "keys_per_article": float(np.mean([len(a) for a in articles])),
            "register_articles_per_s": n / reg_s,
            "used_memory_bytes_per_article": (used1 - used0) / n,
            "memory_usage_bytes_per_article": est_total / n,
            "memory_usage_by_kind": estimate,
            "query_p50_ms": p50,
            "query_p95_ms": p95,
            "throughput_per_s": rates,
            "two_vs_one": {w: rates[f"{w}_2"] / rates[f"{w}_1"] for w in ("query", "scan")},
            "cpu_per_op": cpu,
            "two_vs_one_on_idle_cores": {
                w: two_core_ratio(cpu[f"{w}_1"]["client_cpu_ms"], cpu[f"{w}_1"]["redis_cpu_ms"])
                for w in ("query", "scan")
            },
            "load_average": os.getloadavg(),
        }
    finally:
        from checker.index_redis import drop

        drop(client, prefix)
        idx.close()
        client.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--suspects", type=int, default=200)
    ap.add_argument("--bucket-bits", type=int, nargs="+", default=[20])
    ap.add_argument("--old", action="store_true", help="also measure format 1 (the layout before, from git)")
    ap.add_argument(
        "--revs",
        nargs="*",
        default=[],
        help="also measure format 2 as of these git revisions (with the first --bucket-bits)",
    )
    ap.add_argument("--seconds", type=float, default=10.0, help="per throughput measurement")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(HERE / "results-redis-index.json"))
    args = ap.parse_args(argv)

    from bench.run import speed_suspects

    corpus = Corpus(seed=args.seed)
    t = time.perf_counter()
    articles = fingerprints(
        lambda n: [a.text for a in corpus.articles(0, n)], args.articles, "articles", args.seed
    )
    sus = speed_suspects(corpus, args.articles, args.suspects, seed=args.seed + 7)
    texts = [s.text for s in sus]
    suspects = fingerprints(lambda n: texts[:n], len(texts), f"suspects-{args.articles}", args.seed)
    log(f"fingerprints ready in {time.perf_counter() - t:.0f} s")
    layouts = [f"bucket_bits={b}" for b in args.bucket_bits]
    layouts += [f"{rev} bucket_bits={args.bucket_bits[0]}" for rev in args.revs] + (
        ["format 1"] if args.old else []
    )
    results = {"articles": args.articles, "cpus": os.cpu_count(), "runs": []}
    for layout in layouts:
        results["runs"].append(run_layout(layout, articles, suspects, texts, args.seconds))
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(
        f"Redis index, {args.articles:,} articles ({results['runs'][0]['keys_per_article']:.0f} keys each), "
        f"{args.suspects} suspects, {os.cpu_count()} CPUs shared with Redis:"
    )
    print(
        f"  {'layout':<24} {'B/article (used_memory)':>24} {'(MEMORY USAGE)':>15} {'register/s':>11} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'query/s 1->2':>16} {'scan/s 1->2':>16}"
    )
    for r in results["runs"]:
        q, s = r["throughput_per_s"], r["two_vs_one"]
        print(
            f"  {r['layout']:<24} {r['used_memory_bytes_per_article']:>24,.0f} {r['memory_usage_bytes_per_article']:>15,.0f} "
            f"{r['register_articles_per_s']:>11,.0f} {r['query_p50_ms']:>7.2f} {r['query_p95_ms']:>7.2f} "
            f"{q['query_1']:>6,.0f}->{q['query_2']:>5,.0f} {s['query']:.2f}x"
            f" {q['scan_1']:>5,.0f}->{q['scan_2']:>4,.0f} {s['scan']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
