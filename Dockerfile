# One image for the web, worker and beat services of compose.yaml.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CHECKER_DATA_DIR=/data
COPY pyproject.toml README.md ./
COPY checker checker
COPY worker worker
COPY web web
COPY seeds seeds
RUN pip install --no-cache-dir ".[postgres]" && mkdir -p /data
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "web.wsgi:app"]
