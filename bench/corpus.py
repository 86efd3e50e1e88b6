"""Reproducible synthetic news corpus with ground truth for the reuse benchmark.

Everything is derived from one integer seed, so a run can be repeated exactly.

Text model
----------
* A vocabulary of ~50k pronounceable pseudo-words (built from consonant-vowel syllables) is sampled
  from a Zipf-Mandelbrot law ``p(r) ~ 1 / (r + 2.7)``, the shape of real word frequencies.
* Real function words (English or Indonesian, per topic) are mixed in so the text reads like language
  and, more importantly, so that common short phrases recur by chance across unrelated texts, as they do
  in real news. A fingerprint that cannot tell "of the new" from copying will show it here.
* Every article belongs to a *topic*: a language, a handful of named entities (capitalised pseudo-names,
  some of two words) and ~40 topic words that recur in all of the topic's articles. Independent reports
  of the same topic therefore share names and vocabulary but not word sequences.
* Sentences have 8-30 words and end with ``.``; paragraphs have 2-5 sentences separated by blank lines.

A text is held as a :class:`Doc`: a list of tokens and the separator that follows each token, so character
offsets of every word are known exactly and suspect generators can report ground-truth spans.

Suspects
--------
:class:`SuspectMaker` builds suspect texts from registered articles. Each returns a :class:`Suspect` with the
text, the scenario name, the index of the true source article (``None`` when there is no reuse) and the list
of ``(start, end)`` character spans of the suspect that were copied from the source.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import numpy as np

FUNCTION_WORDS = {
    "en": (
        "the of and to in a is that for on was with as by at from he it his said be are an has have "
        "but not this which were had they will their its been who after also more one two about than "
        "new when over into would up other there we she her out all could her or so may our most first"
    ).split(),
    "id": (
        "yang dan di ini itu dengan untuk dari dalam tidak akan pada juga ke ada karena bahwa oleh "
        "saat sudah telah kata para bisa lebih atau masih tersebut hingga setelah agar namun serta "
        "kami mereka menjadi dia tahun hari secara sebagai seperti antara bagi belum sangat"
    ).split(),
}

# Lines that copiers paste between paragraphs (the engine must ignore them, not count them as new text).
BOILERPLATE = {
    "en": (
        "Read more: {h}",
        "Share this article",
        "Editor: {n}",
        "Also read: {h}",
        "Click here to subscribe",
    ),
    "id": ("Baca juga: {h}", "Bagikan artikel ini", "Editor: {n}", "Baca Juga: {h}", "Penulis: {n}"),
}

PUBLISHERS = [
    ("Harian Nusantara", "harian-nusantara.example"),
    ("Kabar Kota", "kabarkota.example"),
    ("Warta Timur", "wartatimur.example"),
    ("The Daily Ledger", "dailyledger.example"),
    ("Coastal Post", "coastalpost.example"),
    ("Metro Wire", "metrowire.example"),
    ("Suara Rakyat", "suararakyat.example"),
    ("Evening Courier", "eveningcourier.example"),
]

_CONS = list("bcdfghjklmnprstvwyz") + ["ng", "ny", "kh", "sy", "tr", "pr", "st"]
_VOWELS = list("aeiou") + ["ia", "au", "ai", "ue"]
_FINALS = ["", "", "", "", "n", "ng", "r", "s", "k", "t", "l", "m", "h"]


# ---------------------------------------------------------------------------------------------------------
# Documents


@dataclasses.dataclass
class Doc:
    """A text as tokens plus the separator that follows each token (the last one is usually "")."""

    tokens: list[str]
    seps: list[str]

    @property
    def text(self) -> str:
        out = [None] * (2 * len(self.tokens))
        out[0::2] = self.tokens
        out[1::2] = self.seps
        return "".join(out)

    def __len__(self) -> int:
        return len(self.tokens)

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end character offset of every token in :attr:`text`."""
        tl = np.fromiter(map(len, self.tokens), dtype=np.int64, count=len(self.tokens))
        sl = np.fromiter(map(len, self.seps), dtype=np.int64, count=len(self.seps))
        ends = np.cumsum(tl + sl) - sl
        return ends - tl, ends

    def sentences(self) -> list[tuple[int, int]]:
        """Token ranges ``[a, b)`` of the sentences (a sentence ends at a separator containing '.')."""
        out, a = [], 0
        for i, s in enumerate(self.seps):
            if "." in s or i == len(self.seps) - 1:
                out.append((a, i + 1))
                a = i + 1
        return out

    def paragraphs(self) -> list[tuple[int, int]]:
        out, a = [], 0
        for i, s in enumerate(self.seps):
            if "\n\n" in s or i == len(self.seps) - 1:
                out.append((a, i + 1))
                a = i + 1
        return out


