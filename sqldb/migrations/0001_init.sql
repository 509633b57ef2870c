-- Latchkey's first schema. The same text runs on SQLite and PostgreSQL:
-- TEXT ids (UUIDv7), BIGINT unix-nanosecond UTC timestamps, BOOLEAN flags
-- (SQLite keeps them as 0/1), and BLOB for byte strings, which the postgres
-- package's Dialect.Schema rewrites to BYTEA. Zero times are stored as 0,
-- except sessions.revoked_at, which is NULL while the session is live.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	-- strings.ToLower(email), computed in Go; the case-insensitive key.
	email_lower   TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('user', 'admin')),
	password_hash TEXT NOT NULL,
	disabled      BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at    BIGINT NOT NULL,
	last_used_at  BIGINT NOT NULL,
	expires_at    BIGINT NOT NULL,
	user_agent    TEXT NOT NULL DEFAULT '',
	ip            TEXT NOT NULL DEFAULT '',
	revoked_at    BIGINT,
	revoke_reason TEXT NOT NULL DEFAULT '',
	refresh_key   BLOB,
	refresh_hash  BLOB NOT NULL,
	prev_hash     BLOB,
	generation    BIGINT NOT NULL DEFAULT 0,
	rotated_at    BIGINT NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX sessions_refresh_hash ON sessions (refresh_hash);
CREATE INDEX sessions_user_id ON sessions (user_id);
-- The revocation feed (RevokedSince) is polled every second by every
-- process: a range scan of this index, already in (revoked_at, id) order.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at, id);

-- Refresh tokens rotated away; presenting one again is reuse.
CREATE TABLE spent_refresh_tokens (
	token_hash BLOB PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	spent_at   BIGINT NOT NULL
);

CREATE INDEX spent_refresh_tokens_session_id ON spent_refresh_tokens (session_id);

CREATE TABLE tasks (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	title       TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	completed   BOOLEAN NOT NULL DEFAULT FALSE,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

-- Keyset pages newest first: all tasks, and filtered by status.
CREATE INDEX tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_user_status_created ON tasks (user_id, completed, created_at DESC, id DESC);

CREATE TABLE signing_keys (
	id          TEXT PRIMARY KEY,
	algorithm   TEXT NOT NULL,
	public_key  BLOB NOT NULL,
	private_key BLOB NOT NULL,
	created_at  BIGINT NOT NULL
);
