-- One-time tokens for password reset, email verification and email change
-- (issue 13). One row is one mailed link and code: only the SHA-256 of the
-- link's secret and an HMAC of the code are kept. used_at is set when the
-- token stops being usable: used, killed, or dead of its last wrong code;
-- NULL while it may still be used (and not yet expired).
CREATE TABLE one_time_tokens (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	purpose    TEXT NOT NULL CHECK (purpose IN ('reset', 'verify_email', 'email_change')),
	-- The address the token was mailed to (for email_change, the new one).
	email      TEXT NOT NULL,
	link_hash  BLOB NOT NULL,
	code_mac   BLOB NOT NULL,
	attempts   BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT
);

-- Consuming by link.
CREATE UNIQUE INDEX one_time_tokens_link_hash ON one_time_tokens (link_hash);
-- At most one token of a purpose is unused per user: issuing kills the
-- older ones first. This index also answers a code's lookup and the kills.
CREATE UNIQUE INDEX one_time_tokens_user_purpose_unused ON one_time_tokens (user_id, purpose) WHERE used_at IS NULL;
-- Pruning expired tokens (used and killed ones expire too).
CREATE INDEX one_time_tokens_expires_at ON one_time_tokens (expires_at);
