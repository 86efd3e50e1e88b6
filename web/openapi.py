"""The OpenAPI 3.0 document of the REST API (served at ``/api/openapi.json``; fuzzed by the tests)."""

from __future__ import annotations

from checker.monitoring import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, WATCH_KINDS
from checker.records import KINDS, VERDICTS
from checker.scans import STATUSES
from checker.verdict import LICENSE_CHOICES

# worker.dispatch's crawl sizes, written out: importing it here would configure Celery for every reader of
# this document (tests/web/test_web_monitoring.py keeps them equal).
MAX_CRAWL_PAGES, DEFAULT_CRAWL_PAGES = 500, 50
REVIEW_ACTIONS = ["confirmed", "dismissed", "licensed", "reopened"]
REVIEW_STATUSES = ["open", "confirmed", "dismissed", "licensed"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page_of(name: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    }


NULLABLE_STR = {"type": "string", "nullable": True}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
# A match's coverage (web.coverage: one definition everywhere) and the word counts behind it; the counts
# are null on matches stored before they were counted.
COVERAGE_FIELDS = {
    "suspect_coverage": {
        "type": "number",
        "description": "share of the suspect's words reused from the article (words_matched / suspect_words)",
    },
    "source_coverage": {"type": "number", "description": "share of the article's words found in the suspect"},
    "words_matched": {
        "type": "integer",
        "nullable": True,
        "description": "the suspect's words inside the passages",
    },
    "suspect_words": {"type": "integer", "nullable": True, "description": "all words of the suspect"},
    "source_words": {"type": "integer", "nullable": True, "description": "all words of the article"},
}
PAGE_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    },
]
DATE_PARAMS = [
    {
        "name": "since",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "first day (UTC)",
    },
    {
        "name": "until",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": "last day (UTC)",
    },
    {
        "name": "domain",
        "in": "query",
        "schema": {"type": "string"},
        "description": "suspect site, subdomains included",
    },
]
COMMON_ERRORS = {
    "401": _error("missing, invalid or revoked token"),
    "422": _error("invalid parameter or field"),
}


