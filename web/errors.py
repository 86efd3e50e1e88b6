"""How the web layer answers errors, in one place: JSON ``{"error": "<a sentence>"}`` under ``/api/``, the
error page elsewhere, and which status each :class:`~checker.errors.CheckerError` gets.

A view that can show the error where the user is (a form with its message) catches it itself; what it
does not catch lands here instead of a 500.
"""

from __future__ import annotations

import functools

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from checker.errors import CheckerError, InputError, NotFound
from web.accounts import LoginRefused
from worker.fetch import FetchError
from worker.urlguard import UrlRefused


class ApiError(CheckerError):
    """An API request refused with ``status`` (401 no token, 403 role, 409 conflict ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# The status of each kind of refusal (the first that matches); any other CheckerError is a condition
# on the server that the operator must fix (an index of another scheme, a schema to upgrade, a
# renderer not installed): 503.
STATUS: tuple[tuple[type[CheckerError], int], ...] = (
    (NotFound, 404),
    (InputError, 422),
    (UrlRefused, 422),
    (LoginRefused, 401),
    (FetchError, 502),  # the page asked for could not be fetched
)

PAGE_MESSAGES = (
    (403, _l("Your role does not allow this.")),
    (404, _l("Not found.")),
    (405, _l("This method is not allowed here.")),
    (413, _l("The upload is too large.")),
    (429, _l("Too many attempts; wait a few minutes.")),
    (500, _l("Something went wrong on our side.")),
)


def status_of(exc: CheckerError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 503)


def json_error(status: int, message: str, **headers):
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def answer(code: int, message: str, api_message: str | None = None):
    """JSON under ``/api/`` (``api_message`` if given), the error page elsewhere."""
    if request.path.startswith("/api/"):
        return json_error(code, api_message or message)
    return render_template("error.html", code=code, message=message), code


def error_page(exc, *, code: int, message: str):
    return answer(code, str(message), getattr(exc, "description", None))


def checker_error(exc: CheckerError):
    """A CheckerError no view caught: its sentence, with its status."""
    return answer(status_of(exc), str(exc))


def init_app(app) -> None:
    for code, message in PAGE_MESSAGES:
        app.register_error_handler(code, functools.partial(error_page, code=code, message=message))
    app.register_error_handler(CheckerError, checker_error)
