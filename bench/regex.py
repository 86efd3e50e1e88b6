"""Time the text patterns that see untrusted text on adversarial inputs, before and after issue 9.

    python -m bench.regex            # new code at 100 KB and 1 MB, old patterns at 5 KB and 10 KB
    python -m bench.regex --quick    # one run per cell, old patterns at 2.5 KB and 5 KB

Each cell is the median of ``--repeat`` runs (default 5) of one call on one input. The old patterns (as
they were before the rewrite, kept here) run in the same process as a baseline, only on small inputs:
at 1 MB the cubic link pattern would run for days. Going from the first old size to the second (2x),
a linear pattern takes 2x as long, a quadratic one 4x, a cubic one 8x; the new code's 100 KB -> 1 MB
column is 10x for linear. tests/test_linear_text.py is the test; this only reports times.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

import regex

from checker import attribution, boilerplate, quotes
from checker.records import ArticleRef
from worker import extract, fetch

# ---------------------------------------------------------------------------------------------------
# the old code, for the baseline (and for tests/test_linear_text.py: what must still be found)

OLD_URL_RE = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,24}(?:/[^\s<>\"'()\[\]]*)?",
    regex.IGNORECASE,
)
OLD_REPORTED_RE = regex.compile(
    r"(?P<name>[\p{Lu}][\w.\-]*(?:\s+[\p{Lu}][\w.\-]*){0,3})\s+(?:reported|reports|melaporkan|memberitakan)\b"
    r"|(?P<by>\b(?:dilaporkan|diberitakan))\s+(?:oleh\s+)?(?P<name>[\w.\-]+(?:\s+[\w.\-]+){0,3})",
)
OLD_CREDIT_PHRASE_RE = regex.compile(
    rf"\b(?:{attribution._CREDIT_LEAD})\b\s*[:\-–—]?\s*(?P<name>[^\n]{{1,120}})", regex.IGNORECASE
)
OLD_NOSCRIPT_RE = re.compile(r"<noscript\b[^>]*>(.*?)</noscript\s*>", re.IGNORECASE | re.DOTALL)
OLD_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.IGNORECASE)


def old_credit_mentions(text: str) -> list:
    """credit_mentions before the rewrite: the old patterns, and a quotation check against every range."""
    ranges = quotes.quoted_ranges(text)
    found = []
    for pattern in (OLD_CREDIT_PHRASE_RE, OLD_REPORTED_RE, attribution.BRACKET_RE, OLD_URL_RE):
        for m in pattern.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b in ranges):
                found.append(m.span())
    return found


def new_credit_mentions(text: str) -> tuple:
    attribution.credit_mentions.cache_clear()
    return attribution.credit_mentions(text)


LINGKAR = ArticleRef(1, "Vaksin", "https://lingkar.co/vaksin-sputnik/", "Lingkar.co")


def old_nested(spans: list[tuple[int, int]]) -> list:
    """find_credits' nesting check before the rewrite: every pair."""
    return [c for c in spans if any(o[0] <= c[0] and c[1] <= o[1] and o != c for o in spans)]


def new_credits(text: str) -> list:
    attribution.credit_mentions.cache_clear()
    return attribution.find_credits(text, LINGKAR, "source")


def old_credits_spans(text: str) -> list:
    return old_nested([m.span() for m in attribution.BRACKET_RE.finditer(text)])


# ---------------------------------------------------------------------------------------------------
# inputs and cases


def scale(unit, size: int):
    return (unit * (size // len(unit) + 1))[:size]


def finditer(pattern):
    return lambda text: sum(1 for _ in pattern.finditer(text))


# (what, adversarial unit, new function, old function or None, tail appended after scaling)
CASES = [
    ("links in text", "a.", attribution.url_spans, finditer(OLD_URL_RE), "1"),
    ("links in text", "a.http://", attribution.url_spans, finditer(OLD_URL_RE), ""),
    ("'X reported' names", "A", finditer(attribution.REPORTED_RE), finditer(OLD_REPORTED_RE), ""),
    ("'X reported' names", "A ", finditer(attribution.REPORTED_RE), finditer(OLD_REPORTED_RE), ""),
    ("credit lines", "\n", finditer(attribution.CREDIT_PHRASE_RE), finditer(OLD_CREDIT_PHRASE_RE), ""),
    ("bracketed datelines", "(", finditer(attribution.BRACKET_RE), finditer(attribution.BRACKET_RE), ""),
    ("credit mentions (all)", '"a" (ab) ', new_credit_mentions, old_credit_mentions, ""),
    ("credits naming the article", "(Lingkar.co) x ", new_credits, old_credits_spans, ""),
    ("quotations", '"a" \u201cb\u201d \u00ab', quotes.quoted_ranges, None, ""),
    ("boilerplate lines", "Baca juga: a-", boilerplate.boilerplate_ranges, None, ""),
    ("<noscript> blocks", "<noscript>", extract._noscript_blocks, finditer(OLD_NOSCRIPT_RE), ""),
    ("<noscript> blocks", "<noscript", extract._noscript_blocks, finditer(OLD_NOSCRIPT_RE), ""),
    ("<meta charset>", b" ", fetch.meta_charset, lambda b: OLD_META_CHARSET_RE.search(b), b""),
    ("<meta charset>", b"<meta", fetch.meta_charset, lambda b: OLD_META_CHARSET_RE.search(b), b""),
]
# Some shapes need a head: "source" before the newlines, "<meta charset=" before the spaces.
HEADS = {("credit lines", "\n"): "source", ("<meta charset>", b" "): b"<meta charset="}


def build(case, size: int):
    what, unit, _, _, tail = case
    head = HEADS.get((what, unit), unit[:0])
    return head + scale(unit, size) + tail


def median_time(fn, text, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def label(case) -> str:
    """The input as an expression: head + unit * n + tail."""
    what, unit, _, _, tail = case
    head = HEADS.get((what, unit), unit[:0])
    text = [repr(x if isinstance(x, str) else x.decode()) for x in (head, unit, tail)]
    return " + ".join(p for p, x in zip([text[0], text[1] + "*n", text[2]], (head, unit, tail)) if x)


def kb(n: int) -> str:
    return "1 MB" if n == 1_000_000 else f"{n / 1000:g} KB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run per cell, smaller old sizes")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    old_sizes = (2_500, 5_000) if args.quick else (5_000, 10_000)
    new_sizes = (100_000, 1_000_000)
    header = [
        "pattern",
        "input",
        *(f"old {kb(n)}" for n in old_sizes),
        "old growth",
        *(f"new {kb(n)}" for n in new_sizes),
        "new growth",
    ]
    rows = []
    for case in CASES:
        what, _, new, old, _ = case
        olds = [median_time(old, build(case, n), repeat) if old else None for n in old_sizes]
        news = [median_time(new, build(case, n), repeat) for n in new_sizes]
        old_growth = f"x{olds[1] / olds[0]:.1f}" if old and olds[0] > 0 else "-"
        new_growth = f"x{news[1] / news[0]:.1f}" if news[0] > 0 else "-"
        rows.append([what, label(case), *map(fmt, olds), old_growth, *map(fmt, news), new_growth])
        print(f"done: {what} {label(case)}", file=sys.stderr)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
