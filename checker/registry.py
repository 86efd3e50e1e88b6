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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import ColumnElement, Row, delete, event, func, insert, select, true, update
from sqlalchemy.orm import Session

from checker import migrate, validate
from checker.errors import InputError, NotFound
from checker.fingerprint import fingerprint
from checker.index import PassageIndex, SchemeMismatch, open_index
from checker.match_options import DEFAULT_OPTIONS, MatchOptions
from checker.matcher import IndexedArticle, scan_text
from checker.models import Article, Scan, article_search, same_org
from checker.normalize import Document, normalize
from checker.orgs import ADOPTED_ARTICLES, match_options_for
from checker.partition import OrgView, org_keys, partition_of
from checker.prepare import Preparer
from checker.records import ARTICLE_FIELDS, ArticleIn, ArticleRef, ScanResult
from checker.scans import match_row
from checker.settings import Settings
from checker.store import make_engine, private_dir, rowcount, session_factory
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


# What a re-registration may change, in the order messages name them.
UPDATABLE = (*(f for f in ARTICLE_FIELDS if f != "text"), "text")
FIELD_LABELS = {
    "published_at": "publication date",
    "required_credit": "required credit",
    "license": "licence",
}


@dataclass(frozen=True, slots=True)
class Registered:
    """Outcome of registering one article: its id, whether it was already there, and which of its
    fields this registration changed (a re-registration updates the fields it was given)."""

    id: int
    existing: bool = False
    changed: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """One line for the user: "registered as #3", "already registered as #3; updated: required
        credit, aliases" or "already registered as #3; nothing changed"."""
        if not self.existing:
            return f"registered as #{self.id}"
        if not self.changed:
            return f"already registered as #{self.id}; nothing changed"
        return f"already registered as #{self.id}; updated: " + ", ".join(
            FIELD_LABELS.get(f, f).replace("_", " ") for f in self.changed
        )


def given_fields(a: ArticleIn) -> frozenset[str]:
    """The fields of ``a`` a re-registration copies onto the registered article."""
    if a.given is not None:
        return frozenset(a.given) & frozenset(UPDATABLE) | {"text"}
    defaults = {"license": "all-rights-reserved"}
    return frozenset(
        f
        for f in UPDATABLE
        if f in ("title", "text") or getattr(a, f) not in (None, "", (), [], defaults.get(f))
    )


# What registration compares an article by and may change in it.
_KEY_COLUMNS = (Article.id, Article.url_key, Article.text_sha256, *(getattr(Article, f) for f in UPDATABLE))


def _apply_changes(rec: dict[str, Any], row: dict[str, Any], fields: Iterable[str]) -> tuple[str, ...]:
    """Copy onto ``rec`` (a registered article's values) those of ``fields`` in which ``row`` (the
    validated new values) differs, with the url key and text digest that follow; returns them in
    :data:`UPDATABLE` order. A url is another one only if its canonical form is: the stored spelling
    stays when only the spelling differs."""
    fields = frozenset(fields)
    changed = tuple(
        f
        for f in UPDATABLE
        if f in fields and (rec["url_key"] != row["url_key"] if f == "url" else rec[f] != row[f])
    )
    for f in changed:
        rec[f] = row[f]
    if "url" in changed:
        rec["url_key"] = row["url_key"]
    if "text" in changed:
        rec["text_sha256"] = row["text_sha256"]
    return changed


def _refuse_clash(row: dict[str, Any], others: list[dict[str, Any]]) -> None:
    """InputError when one of ``others`` (other articles of the organisation) has ``row``'s canonical
    url or text: an edit must not make two articles that registration could not tell apart."""
    for other in others:
        if row["url_key"] and other["url_key"] == row["url_key"]:
            raise InputError(f"article #{other['id']} ({other['title']}) already has the URL {row['url']}")
    for other in others:
        if other["text_sha256"] == row["text_sha256"]:
            raise InputError(f"article #{other['id']} ({other['title']}) already has this text")


