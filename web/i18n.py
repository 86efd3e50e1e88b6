"""The dashboard's languages and time zones (Flask-Babel).

Every user-visible string in templates is ``{{ _('…') }}`` (Jinja's i18n extension, installed by
Flask-Babel) and in Python ``gettext``/``lazy_gettext`` from flask_babel. The catalogues live in
``web/translations/<locale>/LC_MESSAGES/messages.po``; see docs/translating.md for the commands.

The language is the account's choice (``users.locale``), else the browser's best match among
:data:`LANGUAGES`, else English. Dates are shown in the organisation's time zone
(``organisations.time_zone``), with the zone named.
"""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_login import current_user

# Locale code -> the language's own name (what the switcher shows).
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
DEFAULT_LOCALE = "en"

babel = Babel()


def select_locale() -> str:
    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES.keys()) or DEFAULT_LOCALE


def select_timezone() -> str:
    return getattr(current_user, "time_zone", None) or "UTC"


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")  # relative to web/
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.context_processor
    def inject_languages():
        return {"languages": LANGUAGES}
