"""Entry module: ``celery -A worker.app worker`` and ``celery -A worker.app beat``.

Importing it also makes this app the default, so tasks sent from the CLI, the dashboard or tests go to
the configured broker (or run in-process on the embedded default).
"""

from worker.celery_app import create_celery

celery_app = create_celery()
celery_app.set_default()
