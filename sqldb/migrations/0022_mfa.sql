-- Issue 14 groundwork: TOTP factors, recovery codes and mfa_tokens. No
-- secret is kept in the clear: a factor's secret is sealed (keyseal, as the
-- signing keys), a recovery code is kept as an HMAC under a key derived
-- from the key-encryption key, an mfa_token as the SHA-256 of its bytes.
CREATE TABLE totp_factors (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret       BLOB NOT NULL,
	-- NULL until a first code confirmed the enrolment.
	confirmed_at BIGINT,
	-- The last time step accepted (unix seconds / 30); that step and every
	-- earlier one are refused. 0 before any.
	last_step    BIGINT NOT NULL DEFAULT 0,
	-- Consecutive wrong codes; the tenth locks the factor until
	-- locked_until (0: not locked) and clears the count.
	failures     BIGINT NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT
);

-- At most one confirmed factor per user; also the lookup of it.
CREATE UNIQUE INDEX totp_factors_user_confirmed ON totp_factors (user_id) WHERE confirmed_at IS NOT NULL;
CREATE INDEX totp_factors_user ON totp_factors (user_id);

-- A user's recovery codes: each row one unused code. Using a code deletes
-- its row; replacing the codes deletes them all.
CREATE TABLE recovery_codes (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_mac   BLOB NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, code_mac)
);

-- The second step of a password sign-in. used_at is set when the token is
-- used or killed; attempts counts codes tried with it, right or wrong.
CREATE TABLE mfa_tokens (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash BLOB NOT NULL,
	-- The amr of the first step, space-separated (as sessions.amr).
	amr        TEXT NOT NULL,
	attempts   BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT
);

CREATE UNIQUE INDEX mfa_tokens_token_hash ON mfa_tokens (token_hash);
CREATE INDEX mfa_tokens_user ON mfa_tokens (user_id);
CREATE INDEX mfa_tokens_expires_at ON mfa_tokens (expires_at);
