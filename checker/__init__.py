"""The reuse checker's engine and registry, free of Flask and Celery (the dashboard is ``web``, the
background workers ``worker``).

The public API, importable from here::

    from checker import Registry, Settings, ArticleIn

    with Registry(Settings.from_env()) as registry:
        registry.register_many([ArticleIn(title="...", text="...")], skip_existing=True)
        result = registry.scan("suspect text")        # a ScanResult; result.to_dict() is PRODUCT.md's JSON

Everything else is an implementation module (docs/architecture.md says which rule lives where). Names
load on first use (PEP 562), so importing one small module (``checker.textio``) does not pull in numpy and
SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Registry": "checker.registry",
    "Registered": "checker.registry",
    "Settings": "checker.settings",
    "MatchConfig": "checker.thresholds",
    "FingerprintScheme": "checker.fingerprint",
    "ArticleIn": "checker.records",
    "ArticleRef": "checker.records",
    "Match": "checker.records",
    "Passage": "checker.records",
    "Credit": "checker.records",
    "ScanResult": "checker.records",
    "MatchOptions": "checker.match_options",
    "CheckerError": "checker.errors",
    "InputError": "checker.errors",
    "NotFound": "checker.errors",
    "scan_text": "checker.matcher",
}
__all__ = [
    "ArticleIn",
    "ArticleRef",
    "CheckerError",
    "Credit",
    "FingerprintScheme",
    "InputError",
    "Match",
    "MatchConfig",
    "MatchOptions",
    "NotFound",
    "Passage",
    "Registered",
    "Registry",
    "ScanResult",
    "Settings",
    "scan_text",
]

if TYPE_CHECKING:
    from checker.errors import CheckerError, InputError, NotFound
    from checker.fingerprint import FingerprintScheme
    from checker.match_options import MatchOptions
    from checker.matcher import scan_text
    from checker.records import ArticleIn, ArticleRef, Credit, Match, Passage, ScanResult
    from checker.registry import Registered, Registry
    from checker.settings import Settings
    from checker.thresholds import MatchConfig


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'checker' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
