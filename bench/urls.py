"""URL-scan benchmark: real Celery workers on Redis fetching pages from a local page server.

    python -m bench.urls [--pages 200] [--articles 1000] [--workers 1 2]

Registers ``--articles`` synthetic articles (bench/corpus.py) in a fresh PostgreSQL schema of the CI
server (127.0.0.1:5432, database ``test``) with the passage index in Redis (127.0.0.1:6379, db 11, a
fresh prefix; the broker is db 10); serves ``--pages`` HTML pages on 127.0.0.1 (half copies of registered articles inside
page chrome, half unrelated texts); then, for each worker count, starts that many
``celery -A worker.app worker --pool=solo`` processes, submits every page as a URL scan through
``worker.dispatch.submit_scan`` and waits for all of them. Reports URL scans per second (first submit to
last done) and submit-to-done latency (``finished_at - created_at`` of each scan). Loopback only.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis
import sqlalchemy as sa

from bench.corpus import Corpus, suspect_set

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_URL = os.environ.get("CHECKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BROKER = "redis://127.0.0.1:6379/10"
INDEX = "redis://127.0.0.1:6379/11"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class PageHandler(http.server.BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self):
        body = self.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def page_html(title: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> <a href='/news'>News</a>"
        f"</nav><article><h1>{title}</h1>{paragraphs}</article><footer>Copyright Example Media</footer>"
        "</body></html>"
    ).encode()


def start_workers(n: int, env: dict, logdir: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(n):
        out = (logdir / f"worker{n}-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "worker.app",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{n}-{i}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        )
    time.sleep(4)  # workers connect; submissions wait in the queue meanwhile anyway
    return procs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", default=str(HERE / "results-urls.json"))
    args = ap.parse_args(argv)

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    work = Path(tempfile.mkdtemp(prefix="bench-urls-"))
    env_values = {
        "CHECKER_BROKER_URL": BROKER,
        "CHECKER_INDEX_URL": INDEX,
        "CHECKER_INDEX_PREFIX": f"bench:{schema}",
        "CHECKER_DATA_DIR": str(work / "data"),
        "CHECKER_DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}",
        "CHECKER_ALLOW_PRIVATE_URLS": "1",
    }
    os.environ.update(env_values)  # before worker.app is imported: it configures from the environment
    from checker.records import ArticleIn
    from checker.registry import Registry
    from checker.settings import Settings
    from worker import dispatch

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results: dict = {"pages": args.pages, "articles": args.articles, "runs": []}
    try:
        registry = Registry(Settings.from_env())
        corpus = Corpus(seed=3)
        log(f"registering {args.articles} articles (PostgreSQL schema {schema}, Redis index)")
        registry.register_many(
            [
                ArticleIn(title=a.title, text=a.text, url=a.url, publisher=a.publisher)
                for a in (corpus.article(i) for i in range(args.articles))
            ]
        )
        suspects = suspect_set(
            corpus,
            args.articles,
            {"verbatim": args.pages // 2, "unrelated": args.pages - args.pages // 2},
            seed=4,
        )
        for i, s in enumerate(suspects):
            PageHandler.pages[f"/p/{i}.html"] = page_html(f"Page {i}", s.text)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for n in args.workers:
            redis.Redis.from_url(BROKER).flushdb()
            procs = start_workers(n, env, work)
            try:
                log(f"{n} worker(s): {len(suspects)} URL scans")
                t0 = time.monotonic()
                ids = [
                    dispatch.submit_scan(registry, url=f"{base}/p/{i}.html", source="url")
                    for i in range(len(suspects))
                ]
                while True:
                    with registry.Session() as session:
                        from checker.models import Scan

                        rows = session.execute(
                            sa.select(Scan.status, Scan.verdict, Scan.created_at, Scan.finished_at)
                            .where(Scan.id.in_(ids))
                            .order_by(Scan.id)
                        ).all()
                    if all(r.status in ("done", "failed") for r in rows):
                        break
                    time.sleep(0.2)
                elapsed = time.monotonic() - t0
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(30)
            latencies = sorted((r.finished_at - r.created_at).total_seconds() for r in rows)
            flagged = [r.verdict not in (None, "no_reuse") for r in rows]
            expected = [s.source is not None for s in suspects]
            run = {
                "workers": n,
                "scans": len(rows),
                "seconds": round(elapsed, 2),
                "scans_per_s": round(len(rows) / elapsed, 1),
                "latency_p50_s": round(statistics.median(latencies), 3),
                "latency_p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3),
                "failed": sum(r.status == "failed" for r in rows),
                "correct_verdicts": sum(f == e for f, e in zip(flagged, expected)),
            }
            results["runs"].append(run)
            log(json.dumps(run))
    finally:
        server.shutdown()
        server.server_close()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        redis.Redis.from_url(BROKER).flushdb()
        from checker.index_redis import drop

        drop(redis.Redis.from_url(INDEX), f"bench:{schema}")
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"URL scans ({args.pages} pages, {args.articles} registered, 2 cores):")
    for run in results["runs"]:
        print(
            f"  {run['workers']} worker(s): {run['scans_per_s']:>6} URL scans/s, submit-to-done p50 "
            f"{run['latency_p50_s']} s, p95 {run['latency_p95_s']} s, {run['failed']} failed, "
            f"{run['correct_verdicts']}/{run['scans']} verdicts right"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