def _id_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "ArticleIn": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "description": "default: the text's first line"},
            "url": {"type": "string", "description": "where the original is published (http/https)"},
            "publisher": {"type": "string"},
            "license": {"type": "string", "description": LICENSE_CHOICES},
            "partners": {
                "type": "array",
                "items": {"type": "string"},
                "description": "licensed partner domains",
            },
            "published_at": {"type": "string", "description": "ISO 8601 date or date-time"},
            "required_credit": {"type": "string", "description": "credit wording the licence requires"},
            "aliases": {
                "type": "array",
                "items": {"type": "string"},
                "description": "other names copies may credit the publisher by",
            },
            "text": {"type": "string", "minLength": 1},
        },
    },
    "Article": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "url": NULLABLE_STR,
            "publisher": NULLABLE_STR,
            "license": {"type": "string"},
            "partners": {"type": "array", "items": {"type": "string"}},
            "required_credit": NULLABLE_STR,
            "aliases": {"type": "array", "items": {"type": "string"}},
            "published_at": NULLABLE_TIME,
            "word_count": {"type": "integer"},
            "created_at": NULLABLE_TIME,
            "text": {"type": "string"},
        },
    },
    "Created": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer"},
            "existing": {"type": "boolean"},
            "updated": {
                "type": "array",
                "items": {"type": "string"},
                "description": "fields of the registered article this request changed",
            },
            "message": {"type": "string"},
        },
    },
    "ScanIn": {
        "type": "object",
        "additionalProperties": False,
        "description": "One of: {text, url?} (scan this text, found at url), {url} (fetch and scan the page), "
        "{urls: [...]} (a batch of pages).",
        "properties": {
            "text": {"type": "string"},
            "url": {"type": "string"},
            "urls": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
        },
    },
    "Queued": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "ids": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "Scan": {
        "type": "object",
        "required": ["id", "status", "error"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "verdict": {"type": "string", "nullable": True},
            "source": {"type": "string"},
            "url": NULLABLE_STR,
            "final_url": NULLABLE_STR,
            "fetched_at": NULLABLE_TIME,
            "body_sha256": NULLABLE_STR,
            "created_at": NULLABLE_TIME,
            "finished_at": NULLABLE_TIME,
            "error": NULLABLE_STR,
            "result": {"allOf": [_ref("ScanResult")], "nullable": True},
        },
    },
    "ScanResult": {
        "type": "object",
        "required": ["verdict", "matches"],
        "properties": {
            "verdict": {"type": "string", "enum": list(VERDICTS)},
            "matches": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "article": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "integer"},
                                "title": {"type": "string"},
                                "url": NULLABLE_STR,
                                "publisher": NULLABLE_STR,
                            },
                        },
                        "kind": {"type": "string", "enum": list(KINDS)},
                        "score": {"type": "number"},
                        **COVERAGE_FIELDS,
                        "attributed": {"type": "boolean"},
                        "licensed": {"type": "boolean"},
                        "passages": {"type": "array", "items": _ref("Passage")},
                    },
                },
            },
        },
    },
    "Passage": {
        "type": "object",
        "properties": {
            "suspect_start": {"type": "integer"},
            "suspect_end": {"type": "integer"},
            "source_start": {"type": "integer"},
            "source_end": {"type": "integer"},
            "similarity": {"type": "number"},
            "words": {
                "type": "integer",
                "nullable": True,
                "description": "the suspect's words in the passage",
            },
        },
    },
    "Match": {
        "type": "object",
        "required": ["id", "scan_id", "kind", "verdict", "review_status"],
        "properties": {
            "id": {"type": "integer"},
            "scan_id": {"type": "integer"},
            "article": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "url": NULLABLE_STR,
                    "publisher": NULLABLE_STR,
                },
            },
            "suspect_url": NULLABLE_STR,
            "kind": {"type": "string", "enum": list(KINDS)},
            "verdict": {"type": "string", "enum": list(VERDICTS)},
            "score": {"type": "number"},
            **COVERAGE_FIELDS,
            "attributed": {"type": "boolean"},
            "licensed": {"type": "boolean"},
            "explanation": {"type": "string"},
            "credits": {"type": "array", "items": {"type": "object"}},
            "review_status": {"type": "string", "enum": REVIEW_STATUSES},
            "created_at": NULLABLE_TIME,
            "passages": {"type": "array", "items": _ref("Passage")},
            "reviews": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string"},
                        "note": {"type": "string"},
                        "user": NULLABLE_STR,
                        "created_at": NULLABLE_TIME,
                    },
                },
            },
        },
    },
    "ReviewIn": {
        "type": "object",
        "required": ["action"],
        "additionalProperties": False,
        "properties": {
            "action": {"type": "string", "enum": REVIEW_ACTIONS},
            "note": {"type": "string", "maxLength": 5000},
        },
    },
    "WatchIn": {
        "type": "object",
        "required": ["url"],
        "additionalProperties": False,
        "properties": {
            "url": {
                "type": "string",
                "description": "the site (kind site) or the feed or sitemap (kind feed), http(s)",
            },
            "kind": {
                "type": "string",
                "enum": list(WATCH_KINDS),
                "default": "site",
                "description": "site: crawl the site (robots.txt, sitemaps, feeds, links); feed: read one RSS/Atom "
                "feed or sitemap and scan its new items",
            },
            "interval_minutes": {
                "type": "integer",
                "minimum": MIN_INTERVAL_MINUTES,
                "maximum": MAX_INTERVAL_MINUTES,
                "default": 24 * 60,
            },
            "max_pages": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_CRAWL_PAGES,
                "default": DEFAULT_CRAWL_PAGES,
            },
        },
    },
    "Watch": {
        "type": "object",
        "required": ["id", "url", "kind", "interval_minutes", "active"],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "kind": {"type": "string", "enum": list(WATCH_KINDS)},
            "interval_minutes": {"type": "integer"},
            "max_pages": {"type": "integer"},
            "active": {"type": "boolean"},
            "paused_reason": {
                **NULLABLE_STR,
                "description": "why it is paused (by a person, or after failed runs)",
            },
            "last_run_at": NULLABLE_TIME,
            "next_run_at": {**NULLABLE_TIME, "description": "null while paused"},
            "last_status": {
                "type": "string",
                "enum": list(STATUSES),
                "nullable": True,
                "description": "the last run's (crawl's) status",
            },
            "pages_seen": {"type": "integer", "description": "pages the last finished run found"},
            "new_matches": {
                "type": "integer",
                "description": "matches recorded by all its runs (only new ones are)",
            },
            "failures": {"type": "integer", "description": "failed runs in a row"},
            "last_error": NULLABLE_STR,
            "created_at": NULLABLE_TIME,
        },
    },
    "Watches": {
        "type": "object",
        "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": _ref("Watch")}, "total": {"type": "integer"}},
    },
}


