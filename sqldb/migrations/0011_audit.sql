-- The audit log. Events outlive the users and sessions they name, so there
-- are no foreign keys; ids an event does not have are ''. An event never
-- holds a password, token, refresh token, secret or hash.
CREATE TABLE audit_events (
	id         TEXT PRIMARY KEY,
	at         BIGINT NOT NULL,
	type       TEXT NOT NULL,
	user_id    TEXT NOT NULL DEFAULT '',
	actor_id   TEXT NOT NULL DEFAULT '',
	session_id TEXT NOT NULL DEFAULT '',
	ip         TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT ''
);

-- Keyset pages newest first (ListAudit): all events, by type, by user.
-- The first also serves PruneAudit's range on at.
CREATE INDEX audit_events_at ON audit_events (at DESC, id DESC);
CREATE INDEX audit_events_type_at ON audit_events (type, at DESC, id DESC);
CREATE INDEX audit_events_user_at ON audit_events (user_id, at DESC, id DESC);

-- Keyset pages of users newest first (ListUsers).
CREATE INDEX users_created ON users (created_at DESC, id DESC);
