"""Detection quality on the PAN 2013 text-alignment development split, through the public Python API.

    python -m bench.pan                         # ../shared/corpora/pan13-dev, all suspects (~2-4 minutes)
    python -m bench.pan --limit 100             # the first 100 suspects (quick look)
    python -m bench.pan --corpus DIR --details out.json

Registers every source document (``Registry.register_many``), scans every suspect (``Registry.scan``,
the source must be found among all of them), and scores the passages of each listed (suspect, source)
pair with the official PAN measures (:mod:`bench.panmeasures`), per category and overall. Also:

- **false alarms**: listed pairs with no reuse case (all of ``01-no-plagiarism``, the case-less pairs of
  ``05-summary-obfuscation``) where the scan reported the source anyway;
- **other sources**: matches with a source that no pair of that suspect lists (the corpus has
  near-duplicate sources, so some of these are right);
- **baseline**: word 3-gram containment ``|A ∩ B| / min(|A|, |B|)`` of each listed pair, *given the
  pair* (no retrieval), at the threshold that maximises pair-level F1 in this run, with the pair recall
  it reaches per category. Our pair recall (a pair counts as found when it has any detection) sits next
  to it.

Writes ``bench/results-pan.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.panmeasures import Annotation, Scores, score

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpora" / "pan13-dev"
CATEGORIES = {
    "01-no-plagiarism": "none",
    "02-no-obfuscation": "verbatim",
    "03-random-obfuscation": "random",
    "04-translation-obfuscation": "translation",
    "05-summary-obfuscation": "summary",
}
_FEATURE_RE = re.compile(r"<feature\b[^>]*/>")
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class Pair:
    category: str
    suspect: str
    source: str
    cases: list[Annotation]


def read_text(path: Path) -> str:
    # The README: files are read as UTF-8 and offsets count code points of the file as read.
    return path.read_bytes().decode("utf-8", errors="replace")


def load_pairs(corpus: Path) -> list[Pair]:
    pairs = []
    for folder, category in CATEGORIES.items():
        for line in (corpus / folder / "pairs").read_text().split("\n"):
            if not line.strip():
                continue
            susp, src = line.split()
            cases = []
            xml = corpus / folder / f"{susp[:-4]}-{src[:-4]}.xml"
            if xml.exists():
                for feature in _FEATURE_RE.findall(xml.read_text("utf-8")):
                    a = dict(_ATTR_RE.findall(feature))
                    if a.get("name") != "plagiarism":
                        continue
                    to, tl = int(a["this_offset"]), int(a["this_length"])
                    so, sl = int(a["source_offset"]), int(a["source_length"])
                    cases.append(Annotation((susp, src), (to, to + tl), (so, so + sl)))
            pairs.append(Pair(category, susp, src, cases))
    return pairs


# -- the 3-gram containment baseline -------------------------------------------------------------------
_WORD_RE = re.compile(r"\w+")


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD_RE.findall(text.lower())
    return set(zip(words, words[1:], words[2:]))


def containment(a: set, b: set) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def best_threshold(values: np.ndarray, positive: np.ndarray) -> float:
    """The threshold maximising pair-level F1 (a pair is flagged when its value >= threshold)."""
    best, best_f1 = 1.0, -1.0
    for t in np.unique(values):
        flagged = values >= t
        tp = int((flagged & positive).sum())
        f1 = 2 * tp / max(1, int(flagged.sum()) + int(positive.sum()))
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return best


def register_sources(registry, sources: list[str], texts: dict[str, str]) -> tuple[dict[int, str], list[str]]:
    """Register the sources in batches; a batch the registry refuses is retried one by one, so one
    refused source (reported) does not lose the others."""
    from checker.errors import InputError
    from checker.records import ArticleIn

    def article(name: str) -> ArticleIn:
        return ArticleIn(title=name, text=texts[name], url=f"https://pan.example/{name}")

    ids, refused = {}, []
    for start in range(0, len(sources), 500):
        batch = sources[start : start + 500]
        try:
            outcomes = registry.register_many([article(n) for n in batch])
        except InputError:
            outcomes = []
            for name in batch:
                try:
                    outcomes.extend(registry.register_many([article(name)]))
                except InputError as exc:
                    refused.append(f"{name}: {exc}")
                    outcomes.append(None)
        ids.update({o.id: name for o, name in zip(outcomes, batch) if o is not None})
    return ids, refused


# -- the run ---------------------------------------------------------------------------------------------
def run(corpus: Path, limit: int | None, workdir: Path) -> dict:
    from checker.registry import Registry
    from checker.settings import Settings

    pairs = load_pairs(corpus)
    suspects = sorted({p.suspect for p in pairs})
    if limit:
        suspects = suspects[:limit]
        keep = set(suspects)
        pairs = [p for p in pairs if p.suspect in keep]
    sources = sorted(path.name for path in (corpus / "src").glob("*.txt"))
    settings = Settings.from_env({}, data_dir=str(workdir))
    out: dict = {
        "corpus": str(corpus),
        "suspects": len(suspects),
        "sources": len(sources),
        "pairs": len(pairs),
    }
    with Registry(settings) as registry:
        t0 = time.perf_counter()
        texts = {name: read_text(corpus / "src" / name) for name in sources}
        id_to_source, refused_sources = register_sources(registry, sources, texts)
        out["refused_sources"] = refused_sources
        out["register_s"] = round(time.perf_counter() - t0, 2)
        print(f"registered {len(sources)} sources in {out['register_s']} s", file=sys.stderr)

        detections: dict[tuple[str, str], list[Annotation]] = {}
        scan_ms, refused = [], []
        suspect_texts = {name: read_text(corpus / "susp" / name) for name in suspects}
        for n, name in enumerate(suspects, 1):
            t = time.perf_counter()
            try:
                result = registry.scan(suspect_texts[name])
            except Exception as exc:  # a refused suspect is a finding, not a crash
                refused.append(f"{name}: {exc}")
                continue
            scan_ms.append((time.perf_counter() - t) * 1000)
            for m in result.matches:
                src = id_to_source[m.article.id]
                detections[(name, src)] = [
                    Annotation((name, src), (p.suspect_start, p.suspect_end), (p.source_start, p.source_end))
                    for p in m.passages
                ]
            if n % 50 == 0:
                print(f"scanned {n}/{len(suspects)}", file=sys.stderr)
        out["refused"] = refused
        out["scan_ms"] = {
            "p50": round(float(np.median(scan_ms)), 1),
            "p95": round(float(np.percentile(scan_ms, 95)), 1),
        }

    listed = {(p.suspect, p.source) for p in pairs}
    per_category = {}
    for category in [*CATEGORIES.values(), "overall"]:
        chosen = [p for p in pairs if category in ("overall", p.category)]
        cases = [c for p in chosen for c in p.cases]
        dets = [d for p in chosen for d in detections.get((p.suspect, p.source), [])]
        s = score(cases, dets)
        with_cases = [p for p in chosen if p.cases]
        found = sum(1 for p in with_cases if detections.get((p.suspect, p.source)))
        caseless = [p for p in chosen if not p.cases]
        alarms = [f"{p.suspect}-{p.source}" for p in caseless if detections.get((p.suspect, p.source))]
        per_category[category] = {
            **_scores_dict(s),
            "pairs": len(chosen),
            "pair_recall": round(found / len(with_cases), 4) if with_cases else None,
            "caseless_pairs": len(caseless),
            "false_alarm_pairs": len(alarms),
            "false_alarm_examples": alarms[:10],
        }
    out["categories"] = per_category
    out["other_source_matches"] = sum(1 for key in detections if key not in listed)
    out["baseline"] = _baseline(corpus, pairs, texts, suspect_texts)
    out["missed_examples"] = {
        cat: [
            f"{p.suspect}-{p.source}"
            for p in pairs
            if p.category == cat and p.cases and not detections.get((p.suspect, p.source))
        ][:10]
        for cat in CATEGORIES.values()
        if cat != "none"
    }
    out["_detections"] = {
        f"{k[0]} {k[1]}": [[*d.suspect, *d.source] for d in v] for k, v in detections.items()
    }
    return out


def _scores_dict(s: Scores) -> dict:
    return {
        "plagdet": round(s.plagdet, 4),
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "granularity": round(s.granularity, 4),
        "cases": s.cases,
        "detections": s.detections,
    }


def _baseline(corpus: Path, pairs: list[Pair], sources: dict[str, str], suspects: dict[str, str]) -> dict:
    grams: dict[str, set] = {}

    def of(kind: str, name: str) -> set:
        key = f"{kind}/{name}"
        if key not in grams:
            grams[key] = trigrams((sources if kind == "src" else suspects)[name])
        return grams[key]

    values = np.array([containment(of("susp", p.suspect), of("src", p.source)) for p in pairs])
    positive = np.array([bool(p.cases) for p in pairs])
    t = best_threshold(values, positive)
    flagged = values >= t
    out = {"threshold": round(t, 4)}
    for category in CATEGORIES.values():
        mask = np.array([p.category == category for p in pairs])
        pos, neg = mask & positive, mask & ~positive
        out[category] = {
            "pair_recall": round(float(flagged[pos].mean()), 4) if pos.any() else None,
            "false_alarm_pairs": int((flagged & neg).sum()),
        }
    return out


def table(res: dict) -> str:
    header = (
        "| category | plagdet | precision | recall | granularity | pair recall | baseline pair recall "
        "| false-alarm pairs (baseline) |"
    )
    rows = [header, "|---|---|---|---|---|---|---|---|"]
    for cat, s in res["categories"].items():
        base = res["baseline"].get(cat, {})
        b_rec = base.get("pair_recall")
        b_fa = base.get(
            "false_alarm_pairs",
            sum(v["false_alarm_pairs"] for k, v in res["baseline"].items() if isinstance(v, dict)),
        )
        rows.append(
            f"| {cat} | {s['plagdet']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | {s['granularity']:.3f} "
            f"| {s['pair_recall'] if s['pair_recall'] is not None else '-'} "
            f"| {b_rec if b_rec is not None else '-'} "
            f"| {s['false_alarm_pairs']}/{s['caseless_pairs']} ({b_fa}) |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="scan only the first N suspects")
    parser.add_argument("--out", type=Path, default=HERE / "results-pan.json")
    parser.add_argument("--details", type=Path, default=None, help="also write every detection here")
    args = parser.parse_args(argv)
    if not (args.corpus / "src").is_dir():
        print(f"error: no PAN corpus at {args.corpus} (expected src/, susp/ and 0N-*/pairs)", file=sys.stderr)
        return 1
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-pan-") as tmp:
        res = run(args.corpus, args.limit, Path(tmp))
    res["machine"] = f"{platform.machine()}, {platform.python_version()}"
    res["date"] = time.strftime("%Y-%m-%d")
    res["wall_s"] = round(time.time() - started, 1)
    detections = res.pop("_detections")
    if args.details:
        args.details.write_text(json.dumps({**res, "detections": detections}, indent=1))
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(table(res))
    print(
        f"\nother-source matches: {res['other_source_matches']}; refused: {len(res['refused'])}; "
        f"scan p50 {res['scan_ms']['p50']} ms, p95 {res['scan_ms']['p95']} ms; wall {res['wall_s']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
