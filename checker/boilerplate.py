"""Find the boilerplate lines that copiers add or remove, as character ranges.

News pages carry lines that are not the article: share buttons ("Bagikan", "Share on Facebook"),
read-also links ("Baca juga:", "Read more:") and the headline on the line after them, staff lines
("Editor: ..."), anti-copy notices ("Ijin Dulu baru Copas BOSS !!"), advertising markers, credit lines
("Sumber: ANTARA", judged separately by :mod:`checker.attribution`) and photo captions repeated on the
page. A copier keeps some of them and adds others, so they must not count for or against a match.

Each rule is a line-level decision (news CMSs put each of these on a line of its own); the result is a
list of ``(start, end)`` character ranges so token offsets into the original text stay exact.
"""

from __future__ import annotations

import regex

# Lines made only of these words are share/social/ad widgets. Collected from the share bars of
# Indonesian and English news CMSs (WordPress themes, Detik, Kompas, Tribun, BBC, Reuters pages).
SHARE_WORDS = frozenset(
    """bagikan bagikan: share shares sharing tweet tweets whatsapp facebook twitter x telegram line linkedin
    pinterest email e-mail print cetak copy link salin tautan komentar comments comment this article
    artikel ini on di via advertisement iklan ads sponsored scroll to continue with content lanjut baca
    gulir untuk melanjutkan konten""".split()
)
# A label that introduces a link to another article; the rest of the line, or the next line when the
# label stands alone, is that article's headline.
# The patterns run on one line each, lines longer than MAX_LINE_CHARS are not looked at, and leading
# non-word characters are read possessively (``\W*+``): linear time on any line a copier writes.
READ_ALSO_RE = regex.compile(
    r"^\W*+(baca\s+(juga|pula|selengkapnya)|lihat\s+juga|simak\s+(juga|pula)|read\s+(more|also|next)|"
    r"see\s+also|related(\s+(articles?|stories|news))?|artikel\s+terkait|berita\s+terkait|"
    r"also\s+read)\b\s*[:\-–—]?",
    regex.IGNORECASE,
)
STAFF_RE = regex.compile(
    r"^\W*+(editor|penyunting|penulis|reporter|pewarta|redaktur|writer|written\s+by|reporting\s+by|"
    r"editing\s+by|editor\s+in\s+chief|kontributor|fotografer|photographer|translator|penerjemah)\b\s*[:\-–—]",
    regex.IGNORECASE,
)
CREDIT_LINE_RE = regex.compile(
    r"^\W*+(sumber|source|sources|dikutip\s+dari|dilansir\s+dari|disadur\s+dari|courtesy\s+of|"
    r"artikel\s+ini\s+telah\s+tayang\s+di|this\s+article\s+(first\s+)?appeared\s+(in|on)|"
    r"originally\s+published\s+(in|on|at)|foto|photo|image|gambar|caption)\b\s*[:\-–—]",
    regex.IGNORECASE,
)
NOTICE_RE = regex.compile(
    r"(copas|copy[\s-]?paste|content\s+is\s+protected|konten\s+dilindungi|dilarang\s+(meng)?copy|"
    r"all\s+rights\s+reserved|hak\s+cipta\s+dilindungi|google\s+news|ikuti\s+(kami|berita)|"
    r"follow\s+us\s+on|subscribe\s+to\s+(our|the)\s+newsletter|download\s+aplikasi|"
    r"scroll\s+to\s+continue|^\W*+error\s*+:)",
    regex.IGNORECASE,
)
WORD_RE = regex.compile(r"[\p{L}\p{N}\p{M}]++(?:[-'][\p{L}\p{N}\p{M}]++)*+")

# Staff, credit and notice lines are short; a long line that happens to start with "Source:" is prose.
MAX_LABEL_LINE_WORDS = 14
# A read-also headline is one line; longer text after the label is a paragraph, not a link.
MAX_HEADLINE_WORDS = 25
# Boilerplate lines are short (at most MAX_HEADLINE_WORDS + 6 words of ordinary length); a longer
# line is content, and is not run through the patterns at all.
MAX_LINE_CHARS = 2000
# A line repeated verbatim on the page is a caption or widget only if it is at least this long
# (short repeats such as "Jakarta" or a one-word quote are real text).
MIN_REPEATED_LINE_WORDS = 5


def _lines(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every line, without its newline."""
    spans, start = [], 0
    for part in text.splitlines(keepends=True):
        body = part.rstrip("\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
        spans.append((start, start + len(body)))
        start += len(part)
    return spans


def _is_share_line(words: list[str]) -> bool:
    return 0 < len(words) <= 8 and all(w.casefold() in SHARE_WORDS for w in words)


def line_kind(line: str) -> str | None:
    """Classify one line: ``"share"``, ``"read_also"``, ``"read_also_label"``, ``"staff"``,
    ``"credit"``, ``"notice"`` or None for content."""
    if len(line) > MAX_LINE_CHARS:
        return None
    words = WORD_RE.findall(line)
    if not words:
        return None
    if _is_share_line(words):
        return "share"
    m = READ_ALSO_RE.match(line)
    if m:
        rest = WORD_RE.findall(line[m.end() :])
        if not rest:
            return "read_also_label"
        if len(rest) <= MAX_HEADLINE_WORDS:
            return "read_also"
    if len(words) <= MAX_LABEL_LINE_WORDS:
        if STAFF_RE.match(line):
            return "staff"
        if CREDIT_LINE_RE.match(line):
            return "credit"
        if NOTICE_RE.search(line):
            return "notice"
    return None


def boilerplate_ranges(text: str) -> list[tuple[int, int]]:
    """Sorted, disjoint character ranges of the boilerplate lines of ``text``."""
    lines = _lines(text)
    ranges: list[tuple[int, int]] = []
    pending_headline = False
    seen: dict[str, int] = {}
    keys: list[str | None] = []
    for start, end in lines:
        line = text[start:end]
        parts = line.split()
        keys.append(" ".join(parts).casefold() if len(parts) >= MIN_REPEATED_LINE_WORDS else None)
        if keys[-1]:
            seen[keys[-1]] = seen.get(keys[-1], 0) + 1
        if not parts:
            continue
        if pending_headline:
            pending_headline = False
            if len(parts) <= MAX_HEADLINE_WORDS:
                ranges.append((start, end))
                continue
        # Every kind of boilerplate line is short: skip the patterns for paragraphs.
        kind = (
            line_kind(line)
            if len(parts) <= MAX_HEADLINE_WORDS + 6 and end - start <= MAX_LINE_CHARS
            else None
        )
        if kind == "read_also_label":
            pending_headline = True
        if kind:
            ranges.append((start, end))
    # Lines repeated verbatim (photo captions shown twice, widgets): drop every occurrence, since a
    # copier may keep one, both or none.
    for (start, end), key in zip(lines, keys):
        if key and seen[key] > 1:
            ranges.append((start, end))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