def _ref(row: Row[*tuple[Any, ...]]) -> ArticleRef:
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

    def __init__(
        self,
        settings: Settings,
        index: PassageIndex | None = None,
        *,
        sync: bool = True,
        drop_shared_index: bool = False,
    ) -> None:
        """Open the database and the index. A shared (Redis) index built with another fingerprint
        scheme is refused unless ``drop_shared_index`` (what `checker index rebuild` passes): other
        processes may be using it, so it is never dropped implicitly."""
        self.settings = settings
        single_threaded_blas()
        if not settings.index_url:
            private_dir(settings.data_dir)  # the local index lives there, whatever the database
        self.engine = make_engine(settings.database_url)
        try:
            migrate.upgrade(self.engine, auto=settings.auto_migrate)
        except BaseException:
            self.engine.dispose()  # the caller never gets a registry to close
            raise
        self.Session = session_factory(self.engine)
        event.listen(self.Session, "after_commit", self._after_commit)
        self.index = index if index is not None else self._open_index(drop_shared_index)
        self._cache: OrderedDict[int, IndexedArticle] = OrderedDict()
        self._preparer: Preparer | None = None  # see prepare_in_parallel
        self._mostly_new = True  # the last registered batch was mostly new articles (see register_many)
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
                from checker.index_redis import drop

                LOGGER.warning("%s; dropping it to rebuild", exc)
                drop(config["url"], config["prefix"])  # a URL: one server or a cluster
            else:
                raise
            return open_index(config, self.settings.scheme)

    def close(self) -> None:
        if self._preparer is not None:
            self._preparer.close()
            self._preparer = None
        self.engine.dispose()

    def prepare_in_parallel(self, workers: int | None = None) -> bool:
        """Start the processes that fingerprint registrations now, kept until :meth:`close`, for a
        process about to register many articles in many calls (``checker import``, the benchmark).
        Call it before starting any thread (a progress bar's): a process with threads does not fork.
        True if the processes started."""
        if self._preparer is None:
            self._preparer = Preparer(self.settings.scheme, workers)
        return self._preparer.start()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- articles ----------------------------------------------------------------------------------
    def _validate(self, article: ArticleIn) -> dict[str, Any]:
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
            "url_key": validate.canonical_url(a.url),
            "_given": given_fields(a),
        }

    def register(self, article: ArticleIn, *, org_id: int | None = None) -> int:
        """Register one article (or update the one already registered, see :meth:`register_many`);
        returns its id."""
        return self.register_many([article], skip_existing=True, org_id=org_id)[0].id

    def _existing(self, session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The organisation's registered articles that share a canonical url or a text with ``rows``."""
        org = rows[0]["org_id"] if rows else None
        keys = list({r["url_key"] for r in rows if r["url_key"]})
        digests = list({r["text_sha256"] for r in rows})
        found: dict[int, dict[str, Any]] = {}
        # Two queries, not one OR: each is an indexed IN lookup.
        for cond in ([Article.url_key.in_(keys)] if keys else []) + [Article.text_sha256.in_(digests)]:
            for row in session.execute(select(*_KEY_COLUMNS).where(same_org(Article.org_id, org), cond)):
                found.setdefault(row.id, dict(row._mapping))
        return sorted(found.values(), key=lambda r: r["id"])

    def register_many(
        self,
        articles: Iterable[ArticleIn],
        *,
        skip_existing: bool = False,
        progress: Callable[[int], None] | None = None,
        org_id: int | None = None,
        workers: int | None = None,
        ahead: Sequence[ArticleIn] = (),
    ) -> list[Registered]:
        """Register articles in batches: one INSERT and one index segment per batch. The new texts of a
        batch are fingerprinted on ``workers`` processes (default: one per CPU) where this process may
        fork (:mod:`checker.prepare`), the next batch's while this one is inserted and indexed, as long
        as the last batch was mostly new articles (a re-run of an import, whose articles are mostly
        registered already, fingerprints only what it registers). ``ahead``: the articles the caller
        will register next (an import registering a chunk at a time), fingerprinted in the same way
        during this call's last batch.

        With ``skip_existing`` (what every interface passes), registering is idempotent within the
        organisation: an article whose canonical url (:func:`checker.validate.canonical_url`) or, failing
        that, whose text is already registered is not registered again; the registered one gets the
        fields this registration was given (:func:`given_fields`) and :attr:`Registered.changed` names
        those that differed. A new text for the same url replaces the old one and is fingerprinted
        again. A re-run of an import therefore resumes where it stopped. Without it (bench/), every
        article is a new one.
        """
        out: list[Registered] = []
        with (
            nullcontext(self._preparer)
            if self._preparer and workers is None
            else Preparer(self.settings.scheme, workers)
        ) as preparer:
            batches = _batches(articles, REGISTER_BATCH)
            batch = next(batches, None)
            while batch is not None:
                following = next(batches, None)
                rows = [{**self._validate(a), "org_id": org_id} for a in batch]
                # The next batch's texts, fingerprinted while this one is stored (the caller's next chunk
                # only when the pool outlives this call).
                upcoming = following or (ahead if preparer is self._preparer else ())
                texts = (
                    [t for t in map(self._text_to_index, upcoming) if t is not None]
                    if self._mostly_new
                    else []
                )
                out.extend(self._register_batch(rows, skip_existing, preparer, texts))
                if progress:
                    progress(len(batch))
                batch = following
        return out

    def _text_to_index(self, article: ArticleIn) -> str | None:
        """The text that registering ``article`` would fingerprint, or None when it would be refused."""
        try:
            return validate.article_text(article, self.settings.max_text_chars)
        except InputError:
            return None

    def _register_batch(
        self, rows: list[dict[str, Any]], skip_existing: bool, preparer: Preparer, upcoming: list[str]
    ) -> list[Registered]:
        now = datetime.now(UTC)
        with self.Session.begin() as session:
            targets: dict[
                str, dict[str, Any]
            ] = {}  # "u:<url key>" / "d:<digest>" -> the article's current values

            def remember(rec: dict[str, Any]) -> None:
                if rec["url_key"]:
                    targets["u:" + rec["url_key"]] = rec
                targets.setdefault("d:" + rec["text_sha256"], rec)

            if skip_existing:
                for known in self._existing(session, rows):
                    remember(known)
            new_rows: list[dict[str, Any]] = []
            dirty: dict[
                int, tuple[dict[str, Any], set[str]]
            ] = {}  # existing article id -> (its values, fields changed)
            steps: list[tuple[dict[str, Any], bool, tuple[str, ...]]] = []
            for row in rows:
                given = row.pop("_given")
                rec: dict[str, Any] | None = None
                if skip_existing:
                    rec = (targets.get("u:" + row["url_key"]) if row["url_key"] else None) or targets.get(
                        "d:" + row["text_sha256"]
                    )
                if rec is None:
                    new_rows.append(row)
                    if skip_existing:
                        remember(row)
                    steps.append((row, False, ()))
                    continue
                changed = _apply_changes(rec, row, given)
                remember(rec)
                if "id" in rec and changed:
                    dirty.setdefault(rec["id"], (rec, set()))[1].update(changed)
                steps.append((rec, True, changed))
            prepared = preparer.map([r["text"] for r in new_rows], ahead=upcoming)
            for r, (word_count, _) in zip(new_rows, prepared):
                r["word_count"] = word_count
                r["created_at"] = r["updated_at"] = now
            if new_rows:
                result = session.execute(
                    insert(Article).returning(Article.id, sort_by_parameter_order=True), new_rows
                )
                for r, (id_,) in zip(new_rows, result, strict=True):
                    r["id"] = id_
            reindex = {
                id_: self._write_changes(session, id_, rec, fields, now)
                for id_, (rec, fields) in dirty.items()
            }
        self._index_changes(dirty, reindex, [(r["id"], keys) for r, (_, keys) in zip(new_rows, prepared)])
        self._mostly_new = 2 * len(new_rows) >= len(rows)
        return [Registered(rec["id"], existing, changed) for rec, existing, changed in steps]

    def _write_changes(
        self, session: Session, article_id: int, rec: dict[str, Any], fields: Iterable[str], now: datetime
    ) -> Document | None:
        """UPDATE the article with ``rec``'s values of ``fields`` (and what follows from them: the url key;
        for a new text its digest, word count and fingerprint scheme). Returns the new text normalised
        when the text changed (it must be indexed again, see :meth:`_index_changes`), else None."""
        fields = set(fields)
        values = {f: rec[f] for f in fields}
        doc = None
        if "url" in fields:
            values["url_key"] = rec["url_key"]
        if "text" in fields:
            doc = normalize(rec["text"])
            values |= {
                "text_sha256": rec["text_sha256"],
                "word_count": len(doc),
                "fingerprint_version": self.settings.scheme.version,
            }
        session.execute(update(Article).where(Article.id == article_id).values(**values, updated_at=now))
        return doc

    def _index_changes(
        self, changed: Iterable[int], reindex: dict[int, Document | None], new: list[tuple[int, np.ndarray]]
    ) -> None:
        """After the database commit: forget the cached copies of ``changed`` articles, replace the index
        entries of those whose text changed (``reindex`` maps them to their new normalised text; None:
        unchanged) and add the ``new`` ones (id, fingerprint keys)."""
        for id_ in changed:
            self._cache.pop(id_, None)
        texts = {id_: doc for id_, doc in reindex.items() if doc is not None}
        if texts:
            self.index.remove(list(texts))
        todo = [*new, *((id_, fingerprint(doc, self.settings.scheme).keys) for id_, doc in texts.items())]
        orgs = self._orgs_of([id_ for id_, _ in todo])
        additions = [(id_, org_keys(keys, orgs[id_])) for id_, keys in todo]
        if additions:
            self.index.add(additions)
            self.index.save()

    def _orgs_of(self, ids: list[int]) -> dict[int, int | None]:
        """Each article's organisation (its index partition: checker.partition)."""
        if not ids:
            return {}
        with self.Session() as session:
            return dict(session.execute(select(Article.id, Article.org_id).where(Article.id.in_(ids))).all())

    def _reindex(self, ids: list[int]) -> None:
        """Index these articles again, under their organisation now (after it changed: adoption)."""
        if ids:
            self.index.remove(ids)
            self._index_articles(ids)
            self.index.save()
            for id_ in ids:
                self._cache.pop(id_, None)

    def _after_commit(self, session: Session) -> None:
        """Articles the default organisation adopted in this commit move to its index partition."""
        adopted = session.info.pop(ADOPTED_ARTICLES, None)
        if adopted:
            self._reindex(sorted(adopted))

    def update_article(self, article_id: int, article: ArticleIn, *, org_id: int | None = None) -> Registered:
        """Edit a registered article in place (the dashboard's Edit page): every field of ``article``
        replaces the stored one (a blank one clears it), checked as a registration is; a new text is
        fingerprinted again and its index entries replace the old text's, so scans of the old text no
        longer find it. Registration finds an article by its canonical url and its text, so another
        article of the organisation that already has either is an InputError naming it; an id that is
        not the organisation's is NotFound. :attr:`Registered.changed` names the fields that changed."""
        row = self._validate(article)
        row.pop("_given")
        with self.Session.begin() as session:
            found = session.execute(
                select(*_KEY_COLUMNS, Article.org_id).where(Article.id == article_id, self._in(org_id))
            ).first()
            if found is None:
                raise NotFound(f"no article with id {article_id}")
            rec = dict(found._mapping)
            _refuse_clash(
                row,
                [
                    r
                    for r in self._existing(session, [{**row, "org_id": rec["org_id"]}])
                    if r["id"] != article_id
                ],
            )
            changed = _apply_changes(rec, row, UPDATABLE)
            doc = (
                self._write_changes(session, article_id, rec, changed, datetime.now(UTC)) if changed else None
            )
        self._index_changes([article_id], {article_id: doc}, [])
        return Registered(article_id, True, changed)

    # ``org_id`` on the methods below: only that organisation's articles; None: every article.
    @staticmethod
    def _in(org_id: int | None) -> ColumnElement[bool]:
        return true() if org_id is None else Article.org_id == org_id

    def get_article(self, article_id: int, org_id: int | None = None) -> Article:
        with self.Session() as session:
            article = session.scalar(select(Article).where(Article.id == article_id, self._in(org_id)))
            if article is None:
                raise NotFound(f"no article with id {article_id}")
            return article

    def list_articles(
        self, *, limit: int = 50, offset: int = 0, query: str | None = None, org_id: int | None = None
    ) -> list[Article]:
        stmt = select(Article).where(self._in(org_id)).order_by(Article.id.desc()).limit(limit).offset(offset)
        if query:
            stmt = stmt.where(article_search(query))
        with self.Session() as session:
            return list(session.scalars(stmt))

    def count_articles(self, org_id: int | None = None) -> int:
        with self.Session() as session:
            return session.scalar(select(func.count(Article.id)).where(self._in(org_id))) or 0

    def delete_article(self, article_id: int, org_id: int | None = None) -> None:
        with self.Session.begin() as session:
            if (
                rowcount(session.execute(delete(Article).where(Article.id == article_id, self._in(org_id))))
                == 0
            ):
                raise NotFound(f"no article with id {article_id}")
        self.index.remove([article_id])
        self.index.save()
        self._cache.pop(article_id, None)

    # -- index -------------------------------------------------------------------------------------
    def sync_index(self) -> tuple[int, int]:
        """Make the index hold exactly the database's articles; returns ``(added, removed)``.

        Opening a registry calls this, so its cost must not grow with the registry: it compares one
        aggregate row of the database (count, largest id and sum of the ids) with the index's
        :meth:`~checker.index.PassageIndex.id_figures` (count, a high-water mark of the ids, sum: one
        ``HMGET`` on Redis). Equal count and sum, with no id past the mark, mean nothing to do (the
        common case). Articles registered past the mark (by a process that stopped before indexing
        them) are read by id range; only when the figures still differ (an article deleted, or inserted
        below the mark) are all ids compared. Opposite failures that leave both count and sum equal
        would go unnoticed; ``checker index rebuild`` mends any disagreement.
        """
        count, top, total = self.index.id_figures()
        db_count, db_top, db_total = self._id_figures()
        if (count, total) == (db_count, db_total) and (db_top or 0) <= top:
            return 0, 0
        added = 0
        if db_top is not None and db_top > top:
            with self.Session() as session:
                newer = session.scalars(select(Article.id).where(Article.id > top).order_by(Article.id)).all()
            for chunk in _batches(newer, REGISTER_BATCH):
                self._index_articles(chunk)
            added, count, total = len(newer), count + len(newer), total + sum(newer)
        removed = 0
        if (count, total) != (db_count, db_total):
            indexed = self.index.article_ids()
            with self.Session() as session:
                db_ids = np.asarray(session.scalars(select(Article.id)).all(), dtype=np.int64)
            missing = np.setdiff1d(db_ids, indexed, assume_unique=True)  # both distinct: no np.unique
            stale = np.setdiff1d(indexed, db_ids, assume_unique=True)
            if len(stale):
                self.index.remove(stale.tolist())
            for chunk in _batches(missing.tolist(), REGISTER_BATCH):
                self._index_articles(chunk)
            added, removed = added + len(missing), len(stale)
        if added or removed:
            LOGGER.info("index synced with database: %d added, %d removed", added, removed)
            self.index.save()
        return added, removed

    def _id_figures(self) -> tuple[int, int | None, int]:
        with self.Session() as session:
            count, top, total = session.execute(
                select(func.count(Article.id), func.max(Article.id), func.sum(Article.id))
            ).one()
        return int(count), (int(top) if top is not None else None), int(total or 0)

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
            rows = session.execute(
                select(Article.id, Article.org_id, Article.text).where(Article.id.in_(ids))
            ).all()
        self.index.add(
            (id_, org_keys(fingerprint(normalize(text), self.settings.scheme).keys, org_id))
            for id_, org_id, text in rows
        )

    def _partitions(self, org_id: int | None) -> list[int]:
        """The index partitions a scan of ``org_id`` looks in: its own; for None, every organisation's
        that has articles."""
        if org_id is not None:
            return [partition_of(org_id)]
        with self.Session() as session:
            return sorted({partition_of(o) for o in session.scalars(select(Article.org_id).distinct())})

    # -- scanning ----------------------------------------------------------------------------------
    def load_articles(self, ids: list[int], org_id: int | None = None) -> list[IndexedArticle]:
        """Candidate articles, normalised and fingerprinted (cached), in the order of ``ids``; with
        ``org_id``, only that organisation's articles (another publisher's are never shown)."""
        missing = [i for i in ids if i not in self._cache]
        if missing:
            columns = [
                Article.id,
                Article.title,
                Article.url,
                Article.publisher,
                Article.license,
                Article.partners,
                Article.published_at,
                Article.org_id,
                Article.required_credit,
                Article.aliases,
                Article.text,
            ]
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
        options: MatchOptions | None = None,
    ) -> ScanResult:
        """Scan ``text`` (found at ``url``, if known) against the registered articles (of ``org_id``),
        with the match settings ``options``; None: the organisation's (:meth:`match_options`), read
        now, so every scan of an organisation follows its settings. A batch reads them once and passes
        them."""
        text = check_text(text, self.settings.max_text_chars, "suspect text")
        self.refresh_index()
        return scan_text(
            text,
            OrgView(self.index, self._partitions(org_id)),
            lambda ids: self.load_articles(ids, org_id),
            url=url,
            published_at=published_at,
            links=links,
            cfg=self.settings.match,
            options=self.match_options(org_id) if options is None else options,
        )

    def refresh_index(self) -> bool:
        """See what other processes registered, edited or deleted since (one ``stat`` on a local index);
        True when that changed anything, and then the article cache is dropped (an edited article's
        text is read again). Everyone refreshing (a scan, ``/readyz``, a metrics scrape) comes here: a
        refresh of the index alone would leave the cache holding an edited article's old text."""
        if self.index.refresh():
            self._cache.clear()
            return True
        return False

    def match_options(self, org_id: int | None) -> MatchOptions:
        """The match settings of the organisation ``org_id`` (the defaults for None)."""
        if org_id is None:
            return DEFAULT_OPTIONS
        with self.Session() as session:
            return match_options_for(session, org_id)

    def record_scan(
        self,
        text: str,
        url: str | None,
        result: ScanResult,
        *,
        org_id: int | None = None,
        source: str = "text",
    ) -> int:
        """Store a finished (synchronous) scan with its matches and passages; returns the scan id."""
        return self.record_scans([(text, url, result)], org_id=org_id, source=source)[0]

    def record_scans(
        self,
        items: list[tuple[str, str | None, ScanResult]],
        *,
        org_id: int | None = None,
        source: str = "text",
    ) -> list[int]:
        """Store finished scans in one transaction (one batched INSERT per table)."""
        now = datetime.now(UTC)
        rows = []
        for text, url, result in items:
            scan = Scan(
                status="done",
                source=source,
                org_id=org_id,
                text=clean_text(text),
                url=url,
                verdict=result.verdict,
                result=result.to_dict(),
                started_at=now,
                finished_at=now,
            )
            scan.matches = [match_row(None, m, url) for m in result.matches]
            rows.append(scan)
        with self.Session.begin() as session:
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows]


T = TypeVar("T")


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
