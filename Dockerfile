# One image for the web, worker and beat services of compose.yaml.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CHECKER_DATA_DIR=/data
# The PDF evidence report (WeasyPrint) needs Pango and a font; without them that one route answers 503.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY requirements/run.lock requirements/run.lock
RUN pip install --no-cache-dir -r requirements/run.lock
COPY checker checker
COPY worker worker
COPY web web
COPY seeds seeds
RUN pip install --no-cache-dir --no-deps ".[postgres]" && mkdir -p /data
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "web.wsgi:app"]
