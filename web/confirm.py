"""Confirmation before a destructive action (deleting an article or an account, revoking a token,
disabling an account).

A page, not a script: the GET of an action's URL shows the question with a POST form carrying
``confirm=yes``, and the POST acts only with that field, so one stray click (or a form of an older page
that posts straight to the action) never deletes anything. It works without JavaScript and under the
CSP that forbids inline script.
"""

from __future__ import annotations

from flask import render_template, request

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"


def confirmed() -> bool:
    """Whether this POST carries the confirmation the confirmation page sends."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def ask(
    question: str,
    *,
    action: str,
    cancel: str,
    button: str,
    detail: str | None = None,
    undoable: bool = False,
    fields: dict[str, str] | None = None,
):
    """The confirmation page for ``question``: the POST form to ``action`` (with ``fields`` hidden),
    whose ``button`` does it, and a way back to ``cancel``. Answered 200 to the GET that asks, and
    400 to a POST that came without the confirmation (nothing was done)."""
    unconfirmed = request.method == "POST"
    return render_template(
        "dashboard/confirm.html",
        question=question,
        action=action,
        cancel=cancel,
        button=button,
        detail=detail,
        undoable=undoable,
        fields=fields or {},
        unconfirmed=unconfirmed,
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
    ), 400 if unconfirmed else 200
