"""The dashboard's languages and time zones (Flask-Babel).

Every user-visible string in templates is ``{{ _('…') }}`` (Jinja's i18n extension, installed by
Flask-Babel) and in Python ``gettext``/``lazy_gettext`` from flask_babel. The catalogues live in
``web/translations/<locale>/LC_MESSAGES/messages.po``; see docs/translating.md for the commands.

The language is the account's choice (``users.locale``), else the choice made on this browser before
logging in (the :data:`LOCALE_COOKIE` cookie, set by the header's switcher), else the browser's best match
among :data:`LANGUAGES` (Accept-Language), else English. Dates are shown in the organisation's time zone
(``organisations.time_zone``), with the zone named: the ``when`` filter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from flask import Blueprint, abort, current_app, has_request_context, redirect, request
from flask_babel import Babel, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

# Locale code -> the language's own name (what the switcher shows).
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
DEFAULT_LOCALE = "en"
DEFAULT_TIME_ZONE = "UTC"
# A language chosen before logging in (or after logging out) lives in its own cookie, not in the
# session: logging in and out start a new session (web.auth), and the login page should stay in the
# language its reader picked.
LOCALE_COOKIE = "locale"
LOCALE_COOKIE_AGE = 365 * 24 * 3600
WHEN_PATTERN = "yyyy-MM-dd HH:mm"  # sortable, the same in both languages; the zone follows

# Codes stored in the database and shown as words: verdicts, scan states, match kinds, review states,
# roles, scan sources. ``{{ code|term }}`` shows the word in the reader's language (lazy: translated when shown).
TERMS = {
    "unattributed_reuse": _l("unattributed reuse"),
    "attributed_reuse": _l("attributed reuse"),
    "licensed": _l("licensed"),
    "no_reuse": _l("no reuse"),
    "pending": _l("pending"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "verbatim": _l("verbatim"),
    "near_copy": _l("near copy"),
    "partial": _l("partial"),
    "paraphrase": _l("paraphrase"),
    "open": _l("open"),
    "confirmed": _l("confirmed"),
    "dismissed": _l("dismissed"),
    "admin": _l("admin"),
    "editor": _l("editor"),
    "viewer": _l("viewer"),
    # where a scan came from (scans.source)
    "text": _l("text"),
    "url": _l("URL"),
    "batch": _l("URL list"),
    "crawl": _l("crawl"),
    "watch": _l("watch"),
}


def N_(message: str) -> str:
    """Marks ``message`` for extraction only; it is translated where it is shown (``gettext(str(exc))``)."""
    return message


# Messages written by modules that do not import Flask-Babel, shown translated by web.auth: the one
# answer to a refused login (web.accounts.LOGIN_REFUSED; tests/web/test_web_i18n.py keeps them equal).
MARKED = (
    N_(
        "Wrong e-mail or password, or too many failed attempts for this account: "
        "check them and try again in a minute."
    ),
)

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The account's language, else this browser's earlier choice, else its Accept-Language, else English."""
    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    if request.cookies.get(LOCALE_COOKIE) in LANGUAGES:
        return request.cookies[LOCALE_COOKIE]
    return request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LOCALE


def select_timezone() -> str:
    """The organisation's time zone (an unknown name, say from an older tz database, falls back to UTC)."""
    name = getattr(current_user, "time_zone", None) or DEFAULT_TIME_ZONE
    return name if zone_of(name).key == name else DEFAULT_TIME_ZONE


def zone_of(name: str | None) -> ZoneInfo:
    """The IANA zone called ``name``; UTC for None or a name the tz database does not know."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive ones are UTC already (SQLite drops the zone, the app stores UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def zone_label(local: datetime) -> str:
    """The zone's abbreviation at that moment (WIB, CET, EST, UTC) where the tz database has a real one;
    otherwise (it writes "+04" for Asia/Dubai) the UTC offset as "+04:00"."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    delta = local.utcoffset()
    assert delta is not None  # an aware datetime: both callers make it with astimezone
    offset = int(delta.total_seconds() // 60)
    sign = "+" if offset >= 0 else "-"
    return f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def format_when(moment: datetime | None, zone: str | None = None) -> Markup | str:
    """``<time datetime="ISO-UTC">2026-11-30 10:00 WIB</time>`` in ``zone`` (default: the request's,
    the account's organisation's); "–" for no date."""
    if moment is None:
        return "–"
    utc = as_utc(moment)
    tz = zone_of(zone or _request_zone())
    local = utc.astimezone(tz)
    shown = format_datetime(utc, WHEN_PATTERN, tzinfo=tz, locale=get_locale() or DEFAULT_LOCALE)
    return Markup('<time datetime="{}">{} {}</time>').format(
        utc.isoformat().replace("+00:00", "Z"), shown, zone_label(local)
    )


def format_day(moment: date | datetime | None, pattern: str = "medium") -> str:
    """A day in the reader's language: "30 Nov 2026" (Indonesian), "Nov 30, 2026" (English). A datetime
    is first moved to the organisation's time zone (its day there)."""
    if moment is None:
        return "–"
    if isinstance(moment, datetime):
        moment = as_utc(moment).astimezone(zone_of(_request_zone())).date()
    return format_date(moment, pattern, locale=get_locale() or DEFAULT_LOCALE)


def _request_zone() -> str:
    """The zone Flask-Babel chose for this request (:func:`select_timezone`); UTC outside one."""
    return str(get_timezone() or DEFAULT_TIME_ZONE) if has_request_context() else DEFAULT_TIME_ZONE


def term(code: str | None) -> str:
    """A stored code (verdict, status, kind, role) as a word in the reader's language."""
    if not code:
        return ""
    return str(TERMS.get(code, code.replace("_", " ")))


def translated_terms() -> dict[str, str]:
    """Every code's word in the reader's language, for app.js's live updates (a page's ``data-terms``)."""
    return {code: str(word) for code, word in TERMS.items()}


@bp.route("/language", methods=("POST",))
def set_language():
    """The header's language switcher: the account keeps the choice (``users.locale``) and this browser
    keeps it in a cookie, so the login page after logging out speaks it too. Back to the page it was on."""
    from web.auth import safe_next

    code = request.form.get("locale", "")
    if code not in LANGUAGES:
        abort(400)
    if current_user.is_authenticated:
        _save_account_locale(current_user.id, code)
    response = redirect(safe_next(request.form.get("next")))
    response.set_cookie(
        LOCALE_COOKIE,
        code,
        max_age=LOCALE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def _save_account_locale(user_id: int, code: str) -> None:
    from checker.models import User
    from web.db import get_session

    session = get_session()
    user = session.get(User, user_id)
    if user is not None:
        user.locale = code
        session.commit()


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIME_ZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")  # relative to web/
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.register_blueprint(bp)
    app.add_template_filter(format_when, "when")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(term, "term")
    app.add_template_global(translated_terms, "translated_terms")

    @app.context_processor
    def inject_languages():
        return {"languages": LANGUAGES, "current_locale": str(get_locale() or DEFAULT_LOCALE)}
