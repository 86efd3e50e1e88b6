"""The registry: articles in the database, their keys in the passage index, scans recorded.

This is the edge where the pure engine meets storage. Writes go to the database first and to the
index second; on opening, :meth:`Registry.sync_index` reconciles the two (indexing articles that a
crash left out, dropping entries of deleted ones), so the database stays the single source of truth.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import delete, func, insert, select, update

from checker import validate
from checker.errors import NotFound
from checker.fingerprint import fingerprint
from checker.index import PassageIndex, SchemeMismatch, open_index
from checker.matcher import IndexedArticle, scan_text
from checker.models import Article, Scan, article_search, same_org
from checker.normalize import normalize
from checker.records import ArticleIn, ArticleRef, ScanResult
from checker.scans import match_row
from checker.settings import Settings
from checker.store import init_db, make_engine, private_dir, session_factory
from checker.textio import check_text, clean_text

LOGGER = logging.getLogger(__name__)

# Registered articles kept normalised and fingerprinted in memory for alignment. A related suspect
# needs one or two; 4096 covers a busy publisher's recent output in a few tens of MB.
ARTICLE_CACHE_SIZE = 4096
# Articles per database round trip and index segment when registering in bulk.
REGISTER_BATCH = 500


def single_threaded_blas() -> None:
    """Limit BLAS (numpy's matrix products) to one thread in this process. Alignment multiplies many
    small sentence matrices: extra BLAS threads only spin, and where scans already run side by side
    (Celery workers, ``scan-batch`` processes) they fight those for the cores: on the 2-core machine,
    one ``scan-batch`` process kept 1.5 cores busy for the work of one."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Registered:
    """Outcome of registering one article: its id, and whether it was already there."""

    id: int
    existing: bool = False


def _ref(row) -> ArticleRef:
    return ArticleRef(
        id=row.id,
        title=row.title,
        url=row.url,
        publisher=row.publisher,
        license=row.license,
        partners=tuple(row.partners or ()),
        published_at=row.published_at,
        org_id=row.org_id,
        required_credit=row.required_credit,
        aliases=tuple(row.aliases or ()),
    )


class Registry:
    """Register articles, scan texts, record scans. One per process; not thread-safe for writes."""

    def __init__(self, settings: Settings, index: PassageIndex | None = None, *, sync: bool = True,
                 drop_shared_index: bool = False) -> None:
        """Open the database and the index. A shared (Redis) index built with another fingerprint
        scheme is refused unless ``drop_shared_index`` (what `checker index rebuild` passes): other
        processes may be using it, so it is never dropped implicitly."""
        self.settings = settings
        single_threaded_blas()
        if not settings.index_url:
            private_dir(settings.data_dir)  # the local index lives there, whatever the database
        self.engine = make_engine(settings.database_url)
        init_db(self.engine)
        self.Session = session_factory(self.engine)
        self.index = index if index is not None else self._open_index(drop_shared_index)
        self._cache: OrderedDict[int, IndexedArticle] = OrderedDict()
        if sync:
            self.sync_index()

    def _open_index(self, drop_shared: bool) -> PassageIndex:
        """Never mix schemes: a local index of another scheme is dropped (sync_index rebuilds it);
        a shared one only when asked to."""
        config = self.settings.index_config
        try:
            return open_index(config, self.settings.scheme)
        except SchemeMismatch as exc:
            if config["type"] == "memory":
                LOGGER.warning("%s; rebuilding it from the database", exc)
                shutil.rmtree(self.settings.index_dir)
            elif drop_shared:
                import redis

                from checker.index_redis import drop

                LOGGER.warning("%s; dropping it to rebuild", exc)
                drop(redis.Redis.from_url(config["url"]), config["prefix"])
            else:
                raise
            return open_index(config, self.settings.scheme)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- articles ----------------------------------------------------------------------------------
    def _validate(self, article: ArticleIn) -> dict:
        """The row to insert for ``article``, every field checked by :func:`checker.validate.article`."""
        a = validate.article(article, self.settings.max_text_chars)
        return {
            "title": a.title,
            "url": a.url,
            "publisher": a.publisher,
            "license": a.license,
            "partners": list(a.partners),
            "published_at": a.published_at,
            "required_credit": a.required_credit,
            "aliases": list(a.aliases) or None,
            "text": a.text,
            "text_sha256": text_digest(a.text),
            "fingerprint_version": self.settings.scheme.version,
        }

    def register(self, article: ArticleIn, *, org_id: int | None = None) -> int:
        """Register one article; returns its id."""
        return self.register_many([article], org_id=org_id)[0].id

    def _existing(self, session, rows: list[dict]) -> dict[str, int]:
        """Already registered articles among ``rows``, keyed by url (or text hash when there is no url)."""
        org = rows[0]["org_id"] if rows else None
        in_org = same_org(Article.org_id, org)
        urls = [r["url"] for r in rows if r["url"]]
        digests = [r["text_sha256"] for r in rows if not r["url"]]
        found: dict[str, int] = {}
        if urls:
            for id_, url in session.execute(select(Article.id, Article.url).where(in_org, Article.url.in_(urls))):
                found[url] = id_
        if digests:
            stmt = select(Article.id, Article.text_sha256).where(in_org, Article.url.is_(None), Article.text_sha256.in_(digests))
            for id_, digest in session.execute(stmt):
                found[digest] = id_
        return found

    def register_many(
        self,
        articles: Iterable[ArticleIn],
        *,
        skip_existing: bool = False,
        progress: Callable[[int], None] | None = None,
        org_id: int | None = None,
    ) -> list[Registered]:
        """Register articles in batches: one INSERT and one index segment per batch.

        With ``skip_existing``, an article whose url (or, without a url, whose text) is already
        registered is not registered again, which makes a re-run of an import resume where it stopped.
        """
        out: list[Registered] = []
        for batch in _batches(articles, REGISTER_BATCH):
            rows = [{**self._validate(a), "org_id": org_id} for a in batch]
            out.extend(self._register_batch(rows, skip_existing))
            if progress:
                progress(len(batch))
        return out

    def _register_batch(self, rows: list[dict], skip_existing: bool) -> list[Registered]:
        docs = [normalize(r["text"]) for r in rows]
        for r, doc in zip(rows, docs):
            r["word_count"] = len(doc)
        with self.Session.begin() as session:
            existing = self._existing(session, rows) if skip_existing else {}
            keys = [r["url"] or r["text_sha256"] for r in rows]
            # Within the batch too, the first of several identical articles is the one registered.
            first_of: dict[str, int] = {}
            for n, key in enumerate(keys):
                if key not in existing:
                    first_of.setdefault(key, n)
            new_rows = [r for n, r in enumerate(rows) if not skip_existing or first_of.get(keys[n]) == n]
            new_ids: list[int] = []
            if new_rows:
                now = datetime.now(timezone.utc)
                for r in new_rows:
                    r["created_at"] = r["updated_at"] = now
                result = session.execute(insert(Article).returning(Article.id, sort_by_parameter_order=True), new_rows)
                new_ids = [row[0] for row in result]
        ids = iter(new_ids)
        outcomes: list[Registered] = []
        for n, key in enumerate(keys):
            if skip_existing and key in existing:
                outcomes.append(Registered(existing[key], True))
            elif skip_existing and first_of[key] != n:
                outcomes.append(Registered(outcomes[first_of[key]].id, True))
            else:
                outcomes.append(Registered(next(ids)))
        additions = []
        for doc, outcome in zip(docs, outcomes, strict=True):
            if not outcome.existing:
                fp = fingerprint(doc, self.settings.scheme)
                additions.append((outcome.id, fp.keys))
        if additions:
            self.index.add(additions)
            self.index.save()
        return outcomes

    def get_article(self, article_id: int) -> Article:
        with self.Session() as session:
            article = session.get(Article, article_id)
            if article is None:
                raise NotFound(f"no article with id {article_id}")
            return article

    def list_articles(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[Article]:
        stmt = select(Article).order_by(Article.id.desc()).limit(limit).offset(offset)
        if query:
            stmt = stmt.where(article_search(query))
        with self.Session() as session:
            return list(session.scalars(stmt))

    def count_articles(self) -> int:
        with self.Session() as session:
            return session.scalar(select(func.count(Article.id))) or 0

    def delete_article(self, article_id: int) -> None:
        with self.Session.begin() as session:
            if session.execute(delete(Article).where(Article.id == article_id)).rowcount == 0:
                raise NotFound(f"no article with id {article_id}")
        self.index.remove([article_id])
        self.index.save()
        self._cache.pop(article_id, None)

    # -- index -------------------------------------------------------------------------------------
    def sync_index(self) -> tuple[int, int]:
        """Make the index hold exactly the database's articles; returns ``(added, removed)``."""
        with self.Session() as session:
            db_ids = np.asarray(session.scalars(select(Article.id)).all(), dtype=np.int64)
        indexed = self.index.article_ids()
        missing = np.setdiff1d(db_ids, indexed)
        stale = np.setdiff1d(indexed, db_ids)
        if len(stale):
            self.index.remove(stale.tolist())
        for chunk in np.array_split(missing, max(1, len(missing) // REGISTER_BATCH + 1)):
            if len(chunk):
                self._index_articles(chunk.tolist())
        if len(missing) or len(stale):
            LOGGER.info("index synced with database: %d added, %d removed", len(missing), len(stale))
            self.index.save()
        return len(missing), len(stale)

    def rebuild_index(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop the index and fingerprint every article again (after a scheme change)."""
        self.index.clear()
        with self.Session() as session:
            ids = session.scalars(select(Article.id).order_by(Article.id)).all()
        for chunk in _batches(ids, REGISTER_BATCH):
            self._index_articles(chunk)
            if progress:
                progress(len(chunk))
        self.index.save()
        with self.Session.begin() as session:
            session.execute(update(Article).values(fingerprint_version=self.settings.scheme.version))
        return len(ids)

    def _index_articles(self, ids: list[int]) -> None:
        with self.Session() as session:
            rows = session.execute(select(Article.id, Article.text).where(Article.id.in_(ids))).all()
        self.index.add((id_, fingerprint(normalize(text), self.settings.scheme).keys) for id_, text in rows)

    # -- scanning ----------------------------------------------------------------------------------
    def load_articles(self, ids: list[int], org_id: int | None = None) -> list[IndexedArticle]:
        """Candidate articles, normalised and fingerprinted (cached), in the order of ``ids``; with
        ``org_id``, only that organisation's articles (another publisher's are never shown)."""
        missing = [i for i in ids if i not in self._cache]
        if missing:
            columns = [Article.id, Article.title, Article.url, Article.publisher, Article.license, Article.partners,
                       Article.published_at, Article.org_id, Article.required_credit, Article.aliases, Article.text]
            with self.Session() as session:  # plain rows, not ORM objects: this is on every scan's path
                for row in session.execute(select(*columns).where(Article.id.in_(missing))):
                    self._cache[row.id] = IndexedArticle.build(_ref(row), row.text, self.settings.scheme)
                    if len(self._cache) > ARTICLE_CACHE_SIZE:
                        self._cache.popitem(last=False)
        out = []
        for i in ids:
            article = self._cache.get(i)
            if article is not None and (org_id is None or article.ref.org_id == org_id):
                self._cache.move_to_end(i)
                out.append(article)
        return out

    def scan(
        self,
        text: str,
        url: str | None = None,
        *,
        published_at: datetime | None = None,
        links: Iterable[str] = (),
        org_id: int | None = None,
    ) -> ScanResult:
        """Scan ``text`` (found at ``url``, if known) against the registered articles (of ``org_id``)."""
        text = check_text(text, self.settings.max_text_chars, "suspect text")
        return scan_text(
            text,
            self.index,
            lambda ids: self.load_articles(ids, org_id),
            url=url,
            published_at=published_at,
            links=links,
            cfg=self.settings.match,
        )

    def record_scan(self, text: str, url: str | None, result: ScanResult, *, org_id: int | None = None,
                    source: str = "text") -> int:
        """Store a finished (synchronous) scan with its matches and passages; returns the scan id."""
        return self.record_scans([(text, url, result)], org_id=org_id, source=source)[0]

    def record_scans(self, items: list[tuple[str, str | None, ScanResult]], *, org_id: int | None = None,
                     source: str = "text") -> list[int]:
        """Store finished scans in one transaction (one batched INSERT per table)."""
        now = datetime.now(timezone.utc)
        rows = []
        for text, url, result in items:
            scan = Scan(status="done", source=source, org_id=org_id, text=clean_text(text), url=url, verdict=result.verdict,
                        result=result.to_dict(), started_at=now, finished_at=now)
            scan.matches = [match_row(None, m, url) for m in result.matches]
            rows.append(scan)
        with self.Session.begin() as session:
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows]


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
