"""Exceptions raised by the checker.

Every exception the product raises on purpose is a :class:`CheckerError`, whose message is a sentence
a user can read; anything else is a bug. The web layer maps them to responses in one place
(``web/errors.py``), the worker to a scan's or crawl's failure reason (``worker/tasks.py``).

Hierarchy::

    CheckerError                    base of everything the product raises on purpose
    ├── InputError                  bad user input: empty, binary, too large, undecodable, malformed JSON
    │   ├── imports.ImportFileError     an upload that cannot be imported
    │   └── web.accounts.WrongPassword  the current password given to change it is wrong
    ├── NotFound                    an id that does not exist (or belongs to someone else)
    ├── index.SchemeMismatch        an index built with another fingerprint scheme
    ├── migrate.SchemaError         a database schema this release cannot use as it is
    ├── worker.urlguard.UrlRefused  a URL that may not be fetched (also a ValueError)
    ├── worker.fetch.FetchError     a fetch that failed (TransientFetchError: it may pass)
    ├── worker.search.SearchError   a search provider's query that failed
    ├── worker.discovery.NoProvider no search provider is configured
    ├── worker.alerts.AlertDeliveryError  an alert that could not be delivered (retried)
    ├── web.accounts.LoginRefused   a refused login (the message is safe to show)
    ├── web.errors.ApiError         an API request refused with a given status
    └── web.evidence.PdfUnavailable the PDF renderer is not installed
"""

from __future__ import annotations


class CheckerError(Exception):
    """Base class: the message is a complete, user-readable sentence."""


class InputError(CheckerError):
    """The input cannot be used; nothing was stored."""


class NotFound(CheckerError):
    """No such record."""