@dataclasses.dataclass
class Article:
    index: int
    topic: int
    title: str
    url: str
    publisher: str
    doc: Doc
    _text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.doc.text
        return self._text

    def record(self) -> dict:
        """The article as one `checker import` JSONL record."""
        return {
            "title": self.title,
            "url": self.url,
            "publisher": self.publisher,
            "license": "all-rights-reserved",
            "partners": [],
            "text": self.text,
        }


@dataclasses.dataclass
class Suspect:
    scenario: str
    text: str
    source: int | None  # corpus index of the true source article, None when nothing was reused
    spans: list[tuple[int, int]]  # character spans of the suspect copied from the source
    related: int | None = None  # for negatives built around an article (same topic, shared quote)


# ---------------------------------------------------------------------------------------------------------
# Corpus


class Corpus:
    """A deterministic corpus of ``~words``-word articles; article ``i`` depends only on ``(seed, i)``.

    Articles are produced in blocks of :attr:`block` with vectorised sampling; only a few blocks are
    cached, so 100k articles can be streamed without holding them all.
    """

    def __init__(
        self,
        seed: int = 0,
        vocab_size: int = 50_000,
        n_topics: int = 2_000,
        words: int = 600,
        block: int = 1_000,
        zipf_shift: float = 2.7,
        zipf_exponent: float = 1.0,
    ) -> None:
        self.seed = seed
        self.words = words
        self.block = block
        self.n_topics = n_topics
        rng = np.random.default_rng([seed, 1])
        vocab = _make_words(rng, vocab_size, min_syl=1, max_syl=4)
        # frequent words are short (Zipf's law of abbreviation): rank by length, ties in random order
        self.vocab = sorted(vocab, key=len)
        self.vocab_arr = np.array(self.vocab, dtype=object)
        ranks = np.arange(vocab_size, dtype=np.float64)
        p = 1.0 / (ranks + zipf_shift) ** zipf_exponent
        self.vocab_cdf = np.cumsum(p / p.sum())
        self.langs = sorted(FUNCTION_WORDS)
        self.func_arr = {lang: np.array(FUNCTION_WORDS[lang], dtype=object) for lang in self.langs}
        fw_p = {}
        for lang in self.langs:
            q = 1.0 / (np.arange(len(FUNCTION_WORDS[lang])) + 1.5)
            fw_p[lang] = np.cumsum(q / q.sum())
        self.func_cdf = fw_p
        # Topics: language, entity names and topic words. Topics >= n_topics are held out for
        # "unrelated" suspects, so they share nothing topical with any registered article.
        names = _make_words(rng, 8 * (2 * n_topics) * 3, min_syl=2, max_syl=3, exclude=set(self.vocab))
        names = [n.capitalize() for n in names]
        self.topic_lang: list[str] = []
        self.topic_entities: list[np.ndarray] = []
        self.topic_words: list[np.ndarray] = []
        k = 0
        for _ in range(2 * n_topics):
            lang = self.langs[int(rng.integers(len(self.langs)))]
            self.topic_lang.append(lang)
            ents = []
            for _ in range(8):
                u = rng.random()
                if u < 0.4:  # a person or place: "Budi"
                    ents.append(names[k])
                    k += 1
                elif u < 0.8:  # "Budi Santoso"
                    ents.append(names[k] + " " + names[k + 1])
                    k += 2
                else:  # an institution, which independent reports all spell out: "Badan Pengawas Obat dan Makanan"
                    m = int(rng.integers(3, 6))
                    parts = names[k : k + m]
                    k += m
                    parts.insert(m - 1, "of" if lang == "en" else "dan")
                    ents.append(" ".join(parts))
            self.topic_entities.append(np.array(ents, dtype=object))
            # topic words: mid-frequency vocabulary, so they are distinctive but plausible
            self.topic_words.append(self.vocab_arr[rng.integers(200, vocab_size // 2, size=40)])
        self.topic_lang_idx = np.array([self.langs.index(lang) for lang in self.topic_lang])
        self.topic_words_2d = np.array(self.topic_words, dtype=object)
        self.topic_entities_2d = np.array(self.topic_entities, dtype=object)
        self._cache: OrderedDict[int, list[Article]] = OrderedDict()

    # -- public API -----------------------------------------------------------------------------------

    def article(self, i: int) -> Article:
        return self._block(i // self.block)[i % self.block]

    def articles(self, start: int, stop: int) -> Iterator[Article]:
        for i in range(start, stop):
            yield self.article(i)

    def batches(self, start: int, stop: int, size: int) -> Iterator[list[Article]]:
        for a in range(start, stop, size):
            yield [self.article(i) for i in range(a, min(stop, a + size))]

    def new_doc(self, rng: np.random.Generator, topic: int, n_words: int) -> Doc:
        """A fresh text of about ``n_words`` words on ``topic`` (never registered)."""
        return self._make_docs(rng, [topic], np.array([n_words]))[0]

    def headline(self, rng: np.random.Generator, topic: int) -> str:
        n = int(rng.integers(5, 11))
        lang = self.topic_lang[topic]
        words = list(self._sample_tokens(rng, n, lang, topic, p_func=0.2, p_topic=0.3, p_ent=0.0))
        words.insert(int(rng.integers(0, n)), str(rng.choice(self.topic_entities[topic])))
        return " ".join(w[:1].upper() + w[1:] for w in words)

    def _headlines(self, rng: np.random.Generator, topics: np.ndarray) -> list[str]:
        """One headline per topic in ``topics``, sampled together; each names one of the topic's entities."""
        lens = rng.integers(5, 11, size=len(topics))
        words = self._sample_mixed(rng, np.repeat(np.asarray(topics, dtype=np.int64), lens), 0.2, 0.3, 0.0)
        ents = self.topic_entities_2d[
            topics, rng.integers(0, self.topic_entities_2d.shape[1], size=len(topics))
        ]
        out, a = [], 0
        for k, e in zip(lens.tolist(), ents):
            ws = [w[:1].upper() + w[1:] for w in words[a : a + k]]
            ws.insert(k // 2, e)
            out.append(" ".join(ws))
            a += k
        return out

    def entity(self, rng: np.random.Generator, topic: int) -> str:
        return str(rng.choice(self.topic_entities[topic]))

    # -- generation -----------------------------------------------------------------------------------

    def _block(self, b: int) -> list[Article]:
        if b in self._cache:
            self._cache.move_to_end(b)
            return self._cache[b]
        rng = np.random.default_rng([self.seed, 2, b])
        n = self.block
        topics = rng.integers(0, self.n_topics, size=n)
        lengths = np.clip(rng.normal(self.words, self.words / 6, size=n), self.words // 2, self.words * 2)
        docs = self._make_docs(rng, topics, lengths.astype(np.int64))
        pubs = rng.integers(0, len(PUBLISHERS), size=n)
        titles = self._headlines(rng, topics)
        arts = []
        for j in range(n):
            i = b * n + j
            t = int(topics[j])
            pub, dom = PUBLISHERS[int(pubs[j])]
            arts.append(
                Article(
                    index=i,
                    topic=t,
                    title=titles[j],
                    url=f"https://{dom}/news/{t}/{i}",
                    publisher=pub,
                    doc=docs[j],
                )
            )
        self._cache[b] = arts
        while len(self._cache) > 4:
            self._cache.popitem(last=False)
        return arts

    def _sample_tokens(self, rng, n, lang, topic, p_func=0.38, p_topic=0.09, p_ent=0.04) -> np.ndarray:
        """``n`` tokens for one topic: function words, Zipf vocabulary, topic words and entity names."""
        return self._sample_mixed(rng, np.full(n, topic, dtype=np.int64), p_func, p_topic, p_ent)

    def _sample_mixed(self, rng, topic_of, p_func=0.38, p_topic=0.09, p_ent=0.04) -> np.ndarray:
        """One token per entry of ``topic_of`` (the topic of each position), all drawn at once."""
        n = len(topic_of)
        cat = rng.random(n)
        out = self.vocab_arr[
            np.searchsorted(self.vocab_cdf, rng.random(n), side="right").clip(0, len(self.vocab) - 1)
        ]
        f = cat < p_func
        lang_of = self.topic_lang_idx[topic_of]
        for li, lang in enumerate(self.langs):
            m = f & (lang_of == li)
            fa = self.func_arr[lang]
            out[m] = fa[
                np.searchsorted(self.func_cdf[lang], rng.random(int(m.sum())), side="right").clip(
                    0, len(fa) - 1
                )
            ]
        tmask = (cat >= p_func) & (cat < p_func + p_topic)
        out[tmask] = self.topic_words_2d[
            topic_of[tmask], rng.integers(0, self.topic_words_2d.shape[1], size=int(tmask.sum()))
        ]
        emask = (cat >= p_func + p_topic) & (cat < p_func + p_topic + p_ent)
        out[emask] = self.topic_entities_2d[
            topic_of[emask], rng.integers(0, self.topic_entities_2d.shape[1], size=int(emask.sum()))
        ]
        return out

    def _make_docs(self, rng, topics: Sequence[int], lengths: np.ndarray) -> list[Doc]:
        """Vectorised: all tokens of all documents are drawn at once, then cut into sentences."""
        docs = []
        # Sentence lengths and paragraph sizes for each document.
        plans = []
        total = 0
        for n in lengths:
            sl = rng.integers(8, 31, size=int(n) // 8 + 2)
            cs = np.cumsum(sl)
            k = int(np.searchsorted(cs, n)) + 1
            sl = sl[:k]
            plans.append(sl)
            total += int(sl.sum())
        # Draw the tokens of all documents in one go.
        topics = np.asarray(topics, dtype=np.int64)
        sizes = np.array([int(p.sum()) for p in plans])
        toks_all = self._sample_mixed(rng, np.repeat(topics, sizes))
        doc_tokens = np.split(toks_all, np.cumsum(sizes)[:-1])
        for toks, sl in zip(doc_tokens, plans):
            n = len(toks)
            seps = np.full(n, " ", dtype=object)
            ends = np.cumsum(sl) - 1
            starts = np.concatenate(([0], ends[:-1] + 1))
            # capitalise sentence starts
            toks = toks.copy()
            toks[starts] = [w[:1].upper() + w[1:] for w in toks[starts]]
            seps[ends] = ". "
            # paragraphs of 2-5 sentences
            para_sizes = rng.integers(2, 6, size=len(sl))
            pend = np.cumsum(para_sizes)
            pend = pend[pend <= len(sl)] - 1
            seps[ends[pend]] = ".\n\n"
            seps[-1] = "."
            docs.append(Doc(toks.tolist(), seps.tolist()))
        return docs


def _make_words(rng, n, min_syl, max_syl, exclude=frozenset()) -> list[str]:
    """``n`` distinct pronounceable pseudo-words."""
    syl = [c + v + f for c in _CONS for v in _VOWELS for f in _FINALS]
    syl = sorted(set(syl))
    syl_arr = np.array(syl, dtype=object)
    seen: dict[str, None] = {}
    while len(seen) < n:
        m = (n - len(seen)) * 2 + 100
        nsyl = rng.integers(min_syl, max_syl + 1, size=m)
        parts = syl_arr[rng.integers(0, len(syl), size=(m, max_syl))]
        for row, k in zip(parts, nsyl):
            w = "".join(row[:k])
            if 2 < len(w) <= 14 and w not in exclude:
                seen.setdefault(w, None)
                if len(seen) >= n:
                    break
    return list(seen)


# ---------------------------------------------------------------------------------------------------------
# Suspects


def _spans(doc: Doc, copied: np.ndarray) -> list[tuple[int, int]]:
    """Character spans of the runs of copied tokens; runs separated only by punctuation/space merge."""
    if not copied.any():
        return []
    starts, ends = doc.offsets()
    idx = np.flatnonzero(copied)
    breaks = np.flatnonzero(np.diff(idx) > 1)
    run_a = np.concatenate(([idx[0]], idx[breaks + 1]))
    run_b = np.concatenate((idx[breaks], [idx[-1]]))
    return [(int(starts[a]), int(ends[b])) for a, b in zip(run_a, run_b)]


def _concat(*parts: tuple[Doc, bool]) -> tuple[Doc, np.ndarray]:
    toks, seps, flags = [], [], []
    for d, flag in parts:
        if not len(d):
            continue
        if seps:
            # join the previous part with a paragraph break
            seps[-1] = seps[-1].rstrip() + "\n\n" if seps[-1].strip() else ".\n\n"
        toks += d.tokens
        seps += d.seps
        flags += [flag] * len(d)
    return Doc(toks, seps), np.array(flags, dtype=bool)


class SuspectMaker:
    """Builds suspects of each scenario from registered articles of a :class:`Corpus`."""

    REUSE = ("verbatim", "excerpt", "light_edit", "reorder", "boilerplate")
    NO_REUSE = ("same_topic", "unrelated", "shared_quote")

    def __init__(self, corpus: Corpus, seed: int = 0) -> None:
        self.c = corpus
        self.rng = np.random.default_rng([corpus.seed, 3, seed])

    # -- edits ----------------------------------------------------------------------------------------

    def edit(self, doc: Doc, rate: float, flags: np.ndarray | None = None) -> tuple[Doc, np.ndarray]:
        """Edit ``rate`` of the words: substitute, delete or insert a random word (1/3 each).

        Returns the edited doc and, per token, whether it lies in the copied region (edited words inside
        the copied region count as part of the copied passage)."""
        rng = self.rng
        n = len(doc)
        if flags is None:
            flags = np.ones(n, dtype=bool)
        ops = rng.random(n)
        kind = rng.integers(0, 3, size=n)
        toks, seps, fl = [], [], []
        for i in range(n):
            t, s, f = doc.tokens[i], doc.seps[i], bool(flags[i])
            if ops[i] < rate:
                k = kind[i]
                new = self.c.vocab[int(rng.integers(0, 5_000))]
                if t[:1].isupper():
                    new = new.capitalize()
                if k == 0:  # substitute
                    t = new
                elif k == 1:  # delete (keep a sentence/paragraph break on the previous word)
                    if toks and s.strip(" "):
                        seps[-1] = s
                    if toks or i + 1 < n:
                        continue
                else:  # insert before
                    toks.append(new)
                    seps.append(" ")
                    fl.append(f)
            toks.append(t)
            seps.append(s)
            fl.append(f)
        return Doc(toks, seps), np.array(fl, dtype=bool)

    # -- scenarios ------------------------------------------------------------------------------------

    def verbatim(self, a: Article) -> Suspect:
        return Suspect("verbatim", a.text, a.index, [(0, len(a.text))])

    def excerpt(self, a: Article, rate: float = 0.05, words: tuple[int, int] = (80, 150)) -> Suspect:
        """``words`` (a range) consecutive words of ``a`` with ``rate`` of them edited, in the middle of a
        new, unrelated text."""
        rng = self.rng
        k = int(rng.integers(words[0], words[1] + 1))
        n = len(a.doc)
        s = int(rng.integers(0, max(1, n - k)))
        piece = Doc(a.doc.tokens[s : s + k], a.doc.seps[s : s + k])
        piece.tokens[0] = piece.tokens[0][:1].upper() + piece.tokens[0][1:]
        piece.seps[-1] = "."
        piece, pflags = self.edit(piece, rate)
        topic = self._other_topic(a.topic, same_lang=True)  # the copier's own story, in the same language
        before = self.c.new_doc(rng, topic, int(rng.integers(100, 350)))
        after = self.c.new_doc(rng, topic, int(rng.integers(100, 350)))
        doc, flags = _concat((before, False), (piece, True), (after, False))
        return Suspect("excerpt", doc.text, a.index, _spans(doc, flags))

    def light_edit(self, a: Article, rate: float = 0.05) -> Suspect:
        doc, flags = self.edit(a.doc, rate)
        return Suspect("light_edit", doc.text, a.index, _spans(doc, flags))

    def reorder(self, a: Article) -> Suspect:
        """All sentences of ``a``, shuffled (paragraph breaks redrawn)."""
        sents = a.doc.sentences()
        order = self.rng.permutation(len(sents))
        toks, seps = [], []
        for j, si in enumerate(order):
            x, y = sents[si]
            toks += a.doc.tokens[x:y]
            seps += [" "] * (y - x - 1) + [".\n\n" if j % 3 == 2 else ". "]
        seps[-1] = "."
        doc = Doc(toks, seps)
        return Suspect("reorder", doc.text, a.index, _spans(doc, np.ones(len(doc), dtype=bool)))

    def boilerplate(self, a: Article) -> Suspect:
        """``a`` with copier boilerplate lines ("Baca juga: <headline>", share text, editor) between paragraphs."""
        rng = self.rng
        lang = self.c.topic_lang[a.topic]
        toks, seps, flags = [], [], []
        paras = a.doc.paragraphs()
        for j, (x, y) in enumerate(paras):
            toks += a.doc.tokens[x:y]
            seps += a.doc.seps[x:y]
            flags += [True] * (y - x)
            if j + 1 < len(paras) and rng.random() < 0.6:
                tmpl = BOILERPLATE[lang][int(rng.integers(len(BOILERPLATE[lang])))]
                # "Baca juga" links to another story of the same site, so in the same language
                other = self._other_topic(a.topic, same_lang=True)
                line = tmpl.format(h=self.c.headline(rng, other), n=self.c.entity(rng, a.topic))
                seps[-1] = ".\n\n"
                words = line.split(" ")
                toks += words
                seps += [" "] * (len(words) - 1) + ["\n\n"]
                flags += [False] * len(words)
        seps[-1] = "."
        doc = Doc(toks, seps)
        return Suspect("boilerplate", doc.text, a.index, _spans(doc, np.array(flags)))

    def same_topic(self, a: Article) -> Suspect:
        """Independent reporting: same entities and topic words, fresh sentences. Not reuse."""
        doc = self.c.new_doc(self.rng, a.topic, len(a.doc))
        return Suspect("same_topic", doc.text, None, [], related=a.index)

    def unrelated(self, n_words: int | None = None) -> Suspect:
        rng = self.rng
        topic = int(rng.integers(self.c.n_topics, 2 * self.c.n_topics))  # held-out topic
        n = n_words or int(
            np.clip(rng.normal(self.c.words, self.c.words / 6), self.c.words // 2, 2 * self.c.words)
        )
        return Suspect("unrelated", self.c.new_doc(rng, topic, n).text, None, [])

    def shared_quote(self, a: Article) -> Suspect:
        """An independent same-topic report that quotes one 12-30 word sentence of ``a`` in quotation
        marks: direct quotation alone is not reuse."""
        rng = self.rng
        sents = [(x, y) for x, y in a.doc.sentences() if 12 <= y - x <= 30] or a.doc.sentences()
        x, y = sents[int(rng.integers(len(sents)))]
        quote = " ".join(a.doc.tokens[x:y])
        who = self.c.entity(rng, a.topic)
        said = "said" if self.c.topic_lang[a.topic] == "en" else "kata"
        before = self.c.new_doc(rng, a.topic, int(rng.integers(150, 300)))
        after = self.c.new_doc(rng, a.topic, int(rng.integers(150, 300)))
        text = f'{before.text}\n\n"{quote}," {said} {who}.\n\n{after.text}'
        return Suspect("shared_quote", text, None, [], related=a.index)

    def make(self, scenario: str, a: Article | None) -> Suspect:
        if scenario == "unrelated":
            return self.unrelated()
        return getattr(self, scenario)(a)

    def _other_topic(self, topic: int, same_lang: bool = False) -> int:
        """A held-out topic (never registered), optionally in the language of ``topic``."""
        while True:
            t = int(self.rng.integers(self.c.n_topics, 2 * self.c.n_topics))
            if t != topic and (not same_lang or self.c.topic_lang[t] == self.c.topic_lang[topic]):
                return t


def suspect_set(corpus: Corpus, n_registered: int, counts: dict[str, int], seed: int = 0) -> list[Suspect]:
    """Suspects per scenario; sources drawn uniformly from articles ``[0, n_registered)``, shuffled."""
    maker = SuspectMaker(corpus, seed)
    rng = np.random.default_rng([corpus.seed, 4, seed])
    plan = []
    for scen, k in counts.items():
        src = rng.integers(0, n_registered, size=k)
        plan += [(scen, int(i)) for i in src]
    # generate in source order so corpus blocks are reused from the cache
    plan.sort(key=lambda p: p[1])
    out = [maker.make(scen, corpus.article(i)) for scen, i in plan]
    order = rng.permutation(len(out))
    return [out[i] for i in order]


if __name__ == "__main__":  # quick look at the text and the generator's speed
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    c = Corpus(seed=0)
    t1 = time.perf_counter()
    words = 0
    for a in c.articles(0, n):
        words += len(a.doc)
        _ = a.text  # generate it: its cost is part of the timing
    t2 = time.perf_counter()
    print(f"vocab {t1 - t0:.2f}s; {n} articles, {words / n:.0f} words avg, {t2 - t1:.2f}s", file=sys.stderr)
    a = c.article(0)
    print(a.title, a.url, a.publisher, sep="\n")
    print(a.text[:1500])
    m = SuspectMaker(c)
    for scen in SuspectMaker.REUSE + SuspectMaker.NO_REUSE:
        s = m.make(scen, a)
        print(f"\n=== {scen} source={s.source} spans={s.spans[:4]} len={len(s.text)}")
        print(s.text[:600])
