-- Issue 14: passkeys (WebAuthn credentials) and the challenges of their
-- ceremonies. Migration 22 is the TOTP factors'.
CREATE TABLE passkeys (
	id              TEXT PRIMARY KEY,
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- The authenticator's credential ID, which an assertion names: one
	-- credential is one passkey, whoever registers it.
	credential_id   BLOB NOT NULL,
	public_key      BLOB NOT NULL,
	-- The last signature counter seen; it must grow (or stay 0 with 0).
	sign_count      BIGINT NOT NULL,
	aaguid          BLOB NOT NULL,
	-- Space-separated transport hints (usb, internal, hybrid...).
	transports      TEXT NOT NULL,
	backup_eligible BOOLEAN NOT NULL,
	backed_up       BOOLEAN NOT NULL,
	user_verified   BOOLEAN NOT NULL,
	name            TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	last_used_at    BIGINT
);
CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);
-- A user's list, oldest first, and the count under the cap.
CREATE INDEX passkeys_user_created ON passkeys (user_id, created_at);

-- A ceremony's challenge and go-webauthn's session data, taken once
-- (used_at) by whichever instance receives the answer.
CREATE TABLE webauthn_challenges (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL CHECK (purpose IN ('register', 'signin')),
	-- The registering user; NULL for a sign-in, whose user is not known
	-- until the assertion names its credential.
	user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
	challenge  BLOB NOT NULL,
	session    TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT,
	CHECK ((purpose = 'register') = (user_id IS NOT NULL))
);
-- Pruning.
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
