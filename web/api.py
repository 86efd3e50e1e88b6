"""The REST API under ``/api``: token authentication (``Authorization: Bearer``), JSON in and out.

Errors are JSON ``{"error": "<a sentence>"}``: 400 malformed JSON, 401 no or bad token, 403 role,
404 unknown or another organisation's id, 413 body too large, 422 invalid fields.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from checker.errors import CheckerError, InputError
from checker.jsonl import article_from_json
from checker.models import article_dict
from checker.records import ARTICLE_FIELDS
from checker.validate import json_loads_bounded
from web import accounts, queries
from web.auth import Account, account_of
from web.db import get_registry, get_session, write_lock
from web.errors import ApiError, json_error, status_of
from web.evidence import pdf_response, unavailable_json
from web.openapi import spec
from web.serialize import match_dict, scan_dict

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.openapi", "api.docs"}
SCAN_FIELDS = {"text", "url", "urls"}


@bp.errorhandler(CheckerError)
def _checker_error(exc: CheckerError):
    return json_error(status_of(exc), str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages: dict[int | None, str] = {
        413: f"the request body is larger than {current_app.config['MAX_CONTENT_LENGTH']:,} bytes",
        405: f"{request.method} is not allowed here",
    }
    return json_error(exc.code or 500, messages.get(exc.code, exc.description or exc.name))


@bp.before_request
def authenticate():
    """Every endpoint but the OpenAPI document and its docs page needs a valid token."""
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return json_error(
            401,
            "missing API token: send 'Authorization: Bearer TOKEN'",
            **{"WWW-Authenticate": 'Bearer realm="checker"'},
        )
    session = get_session()
    user = accounts.user_for_token(session, token.strip())
    if user is None:
        return json_error(
            401, "invalid or revoked API token", **{"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    g.account = account_of(user)
    session.commit()  # last_used_at, when it changed
    return None


def account() -> Account:
    return g.account


def need(role: str) -> None:
    if not account().can(role):
        raise ApiError(403, f"this needs the {role} role (the token's account is {account().role})")


def body() -> dict:
    """The JSON object sent: 400 when it is not JSON (malformed, not UTF-8/16/32, nested deeper than
    :data:`checker.validate.MAX_JSON_DEPTH`), 422 when it is empty or not an object."""
    if request.content_length and request.content_length > current_app.config["MAX_CONTENT_LENGTH"]:
        raise ApiError(
            413, f"the request body is larger than {current_app.config['MAX_CONTENT_LENGTH']:,} bytes"
        )
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(422, "the request body is empty: send a JSON object")
    try:
        data = json_loads_bounded(raw)
    except InputError as exc:
        raise ApiError(400, f"the body must be a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(422, f"the body must be a JSON object, not {type(data).__name__}")
    return data


def only_fields(data: dict, allowed, hint: str = "") -> None:
    """422 naming the fields of a request body that ``allowed`` does not hold (``hint``: what to send)."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(sorted(unknown))}{hint}")


def filters() -> queries.Filters:
    return queries.Filters.parse(request.args, current_app.config["PAGE_SIZE"])


def page_json(page: queries.Page, fn) -> dict:
    return {"items": [fn(x) for x in page.items], **page.meta()}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 document of this API; its server is the configured ``BASE_URL``, never the request's
    Host header (a client chooses that)."""
    return jsonify(spec(current_app.config.get("BASE_URL")))


@bp.get("/docs")
def docs():
    """A readable page of the API, generated from the OpenAPI document."""
    return render_template("api/docs.html", spec=spec(current_app.config.get("BASE_URL")))


@bp.get("/articles")
def list_articles():
    """The organisation's articles (``q`` searches title, url and publisher), paginated."""
    f = filters()
    return jsonify(
        page_json(
            queries.paginate(get_session(), queries.articles_query(account().org_id, f), f), article_dict
        )
    )


@bp.post("/articles")
def create_article():
    """Register an article: the import fields. 201 {"id"}; when it was already registered (same
    canonical url or text), the fields sent update it and the answer adds "existing": true, "updated"
    (the fields that changed) and "message", so scripts that re-send an import keep working."""
    need("editor")
    data = body()
    only_fields(data, set(ARTICLE_FIELDS))
    try:
        article = article_from_json(data, 1, get_registry().settings.max_text_chars)
    except InputError as exc:
        raise ApiError(422, str(exc).removeprefix("line 1: ")) from None
    with write_lock():
        outcome = get_registry().register_many([article], skip_existing=True, org_id=account().org_id)[0]
    if outcome.existing:
        return jsonify(
            {"id": outcome.id, "existing": True, "updated": list(outcome.changed), "message": outcome.message}
        ), 201
    return jsonify({"id": outcome.id}), 201


@bp.get("/articles/<int:article_id>")
def get_article(article_id: int):
    """One article, with its text."""
    return jsonify(
        article_dict(queries.get_article(get_session(), account().org_id, article_id), with_text=True)
    )


