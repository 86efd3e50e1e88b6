"""Production entry point: ``gunicorn 'web.wsgi:app'`` (settings from CHECKER_* environment variables).

Cookies are HTTPS-only here (put the app behind TLS); ``CHECKER_SESSION_COOKIE_SECURE=false`` turns
that off for a plain-HTTP test deployment.
"""

from web import create_app

app = create_app()
