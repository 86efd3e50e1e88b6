"""Index keys partitioned by organisation: one organisation's articles never hide another's.

The passage index skips a key posted by more than ``MAX_POSTINGS_PER_KEY`` articles (a stop key: a
phrase every outlet prints), and the matcher verifies only the best-ranked candidates. Counted over all
organisations, that let one organisation blind another: with 5,000 copies of an agency paragraph in
organisation A, organisation B's own article with that paragraph was never found in B's scans (its
keys were stop keys, and the ties left were A's articles, dropped only after ranking).

So every key an article posts is mixed with its organisation's id before it reaches the index
(:func:`org_keys`, a bijection for each organisation, so nothing is lost), and a scan looks its keys up
mixed with its own organisation's id only. Stop keys, postings and candidate ranking then count the
scanning organisation's articles alone, on every index backend, with no change to the backends: a
hot key of another organisation is another key. A scan that may see every organisation (``org_id``
None: the CLI's tests and the benchmarks) looks up its keys once per organisation that has articles,
in one query.

Articles without an organisation (registered before organisations existed) are in partition 0; when
the default organisation adopts them (:func:`checker.orgs.adopt_orgless`) the registry indexes them
again under their new organisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from checker.index import Hits, PassageIndex
from checker.shingles import fmix64

# Part of every index's identity (checker.fingerprint.FingerprintScheme.index_identity): an index
# built before partitioning is rebuilt (local files) or refused until `checker index rebuild` (Redis).
LAYOUT = "org-mixed-v1"
_ORG_MULTIPLIER = np.uint64(0xA0761D6478BD642F)
_ORG_TAG = np.uint64(0xE7037ED1A0B428DB)


def partition_of(org_id: int | None) -> int:
    return int(org_id or 0)


def org_keys(keys: np.ndarray, org_id: int | None) -> np.ndarray:
    """``keys`` as organisation ``org_id`` posts and looks them up: ``fmix64(key ^ tag(org))``, a
    bijection on uint64 for each organisation (distinct keys stay distinct)."""
    with np.errstate(over="ignore"):
        tag = np.uint64(partition_of(org_id)) * _ORG_MULTIPLIER + _ORG_TAG
    return fmix64(np.asarray(keys, dtype=np.uint64) ^ tag)


class OrgView:
    """The index as one scan sees it: its keys looked up in ``partitions`` (the scanning organisation's,
    or every organisation's), with each hit's position mapped back to the unmixed query key. What
    :func:`checker.matcher.scan_text` needs of an index: ``scheme`` and ``query``."""

    def __init__(self, index: PassageIndex, partitions: Sequence[int]) -> None:
        self.index = index
        self.scheme = index.scheme
        self.partitions = list(partitions)

    def query(self, keys: np.ndarray) -> Hits:
        keys = np.asarray(keys, dtype=np.uint64)
        n = len(keys)
        if not n or not self.partitions:
            return Hits.empty()
        mixed = np.concatenate([org_keys(keys, p) for p in self.partitions])
        hits = self.index.query(mixed)
        return Hits(hits.article_ids, hits.positions % n) if len(self.partitions) > 1 else hits