@bp.post("/scans")
def create_scan():
    """Submit ``{"text", "url"?}``, ``{"url"}`` or ``{"urls": [...]}``; 202, the work runs in the background."""
    from worker import dispatch

    need("editor")
    data = body()
    only_fields(data, SCAN_FIELDS, hint="; send text, url or urls")
    for key in ("text", "url"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise ApiError(422, f"{key} must be a string")
    org, user = account().org_id, account().id
    if "urls" in data:
        urls = data["urls"]
        if "text" in data or "url" in data:
            raise ApiError(422, "send either urls, or text (with an optional url), or url")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ApiError(422, "urls must be a list of strings")
        ids = dispatch.submit_urls(get_registry(), urls, org_id=org, submitted_by=user)
        return jsonify({"id": ids[0], "ids": ids, "status": "queued"}), 202
    text, url = data.get("text"), data.get("url")
    if text is None and not url:
        raise ApiError(422, "send text (with an optional url), url, or urls")
    if text is not None and not text.strip():
        raise ApiError(422, "text is empty")
    if url is not None and text is not None and not url.strip():
        url = None
    scan_id = dispatch.submit_scan(
        get_registry(),
        org_id=org,
        text=text,
        url=url,
        source="text" if text is not None else "url",
        submitted_by=user,
    )
    return jsonify({"id": scan_id, "status": "queued"}), 202


@bp.get("/scans")
def list_scans():
    """The organisation's scans (filters: status, verdict, domain, since, until), without results."""
    f = filters()
    return jsonify(
        page_json(
            queries.paginate(get_session(), queries.scans_query(account().org_id, f), f),
            lambda s: scan_dict(s, with_result=False),
        )
    )


@bp.get("/scans/<int:scan_id>")
def get_scan(scan_id: int):
    """A scan: ``{"id", "status", "result", "error", ...}``; result is the PRODUCT.md scan result once done."""
    return jsonify(scan_dict(queries.get_scan(get_session(), account().org_id, scan_id)))


@bp.get("/matches")
def list_matches():
    """Matches (filters: verdict, kind, review_status, domain, article_id, since, until), paginated."""
    f = filters()
    return jsonify(
        page_json(
            queries.paginate(get_session(), queries.matches_query(account().org_id, f), f),
            lambda m: match_dict(m, with_passages=False),
        )
    )


@bp.get("/matches/<int:match_id>")
def get_match(match_id: int):
    """A match with its passages and review trail."""
    return jsonify(match_dict(queries.get_match(get_session(), account().org_id, match_id)))


@bp.post("/matches/<int:match_id>/review")
def review_match(match_id: int):
    """Review a match: ``{"action": "confirmed"|"dismissed"|"licensed"|"reopened", "note"?}``."""
    need("editor")
    session = get_session()
    m = queries.get_match(session, account().org_id, match_id)
    data = body()
    only_fields(data, {"action", "note"})
    action, note = data.get("action"), data.get("note", "")
    if not isinstance(action, str):
        raise ApiError(422, f"action must be one of {', '.join(queries.REVIEW_ACTIONS)}")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise ApiError(422, "note must be a string")
    queries.review_match(session, m, user_id=account().id, action=action, note=note)
    session.commit()
    return jsonify(match_dict(m))


# -- watches (web/monitoring.py has the page) -----------------------------------------------------------------
WATCH_FIELDS = {"url", "kind", "interval_minutes", "max_pages"}


def _watch_json(watch_id: int) -> dict:
    from checker.monitoring import summaries

    return summaries(get_session(), account().org_id, watch_id)[0].as_dict()


def _owned_watch(watch_id: int):
    from web.monitoring import get_watch

    return get_watch(get_session(), account().org_id, watch_id)


def _whole(data: dict, key: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, f"{key} must be a whole number")
    return value


@bp.get("/watches")
def list_watches():
    """The organisation's watches, oldest first, each with its schedule, last and next run, pages seen,
    new matches, failures in a row, last error and pause reason."""
    from checker.monitoring import summaries

    items = [s.as_dict() for s in summaries(get_session(), account().org_id)]
    return jsonify({"items": items, "total": len(items)})


@bp.post("/watches")
def create_watch():
    """Watch a site or a feed: ``{"url", "kind"?, "interval_minutes"?, "max_pages"?}``; 201 with the watch."""
    from worker import dispatch

    need("editor")
    data = body()
    only_fields(data, WATCH_FIELDS)
    url, kind = data.get("url"), data.get("kind", "site")
    if not isinstance(url, str) or not url.strip():
        raise ApiError(422, "url must be the http(s) address of the site or feed to watch")
    if not isinstance(kind, str):
        raise ApiError(422, "kind must be site or feed")
    watch_id = dispatch.add_watch(
        get_registry(),
        url,
        org_id=account().org_id,
        interval_minutes=_whole(data, "interval_minutes", 24 * 60),
        max_pages=_whole(data, "max_pages", dispatch.DEFAULT_CRAWL_PAGES),
        kind=kind,
    )
    return jsonify(_watch_json(watch_id)), 201


@bp.get("/watches/<int:watch_id>")
def show_watch(watch_id: int):
    """One watch."""
    return jsonify(_watch_json(_owned_watch(watch_id).id))


@bp.post("/watches/<int:watch_id>/pause")
def pause_watch(watch_id: int):
    """Pause a watch (no body); it does not run until resumed. Pausing a paused watch changes nothing."""
    from checker import monitoring

    need("editor")
    watch = _owned_watch(watch_id)
    if watch.active:
        monitoring.pause(get_session(), watch, reason=f"paused through the API by {account().email}")
        get_session().commit()
    return jsonify(_watch_json(watch_id))


@bp.post("/watches/<int:watch_id>/resume")
def resume_watch(watch_id: int):
    """Resume a watch (no body): due at once, its failures forgotten."""
    from checker import monitoring

    need("editor")
    monitoring.resume(get_session(), _owned_watch(watch_id))
    get_session().commit()
    return jsonify(_watch_json(watch_id))


@bp.delete("/watches/<int:watch_id>")
def delete_watch(watch_id: int):
    """Stop watching: the watch goes; the crawls it ran and their matches stay. 204."""
    need("editor")
    session = get_session()
    session.delete(_owned_watch(watch_id))
    session.commit()
    return "", 204


@bp.get("/matches/<int:match_id>/report.pdf")
def api_report_pdf(match_id: int):
    """The evidence report as a PDF, with an API token (PRODUCT.md); another organisation's id is a 404."""
    return pdf_response(match_id, account(), unavailable_json)
