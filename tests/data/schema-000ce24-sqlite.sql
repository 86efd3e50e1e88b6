CREATE TABLE organisations (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	UNIQUE (name)
);

CREATE TABLE alert_events (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	org_id INTEGER, 
	dedupe_key VARCHAR(200) NOT NULL, 
	kind VARCHAR(30) NOT NULL, 
	payload JSON NOT NULL, 
	webhook_status VARCHAR(20) NOT NULL, 
	email_status VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	UNIQUE (org_id, dedupe_key), 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE
);

CREATE INDEX ix_alert_events_org_id ON alert_events (org_id);

CREATE TABLE articles (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	org_id INTEGER, 
	title VARCHAR(500) NOT NULL, 
	url VARCHAR(2000), 
	publisher VARCHAR(300), 
	license VARCHAR(200) NOT NULL, 
	partners JSON NOT NULL, 
	required_credit VARCHAR(500), 
	aliases JSON, 
	published_at DATETIME, 
	text TEXT NOT NULL, 
	text_sha256 VARCHAR(64) NOT NULL, 
	word_count INTEGER NOT NULL, 
	fingerprint_version INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE
);

CREATE INDEX ix_articles_org_id ON articles (org_id);

CREATE INDEX ix_articles_publisher ON articles (publisher);

CREATE INDEX ix_articles_text_sha256 ON articles (text_sha256);

CREATE INDEX ix_articles_url ON articles (url);

CREATE TABLE users (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	email VARCHAR(320) NOT NULL, 
	password_hash VARCHAR(500) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	org_id INTEGER NOT NULL, 
	active BOOLEAN NOT NULL, 
	failed_logins INTEGER NOT NULL, 
	locked_until DATETIME, 
	created_at DATETIME NOT NULL, 
	last_login_at DATETIME, 
	UNIQUE (email), 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE
);

CREATE INDEX ix_users_org_id ON users (org_id);

CREATE TABLE watches (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	org_id INTEGER, 
	url VARCHAR(2000) NOT NULL, 
	interval_minutes INTEGER NOT NULL, 
	max_pages INTEGER NOT NULL, 
	active BOOLEAN NOT NULL, 
	last_crawled_at DATETIME, 
	next_due_at DATETIME, 
	created_at DATETIME NOT NULL, 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE
);

CREATE INDEX ix_watches_next_due_at ON watches (next_due_at);

CREATE INDEX ix_watches_org_id ON watches (org_id);

CREATE TABLE api_tokens (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	user_id INTEGER NOT NULL, 
	token_sha256 VARCHAR(64) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME, 
	revoked_at DATETIME, 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (token_sha256)
);

CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE crawls (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	org_id INTEGER, 
	watch_id INTEGER, 
	url VARCHAR(2000) NOT NULL, 
	max_pages INTEGER NOT NULL, 
	max_depth INTEGER NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	pages_found INTEGER NOT NULL, 
	error TEXT, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE, 
	FOREIGN KEY(watch_id) REFERENCES watches (id) ON DELETE SET NULL
);

CREATE INDEX ix_crawls_org_id ON crawls (org_id);

CREATE INDEX ix_crawls_status ON crawls (status);

CREATE INDEX ix_crawls_watch_id ON crawls (watch_id);

CREATE TABLE scans (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	org_id INTEGER, 
	source VARCHAR(20) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	text TEXT, 
	url VARCHAR(2000), 
	final_url VARCHAR(2000), 
	fetched_at DATETIME, 
	body_sha256 VARCHAR(64), 
	page_title VARCHAR(500), 
	published_at DATETIME, 
	links JSON, 
	verdict VARCHAR(30), 
	result JSON, 
	error TEXT, 
	attempts INTEGER NOT NULL, 
	submitted_by INTEGER, 
	crawl_id INTEGER, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	FOREIGN KEY(org_id) REFERENCES organisations (id) ON DELETE CASCADE, 
	FOREIGN KEY(submitted_by) REFERENCES users (id) ON DELETE SET NULL, 
	FOREIGN KEY(crawl_id) REFERENCES crawls (id) ON DELETE SET NULL
);

CREATE INDEX ix_scans_crawl_id ON scans (crawl_id);

CREATE INDEX ix_scans_created_at ON scans (created_at);

CREATE INDEX ix_scans_org_id ON scans (org_id);

CREATE INDEX ix_scans_status ON scans (status);

CREATE INDEX ix_scans_verdict ON scans (verdict);

CREATE TABLE matches (
	id INTEGER NOT NULL, 
	scan_id INTEGER NOT NULL, 
	article_id INTEGER, 
	kind VARCHAR(20) NOT NULL, 
	verdict VARCHAR(30) NOT NULL, 
	score FLOAT NOT NULL, 
	suspect_coverage FLOAT NOT NULL, 
	source_coverage FLOAT NOT NULL, 
	attributed BOOLEAN NOT NULL, 
	licensed BOOLEAN NOT NULL, 
	explanation TEXT NOT NULL, 
	credits JSON, 
	suspect_url VARCHAR(2000), 
	review_status VARCHAR(20) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(scan_id) REFERENCES scans (id) ON DELETE CASCADE, 
	FOREIGN KEY(article_id) REFERENCES articles (id) ON DELETE SET NULL
);

CREATE INDEX ix_matches_article_id ON matches (article_id);

CREATE INDEX ix_matches_created_at ON matches (created_at);

CREATE INDEX ix_matches_scan_id ON matches (scan_id);

CREATE INDEX ix_matches_suspect_url ON matches (suspect_url);

CREATE TABLE passages (
	id INTEGER NOT NULL, 
	match_id INTEGER NOT NULL, 
	suspect_start INTEGER NOT NULL, 
	suspect_end INTEGER NOT NULL, 
	source_start INTEGER NOT NULL, 
	source_end INTEGER NOT NULL, 
	similarity FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(match_id) REFERENCES matches (id) ON DELETE CASCADE
);

CREATE INDEX ix_passages_match_id ON passages (match_id);

CREATE TABLE reviews (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	match_id INTEGER NOT NULL, 
	user_id INTEGER, 
	action VARCHAR(20) NOT NULL, 
	note TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	FOREIGN KEY(match_id) REFERENCES matches (id) ON DELETE CASCADE, 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX ix_reviews_match_id ON reviews (match_id);
