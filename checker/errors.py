"""Exceptions raised by the checker.

Hierarchy::

    CheckerError            base of everything the checker raises on purpose
    ├── InputError          bad user input: empty, binary, too large, undecodable, malformed JSON
    ├── NotFound            an id that does not exist (or belongs to someone else)
    └── index.SchemeMismatch  an index built with another fingerprint scheme
"""

from __future__ import annotations


class CheckerError(Exception):
    """Base class: the message is a complete, user-readable sentence."""


class InputError(CheckerError):
    """The input cannot be used; nothing was stored."""


class NotFound(CheckerError):
    """No such record."""
