"""The benchmark: registration rate, accuracy, scan throughput and latency, memory. One process.

Run from the project root::

    python -m bench.run            # full run (about 10-15 minutes on 2 cores)
    python -m bench.run --quick    # smoke run with small sizes (about a minute)

Prints a table and writes ``bench/results.json``. See ``bench/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.corpus import Corpus, Suspect, SuspectMaker, suspect_set

HERE = Path(__file__).resolve().parent

# Mix of the accuracy suspects (scaled to --suspects). Excerpts get the most: their target is the tightest.
ACCURACY_MIX = {
    "verbatim": 0.07,
    "excerpt": 0.30,
    "light_edit": 0.10,
    "reorder": 0.08,
    "boilerplate": 0.10,
    "same_topic": 0.15,
    "unrelated": 0.12,
    "shared_quote": 0.08,
}
# Reuse half of the speed suspects (the other half is unrelated text of similar length).
SPEED_REUSE_MIX = {"verbatim": 0.1, "excerpt": 0.4, "light_edit": 0.2, "reorder": 0.1, "boilerplate": 0.2}

TARGETS = {
    "registration_ratio": 5.0,
    "scan_batch_per_s": 200.0,
    "p95_ms_at_largest": 50.0,
    "excerpt_recall": 0.98,
    "excerpt_precision": 0.99,
}


@dataclass
class Sizes:
    reg_rate: int  # articles registered by both the engine and the naive baseline
    accuracy_registry: int  # articles registered before the accuracy scans
    suspects: int  # accuracy suspects
    batch_registry: int  # articles registered for the scan-batch run
    batch_scans: int
    latency_at: tuple[int, ...]  # registry sizes at which single-scan latency is measured
    latency_scans: int
    stress_per_cell: int  # excerpt suspects per (length, edit rate) cell of the stress table
    words: int = 600


FULL = Sizes(2_000, 10_000, 1_000, 20_000, 1_000, (10_000, 100_000), 300, 100)
QUICK = Sizes(1_000, 2_000, 200, 2_000, 200, (1_000, 2_000), 100, 20)


# ---------------------------------------------------------------------------------------------------------
# small helpers


class Progress:
    """A one-line progress indicator on stderr (``every``: seconds between lines in a log file, default 30)."""

    def __init__(self, label: str, total: int, every: float | None = None) -> None:
        self.label, self.total, self.t0, self.last = label, total, time.perf_counter(), 0.0
        self.tty = sys.stderr.isatty()
        self.every = every if every is not None else (0.5 if self.tty else 30.0)

    def update(self, done: int) -> None:
        now = time.perf_counter()
        # on a terminal redraw twice a second; in a log file, a line every 30 s
        if now - self.last < self.every or done >= self.total:
            return
        self.last = now
        dt = now - self.t0
        rate = done / dt if dt else 0.0
        eta = (self.total - done) / rate if rate else 0.0
        end = "" if self.tty else "\n"
        sys.stderr.write(
            f"\r  {self.label}: {done:,}/{self.total:,} ({rate:,.0f}/s, eta {eta:,.0f}s)   {end}"
        )
        sys.stderr.flush()

    def done(self) -> None:
        dt = time.perf_counter() - self.t0
        sys.stderr.write(f"\r  {self.label}: {self.total:,} in {dt:,.1f}s{' ' * 30}\n")
        sys.stderr.flush()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(who).ru_maxrss / 1024.0


class AnonPeak:
    """The most anonymous memory (heap, numpy arrays; ``RssAnon`` in /proc/self/status) this process
    held while the sampler ran, read every ``every`` seconds. ``ru_maxrss`` also counts the pages of
    memory-mapped files, which the page cache can drop: an index mapped whole looks like its size."""

    def __init__(self, every: float = 0.05) -> None:
        self.every, self.peak_kb = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def now_kb() -> int:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.now_kb())
            self._stop.wait(self.every)

    def __enter__(self) -> AnonPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024.0


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def counts_for(mix: dict[str, float], total: int) -> dict[str, int]:
    out = {k: max(1, int(round(v * total))) for k, v in mix.items()}
    # fix rounding on the largest share
    big = max(mix, key=mix.get)
    out[big] += total - sum(out.values())
    return out


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.array(seconds) * 1000.0, q)) if seconds else float("nan")


# ---------------------------------------------------------------------------------------------------------
# engine adapter (the only place that knows the engine's API)


class Engine:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        from checker.registry import Registry
        from checker.settings import Settings

        self.data_dir = data_dir
        # env={}: the benchmark's own SQLite data dir, whatever CHECKER_* the shell has; bench/scale.py
        # passes its own CHECKER_DATABASE_URL / CHECKER_INDEX_URL to measure PostgreSQL and Redis
        self.settings = Settings.from_env(env=env or {}, data_dir=str(data_dir), database_url=None)
        self.reg = Registry(self.settings)
        # Registered and scanned in the CLI's organisation, as a user's `checker import` would: the
        # scan-batch subprocess (the CLI) sees only that organisation's articles.
        from checker.orgs import org_id_for

        self.org_id = org_id_for(self.reg.Session, None)

    @staticmethod
    def article_in(a):
        from checker.records import ArticleIn

        return ArticleIn(
            title=a.title,
            text=a.text,
            url=a.url,
            publisher=a.publisher,
            license="all-rights-reserved",
            partners=(),
        )

    def register(self, articles_in: list, ahead: list | None = None) -> list[int]:
        # Fingerprinting on every CPU, as `checker import` does (kept for the engine's life), the next
        # batch (``ahead``) while this one is stored, as `checker import` does.
        self.reg.prepare_in_parallel()
        out = self.reg.register_many(articles_in, org_id=self.org_id, ahead=ahead or ())
        return [int(getattr(r, "id", r)) for r in out]  # Registered(id, existing) or plain ids

    def scan(self, text: str) -> dict:
        return self.reg.scan(text, org_id=self.org_id).to_dict()

    def warm_up(self, text: str) -> float:
        """One scan, then wait until the memory index has read its files into the page cache (it starts
        after a process's first query: checker.index_memory.read_through): start-up, not scan latency.
        The seconds waited for the page cache."""
        self.scan(text)
        t0 = time.perf_counter()
        wait = getattr(self.reg.index, "wait_warm", None)
        if wait is not None:
            wait()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.reg.close()


_WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[2:]).returncode
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write(json.dumps({"seconds": dt, "maxrss_kb": rss, "returncode": rc}))
sys.exit(rc)
"""


def checker_command() -> list[str]:
    exe = Path(sys.executable).with_name("checker")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("checker")
    if found:
        return [found]
    return [sys.executable, "-m", "checker.cli"]


# ---------------------------------------------------------------------------------------------------------
# scoring


def merge(spans) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted((int(a), int(b)) for a, b in spans if b > a):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def overlap(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    """Characters covered by both merged span lists."""
    i = j = total = 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            total += b - a
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def length(x: list[tuple[int, int]]) -> int:
    return sum(b - a for a, b in x)


@dataclass
class Tally:
    n: int = 0
    tp: int = 0  # reuse suspect, flagged, top match is the true source
    wrong: int = 0  # reuse suspect, flagged, top match is another article (counts as FP and FN)
    fn: int = 0  # reuse suspect, not flagged
    fp: int = 0  # no-reuse suspect flagged
    tn: int = 0
    chars_tp: int = 0
    chars_pred: int = 0
    chars_true: int = 0
    f1s: list = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for k in ("n", "tp", "wrong", "fn", "fp", "tn", "chars_tp", "chars_pred", "chars_true"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.f1s += other.f1s

    def summary(self) -> dict:
        fp_all = self.fp + self.wrong
        flagged = self.tp + fp_all
        pos = self.tp + self.wrong + self.fn
        pp = self.chars_tp / self.chars_pred if self.chars_pred else (1.0 if not self.chars_true else 0.0)
        pr = self.chars_tp / self.chars_true if self.chars_true else (1.0 if not self.chars_pred else 0.0)
        return {
            "n": self.n,
            "tp": self.tp,
            "wrong_article": self.wrong,
            "fn": self.fn,
            "fp": self.fp,
            "tn": self.tn,
            "precision": self.tp / flagged if flagged else None,
            "recall": self.tp / pos if pos else None,
            "false_positive_rate": (self.fp / (self.fp + self.tn)) if (self.fp + self.tn) else None,
            "passage": {
                "precision": pp,
                "recall": pr,
                "f1": (2 * pp * pr / (pp + pr)) if (pp + pr) else 0.0,
                "mean_suspect_f1": float(np.mean(self.f1s)) if self.f1s else None,
            },
        }


def judge(s: Suspect, result: dict, id_to_index: dict[int, int]) -> Tally:
    t = Tally(n=1)
    flagged = result.get("verdict") != "no_reuse" and bool(result.get("matches"))
    top = None
    if flagged:
        best = max(result["matches"], key=lambda m: m.get("score", 0.0))
        top = id_to_index.get(int(best["article"]["id"]))
    if s.source is None:
        if flagged:
            t.fp = 1
        else:
            t.tn = 1
    elif not flagged:
        t.fn = 1
    elif top == s.source:
        t.tp = 1
    else:
        t.wrong = 1
    pred = (
        merge(
            (p["suspect_start"], p["suspect_end"]) for m in result["matches"] for p in m.get("passages", [])
        )
        if flagged
        else []
    )
    truth = merge(s.spans)
    t.chars_tp = overlap(pred, truth)
    t.chars_pred = length(pred)
    t.chars_true = length(truth)
    if s.source is not None:
        p = t.chars_tp / t.chars_pred if t.chars_pred else 0.0
        r = t.chars_tp / t.chars_true if t.chars_true else 0.0
        t.f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return t


# ---------------------------------------------------------------------------------------------------------
# phases


def register_range(
    engine: Engine,
    corpus: Corpus,
    start: int,
    stop: int,
    id_to_index: dict,
    batch: int = 500,
    every: float | None = None,
) -> float:
    """Register corpus articles ``[start, stop)``; returns the seconds spent inside the engine."""
    prog = Progress(f"register {start:,}..{stop:,}", stop - start, every)
    spent = 0.0
    batches = (([Engine.article_in(a) for a in arts], arts) for arts in corpus.batches(start, stop, batch))
    following = next(batches, None)
    while following is not None:
        (items, arts), following = following, next(batches, None)  # made outside engine time
        t0 = time.perf_counter()
        ids = engine.register(items, following[0] if following else None)
        spent += time.perf_counter() - t0
        for a, i in zip(arts, ids):
            id_to_index[int(i)] = a.index
        prog.update(arts[-1].index + 1 - start)
    prog.done()
    return spent


def phase_registration(corpus: Corpus, n: int, work: Path) -> dict:
    # imported here: datasketch takes ~0.75 s to import, which bench/scale.py's cold-start child must not pay
    from bench.naive import engine_parameters
    from bench.naive import registration_rate as naive_rate

    log(f"[registration] rate: engine vs naive datasketch, {n:,} articles")
    arts = list(corpus.articles(0, n))
    texts = [a.text for a in arts]
    k, num_perm = engine_parameters()
    items = [Engine.article_in(a) for a in arts]
    d = work / "regrate"
    d.mkdir()
    # Python imports are not registration (the naive baseline's are not timed either): import first.
    import checker.registry  # noqa: F401

    t0 = time.perf_counter()
    eng = Engine(d)
    ids = eng.register(items)
    eng.close()
    dt_engine = time.perf_counter() - t0
    assert len(ids) == n, f"register_many returned {len(ids)} ids for {n} articles"
    log(f"  engine: {n / dt_engine:,.0f} articles/s")
    naive = naive_rate(texts, k, num_perm)
    log(f"  naive:  {naive['articles_per_s']:,.0f} articles/s")
    eng_rate = n / dt_engine
    return {
        "articles": n,
        "avg_words": float(np.mean([len(a.doc) for a in arts])),
        "engine": {
            "seconds": dt_engine,
            "articles_per_s": eng_rate,
            "storage": "sqlite",
            "db_mb": dir_size_mb(d),
        },
        "naive": naive,
        "ratio": eng_rate / naive["articles_per_s"],
        "target_ratio": TARGETS["registration_ratio"],
    }


def phase_accuracy(engine: Engine, suspects: list[Suspect], id_to_index: dict, registered: int) -> dict:
    log(f"[accuracy] {len(suspects):,} suspects over {registered:,} registered articles")
    per: dict[str, Tally] = {}
    times = []
    prog = Progress("scan", len(suspects))
    for i, s in enumerate(suspects):
        t0 = time.perf_counter()
        res = engine.scan(s.text)
        times.append(time.perf_counter() - t0)
        per.setdefault(s.scenario, Tally()).add(judge(s, res, id_to_index))
        prog.update(i + 1)
    prog.done()
    overall = Tally()
    for t in per.values():
        overall.add(t)
    # The excerpt task: positives are the excerpt suspects, negatives every no-reuse suspect.
    ex = Tally()
    ex.add(per.get("excerpt", Tally()))
    for name in SuspectMaker.NO_REUSE:
        ex.add(per.get(name, Tally()))
    order = list(SuspectMaker.REUSE) + list(SuspectMaker.NO_REUSE)
    return {
        "registered": registered,
        "suspects": len(suspects),
        "scenarios": {k: per[k].summary() for k in order if k in per},
        "overall": overall.summary(),
        "excerpt_task": ex.summary(),
        "targets": {
            "excerpt_recall": TARGETS["excerpt_recall"],
            "excerpt_precision": TARGETS["excerpt_precision"],
        },
        "scan_latency_ms": {"p50": percentile_ms(times, 50), "p95": percentile_ms(times, 95)},
    }


STRESS_WORDS = ((30, 50), (50, 80), (80, 150))
STRESS_RATES = (0.05, 0.10, 0.20)


def phase_stress(
    engine: Engine, corpus: Corpus, registered: int, per_cell: int, seed: int, id_to_index: dict
) -> dict:
    """Excerpt recall beyond the target's conditions: shorter excerpts, heavier edits (informative only)."""
    log(f"[stress] excerpts: {len(STRESS_WORDS)} lengths x {len(STRESS_RATES)} edit rates x {per_cell}")
    maker = SuspectMaker(corpus, seed)
    rng = np.random.default_rng([seed, 9])
    cells = []
    prog = Progress("scan", len(STRESS_WORDS) * len(STRESS_RATES) * per_cell)
    done = 0
    for words in STRESS_WORDS:
        for rate in STRESS_RATES:
            t = Tally()
            for i in sorted(rng.integers(0, registered, size=per_cell).tolist()):
                s = maker.excerpt(corpus.article(i), rate=rate, words=words)
                t.add(judge(s, engine.scan(s.text), id_to_index))
                done += 1
                prog.update(done)
            summ = t.summary()
            cells.append(
                {
                    "words": list(words),
                    "edit_rate": rate,
                    "n": t.n,
                    "recall": summ["recall"],
                    "wrong_article": t.wrong,
                    "passage_f1": summ["passage"]["f1"],
                }
            )
    prog.done()
    return {"registered": registered, "cells": cells}


def speed_suspects(corpus: Corpus, registered: int, n: int, seed: int) -> list[Suspect]:
    """Half unrelated texts of similar length, half reuse of registered articles."""
    half = n // 2
    reuse = suspect_set(corpus, registered, counts_for(SPEED_REUSE_MIX, half), seed=seed)
    unrel = suspect_set(corpus, registered, {"unrelated": n - half}, seed=seed + 1)
    out = reuse + unrel
    rng = np.random.default_rng(seed)
    return [out[i] for i in rng.permutation(len(out))]


def phase_latency(engine: Engine, suspects: list[Suspect], registered: int) -> dict:
    log(f"[latency] {len(suspects)} single scans at {registered:,} registered")
    engine.scan(suspects[0].text)  # warm-up (lazy loads, caches)
    times = []
    prog = Progress("scan", len(suspects))
    flagged = 0
    for i, s in enumerate(suspects):
        t0 = time.perf_counter()
        res = engine.scan(s.text)
        times.append(time.perf_counter() - t0)
        flagged += res.get("verdict") != "no_reuse"
        prog.update(i + 1)
    prog.done()
    return {
        "registered": registered,
        "scans": len(suspects),
        "p50_ms": percentile_ms(times, 50),
        "p95_ms": percentile_ms(times, 95),
        "max_ms": percentile_ms(times, 100),
        "mean_ms": float(np.mean(times) * 1000),
        "flagged": flagged,
        "reuse_suspects": sum(s.source is not None for s in suspects),
        "process_maxrss_mb": maxrss_mb(),
    }


def phase_scan_batch(
    data_dir: Path, suspects: list[Suspect], registered: int, work: Path, id_to_index: dict
) -> dict:
    log(
        f"[scan-batch] {len(suspects):,} scans over {registered:,} registered (subprocess, start-up included)"
    )
    inp = work / "batch_in.jsonl"
    out = work / "batch_out.jsonl"
    with inp.open("w", encoding="utf-8") as f:
        for i, s in enumerate(suspects):
            f.write(json.dumps({"id": f"s{i}", "text": s.text}, ensure_ascii=False) + "\n")
    cmd = checker_command() + ["--data-dir", str(data_dir), "scan-batch", str(inp)]
    env = dict(os.environ, CHECKER_DATA_DIR=str(data_dir))
    env.pop("CHECKER_DATABASE_URL", None)
    root = str(HERE.parent)  # lets the `python -m checker.cli` fallback work without an install
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    stats = work / "batch_stats.json"
    # A forked child's ru_maxrss starts at this (large) process's RSS, so the command runs under a small
    # wrapper process whose own RUSAGE_CHILDREN is the command's true peak. The wrapper also times it.
    wrapper = [sys.executable, "-c", _WRAPPER, str(stats)] + cmd
    with out.open("w", encoding="utf-8") as fo:
        proc = subprocess.run(wrapper, stdout=fo, stderr=subprocess.PIPE, env=env, cwd=str(work))
    st = json.loads(stats.read_text())
    dt, child_rss = st["seconds"], st["maxrss_kb"] / 1024.0
    res = {
        "registered": registered,
        "scans": len(suspects),
        "seconds": dt,
        "scans_per_s": len(suspects) / dt,
        "target_scans_per_s": TARGETS["scan_batch_per_s"],
        "returncode": proc.returncode,
        "child_maxrss_mb": child_rss,
        "command": " ".join(cmd),
    }
    if proc.returncode != 0:
        res["stderr_tail"] = proc.stderr.decode("utf-8", "replace")[-2000:]
        log(f"  scan-batch FAILED (exit {proc.returncode}):\n{res['stderr_tail']}")
        return res
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x.strip()]
    by_id = {r.get("id"): r for r in lines}
    tally = Tally()
    missing = 0
    for i, s in enumerate(suspects):
        r = by_id.get(f"s{i}")
        if r is None or "verdict" not in r:
            missing += 1
            continue
        tally.add(judge(s, r, id_to_index))
    summ = tally.summary()
    res.update(
        {
            "results": len(lines),
            "missing_or_error": missing,
            "precision": summ["precision"],
            "recall": summ["recall"],
            "unrelated_flagged": summ["fp"],
        }
    )
    log(f"  {res['scans_per_s']:,.0f} scans/s, child peak RSS {child_rss:,.0f} MB")
    return res


# ---------------------------------------------------------------------------------------------------------
# report


def fmt(x, spec=".3f") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and np.isnan(x):
        return "nan"
    return format(x, spec)


def mark(ok: bool | None) -> str:
    return "" if ok is None else ("  PASS" if ok else "  FAIL")


def report(r: dict) -> str:
    lines = []
    w = lines.append
    w("")
    w(
        f"Reuse-checker benchmark ({r['mode']}, seed {r['seed']}, {r['machine']['cpus']} CPUs, "
        f"Python {r['machine']['python']}) in {r['total_seconds']:.0f}s"
    )
    m = r["machine"]
    if max(m.get("loadavg_start", 0), m.get("loadavg_end", 0)) > 0.5 * (m["cpus"] or 1):
        w(
            f"  warning: the machine was busy (load average {m['loadavg_start']:.1f} at start, "
            f"{m['loadavg_end']:.1f} at end): timings are pessimistic"
        )
    reg = r.get("registration")
    if reg:
        w("")
        w(f"Registration ({reg['articles']:,} articles of ~{reg['avg_words']:.0f} words)")
        w(f"  engine register_many + SQLite   {reg['engine']['articles_per_s']:10,.0f} articles/s")
        w(
            f"  naive datasketch (k={reg['naive']['shingle_size']}, "
            f"num_perm={reg['naive']['num_perm']})  {reg['naive']['articles_per_s']:8,.0f} articles/s"
        )
        w(
            f"  ratio                            {reg['ratio']:10.1f}x   (target >= {reg['target_ratio']:.0f}x)"
            + mark(reg["ratio"] >= reg["target_ratio"])
        )
    acc = r.get("accuracy")
    if acc:
        w("")
        w(f"Accuracy ({acc['suspects']:,} suspects, {acc['registered']:,} registered articles)")
        w(
            f"  {'scenario':<14}{'n':>5}{'TP':>5}{'wrong':>6}{'FN':>5}{'FP':>5}{'prec':>8}{'recall':>8}"
            f"{'pass.P':>8}{'pass.R':>8}{'pass.F1':>8}"
        )
        rows = list(acc["scenarios"].items()) + [
            ("overall", acc["overall"]),
            ("excerpt task", acc["excerpt_task"]),
        ]
        for name, s in rows:
            p = s["passage"]
            w(
                f"  {name:<14}{s['n']:>5}{s['tp']:>5}{s['wrong_article']:>6}{s['fn']:>5}{s['fp']:>5}"
                f"{fmt(s['precision']):>8}{fmt(s['recall']):>8}{fmt(p['precision']):>8}{fmt(p['recall']):>8}"
                f"{fmt(p['f1']):>8}"
            )
        ex = acc["excerpt_task"]
        ok = (ex["recall"] or 0) >= TARGETS["excerpt_recall"] and (ex["precision"] or 0) >= TARGETS[
            "excerpt_precision"
        ]
        w(
            f"  excerpts 80-150 words, 5% edited: recall {fmt(ex['recall'])} (>= {TARGETS['excerpt_recall']}), "
            f"precision {fmt(ex['precision'])} (>= {TARGETS['excerpt_precision']})" + mark(ok)
        )
        w(
            f"  scan latency during accuracy: p50 {acc['scan_latency_ms']['p50']:.1f} ms, "
            f"p95 {acc['scan_latency_ms']['p95']:.1f} ms"
        )
    st = r.get("excerpt_stress")
    if st:
        w("")
        w("Excerpt stress (informative, no target): recall by excerpt length and share of words edited")
        w(f"  {'words':<10}" + "".join(f"{f'{x:.0%} edited':>12}" for x in STRESS_RATES))
        for words in STRESS_WORDS:
            row = [c for c in st["cells"] if tuple(c["words"]) == words]
            w(f"  {f'{words[0]}-{words[1]}':<10}" + "".join(f"{fmt(c['recall']):>12}" for c in row))
        wrong = sum(c["wrong_article"] for c in st["cells"])
        w(
            f"  ({st['cells'][0]['n']} suspects per cell, {st['registered']:,} registered; wrong article: {wrong})"
        )
    sb = r.get("scan_batch")
    if sb:
        w("")
        w(
            f"scan-batch ({sb['scans']:,} scans, half unrelated, {sb['registered']:,} registered, start-up included)"
        )
        if sb["returncode"] != 0:
            w(f"  FAILED with exit code {sb['returncode']}")
        else:
            w(
                f"  {sb['scans_per_s']:,.0f} scans/s in {sb['seconds']:.1f}s   (target >= {sb['target_scans_per_s']:.0f})"
                + mark(sb["scans_per_s"] >= sb["target_scans_per_s"])
            )
            w(
                f"  sanity: precision {fmt(sb['precision'])}, recall {fmt(sb['recall'])}, "
                f"unrelated flagged {sb['unrelated_flagged']}, missing/error lines {sb['missing_or_error']}"
            )
            w(f"  child peak RSS {sb['child_maxrss_mb']:,.0f} MB")
    lat = r.get("latency")
    if lat:
        w("")
        w("Single-scan latency (reg.scan, half unrelated)")
        w(f"  {'registered':>10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'RSS MB':>9}")
        largest = max(lat.values(), key=lambda x: x["registered"])
        for v in sorted(lat.values(), key=lambda x: x["registered"]):
            tag = ""
            if v is largest and r["mode"] == "full":
                tag = f"   (target p95 <= {TARGETS['p95_ms_at_largest']:.0f})" + mark(
                    v["p95_ms"] <= TARGETS["p95_ms_at_largest"]
                )
            w(
                f"  {v['registered']:>10,}{v['p50_ms']:>9.1f}{v['p95_ms']:>9.1f}{v['max_ms']:>9.1f}"
                f"{v['process_maxrss_mb']:>9,.0f}{tag}"
            )
    mem = r.get("memory")
    if mem:
        w("")
        w(
            f"Peak memory: benchmark process {mem['process_maxrss_mb']:,.0f} MB (corpus included), "
            f"scan-batch child {mem.get('scan_batch_child_maxrss_mb', float('nan')):,.0f} MB; "
            f"data dir {mem.get('data_dir_mb', float('nan')):,.0f} MB at {mem.get('data_dir_articles', 0):,} articles"
        )
    w("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of about a minute")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "results.json", help="where to write the JSON results")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directories")
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    t_start = time.perf_counter()
    corpus = Corpus(seed=args.seed, words=sizes.words)
    results: dict = {
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "sizes": {k: (list(v) if isinstance(v, tuple) else v) for k, v in sizes.__dict__.items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # other work on the machine skews every timing; the 1-minute load average tells
            "loadavg_start": os.getloadavg()[0],
        },
        "timings_s": {},
    }
    work = Path(tempfile.mkdtemp(prefix="checker-bench-"))
    log(f"work dir {work}")
    try:
        t = time.perf_counter()
        results["registration"] = phase_registration(corpus, sizes.reg_rate, work)
        results["timings_s"]["registration"] = time.perf_counter() - t

        data = work / "main"
        data.mkdir()
        id_to_index: dict[int, int] = {}
        eng = Engine(data)
        registered = 0
        latency: dict[str, dict] = {}
        acc_done = False
        batch_done = False
        stops = sorted(set(sizes.latency_at) | {sizes.accuracy_registry, sizes.batch_registry})
        for stop in stops:
            t = time.perf_counter()
            spent = register_range(eng, corpus, registered, stop, id_to_index)
            results["timings_s"][f"register_to_{stop}"] = time.perf_counter() - t
            results.setdefault("bulk_registration", []).append(
                {
                    "from": registered,
                    "to": stop,
                    "engine_seconds": spent,
                    "articles_per_s": (stop - registered) / spent,
                }
            )
            registered = stop
            if not acc_done and registered >= sizes.accuracy_registry:
                t = time.perf_counter()
                counts = counts_for(ACCURACY_MIX, sizes.suspects)
                suspects = suspect_set(corpus, sizes.accuracy_registry, counts, seed=args.seed + 100)
                results["accuracy"] = phase_accuracy(eng, suspects, id_to_index, registered)
                results["timings_s"]["accuracy"] = time.perf_counter() - t
                t = time.perf_counter()
                results["excerpt_stress"] = phase_stress(
                    eng, corpus, sizes.accuracy_registry, sizes.stress_per_cell, args.seed + 400, id_to_index
                )
                results["timings_s"]["excerpt_stress"] = time.perf_counter() - t
                acc_done = True
            if registered in sizes.latency_at:
                t = time.perf_counter()
                sus = speed_suspects(corpus, registered, sizes.latency_scans, seed=args.seed + 300)
                latency[str(registered)] = phase_latency(eng, sus, registered)
                results["timings_s"][f"latency_{registered}"] = time.perf_counter() - t
            if not batch_done and registered >= sizes.batch_registry:
                eng.close()  # make everything durable; the child opens the same data dir
                t = time.perf_counter()
                sus = speed_suspects(corpus, registered, sizes.batch_scans, seed=args.seed + 200)
                results["scan_batch"] = phase_scan_batch(data, sus, registered, work, id_to_index)
                results["timings_s"]["scan_batch"] = time.perf_counter() - t
                batch_done = True
                eng = Engine(data)
        eng.close()
        results["latency"] = latency
        results["memory"] = {
            "process_maxrss_mb": maxrss_mb(),
            "scan_batch_child_maxrss_mb": results.get("scan_batch", {}).get("child_maxrss_mb"),
            "data_dir_mb": dir_size_mb(data),
            "data_dir_articles": registered,
        }
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["total_seconds"] = time.perf_counter() - t_start
    results["machine"]["loadavg_end"] = os.getloadavg()[0]
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