def spec(server_url: str | None = None) -> dict:
    """The OpenAPI document; ``server_url`` is where this API is served: the app's configured
    ``BASE_URL``, never the request's Host header (a client could choose it). None: relative, "/"."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Reuse checker API",
            "version": "1",
            "description": "Register original articles, submit suspect texts and URLs, review matches. "
            'Errors are JSON {"error": "..."}; another organisation\'s ids answer 404.',
        },
        "servers": [{"url": server_url or "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token (`checker tokens create`)",
                }
            },
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/articles": {
                "get": {
                    "operationId": "listArticles",
                    "summary": "List and search articles",
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, *PAGE_PARAMS],
                    "responses": {"200": _json(_page_of("Article")), **COMMON_ERRORS},
                },
                "post": {
                    "operationId": "createArticle",
                    "summary": "Register an article",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ArticleIn")}},
                    },
                    "responses": {
                        "201": _json(
                            _ref("Created"),
                            "registered, or already registered (same "
                            'canonical url, or same text): then "existing" '
                            "is true and the fields sent update it",
                        ),
                        "400": _error("malformed JSON"),
                        "403": _error("role"),
                        "413": _error("body too large"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/articles/{article_id}": {
                "get": {
                    "operationId": "getArticle",
                    "summary": "An article with its text",
                    "parameters": [_id_param("article_id")],
                    "responses": {
                        "200": _json(_ref("Article")),
                        "404": _error("no such article"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/scans": {
                "get": {
                    "operationId": "listScans",
                    "summary": "List scans",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(STATUSES)},
                        },
                        {
                            "name": "verdict",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(VERDICTS)},
                        },
                        *DATE_PARAMS,
                        *PAGE_PARAMS,
                    ],
                    "responses": {"200": _json(_page_of("Scan")), **COMMON_ERRORS},
                },
                "post": {
                    "operationId": "createScan",
                    "summary": "Submit a text, a URL or a list of URLs",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ScanIn")}},
                    },
                    "responses": {
                        "202": _json(_ref("Queued"), "queued"),
                        "400": _error("malformed JSON"),
                        "403": _error("role"),
                        "413": _error("body too large"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/scans/{scan_id}": {
                "get": {
                    "operationId": "getScan",
                    "summary": "A scan and, once done, its result",
                    "parameters": [_id_param("scan_id")],
                    "responses": {"200": _json(_ref("Scan")), "404": _error("no such scan"), **COMMON_ERRORS},
                },
            },
            "/api/matches": {
                "get": {
                    "operationId": "listMatches",
                    "summary": "List matches with filters",
                    "parameters": [
                        {
                            "name": "verdict",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(VERDICTS)},
                        },
                        {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(KINDS)}},
                        {
                            "name": "review_status",
                            "in": "query",
                            "schema": {"type": "string", "enum": REVIEW_STATUSES},
                        },
                        {"name": "article_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        *DATE_PARAMS,
                        *PAGE_PARAMS,
                    ],
                    "responses": {"200": _json(_page_of("Match")), **COMMON_ERRORS},
                },
            },
            "/api/matches/{match_id}": {
                "get": {
                    "operationId": "getMatch",
                    "summary": "A match with passages and review trail",
                    "parameters": [_id_param("match_id")],
                    "responses": {
                        "200": _json(_ref("Match")),
                        "404": _error("no such match"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/matches/{match_id}/report.pdf": {
                "get": {
                    "operationId": "getMatchReportPdf",
                    "summary": "The match's evidence report as a PDF",
                    "parameters": [_id_param("match_id")],
                    "responses": {
                        "200": {
                            "description": "the PDF (docs/evidence.md says what it holds)",
                            "content": {
                                "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                            },
                        },
                        "404": _error("no such match"),
                        "503": _error("the PDF renderer (WeasyPrint, Pango) is not installed"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/matches/{match_id}/review": {
                "post": {
                    "operationId": "reviewMatch",
                    "summary": "Confirm, dismiss, mark licensed or reopen",
                    "parameters": [_id_param("match_id")],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ReviewIn")}},
                    },
                    "responses": {
                        "200": _json(_ref("Match")),
                        "400": _error("malformed JSON"),
                        "403": _error("role"),
                        "404": _error("no such match"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/watches": {
                "get": {
                    "operationId": "listWatches",
                    "summary": "List the watches: schedule, last and next run, "
                    "pages seen, new matches, last error, pause reason",
                    "responses": {"200": _json(_ref("Watches")), **COMMON_ERRORS},
                },
                "post": {
                    "operationId": "createWatch",
                    "summary": "Watch a site or a feed on a schedule",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("WatchIn")}},
                    },
                    "responses": {
                        "201": _json(
                            _ref("Watch"), "watched; the first run starts at the scheduler's next round"
                        ),
                        "400": _error("malformed JSON"),
                        "403": _error("role"),
                        "413": _error("body too large"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/watches/{watch_id}": {
                "get": {
                    "operationId": "getWatch",
                    "summary": "A watch",
                    "parameters": [_id_param("watch_id")],
                    "responses": {
                        "200": _json(_ref("Watch")),
                        "404": _error("no such watch"),
                        **COMMON_ERRORS,
                    },
                },
                "delete": {
                    "operationId": "deleteWatch",
                    "summary": "Stop watching (the crawls it ran and their matches stay)",
                    "parameters": [_id_param("watch_id")],
                    "responses": {
                        "204": {"description": "removed"},
                        "403": _error("role"),
                        "404": _error("no such watch"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/watches/{watch_id}/pause": {
                "post": {
                    "operationId": "pauseWatch",
                    "summary": "Pause a watch until it is resumed",
                    "parameters": [_id_param("watch_id")],
                    "responses": {
                        "200": _json(_ref("Watch")),
                        "403": _error("role"),
                        "404": _error("no such watch"),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/watches/{watch_id}/resume": {
                "post": {
                    "operationId": "resumeWatch",
                    "summary": "Resume a watch: due at once, failures forgotten",
                    "parameters": [_id_param("watch_id")],
                    "responses": {
                        "200": _json(_ref("Watch")),
                        "403": _error("role"),
                        "404": _error("no such watch"),
                        **COMMON_ERRORS,
                    },
                },
            },
        },
    }
