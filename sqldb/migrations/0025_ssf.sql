-- Issue 15: the Shared Signals (SSF) transmitter. Receivers subscribe to
-- the revocation feed (the sessions table's revoked_at, by its
-- (revoked_at, id) index); each verifier process polls a stream of its
-- receiver; a stream's acks say which revocations it received.
CREATE TABLE ssf_receivers (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	-- The aud of the SETs sent to it.
	audience    TEXT NOT NULL,
	-- SHA-256 of its bearer secret; the secret itself is never stored.
	secret_hash BLOB NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX ssf_receivers_secret_hash ON ssf_receivers (secret_hash);

CREATE TABLE ssf_streams (
	id                  TEXT PRIMARY KEY,
	receiver_id         TEXT NOT NULL REFERENCES ssf_receivers (id) ON DELETE CASCADE,
	description         TEXT NOT NULL DEFAULT '',
	-- Space-separated event type URIs the receiver asked for.
	events_requested    TEXT NOT NULL DEFAULT '',
	status              TEXT NOT NULL CHECK (status IN ('enabled', 'paused', 'disabled')),
	status_reason       TEXT NOT NULL DEFAULT '',
	created_at          BIGINT NOT NULL,
	-- created_at until the first poll; a stream not polled for 300 s is
	-- deleted.
	last_poll_at        BIGINT NOT NULL,
	-- The last verification request (0: none), and the state its SET
	-- echoes while that SET is unacknowledged (NULL: none pending).
	verify_requested_at BIGINT NOT NULL DEFAULT 0,
	verify_state        TEXT
);
-- A receiver's list, oldest first, and the count under its cap.
CREATE INDEX ssf_streams_receiver_created ON ssf_streams (receiver_id, created_at);
-- Pruning the inactive.
CREATE INDEX ssf_streams_last_poll_at ON ssf_streams (last_poll_at);

-- The revocations (by session) a stream acknowledged, kept until they
-- left the retention window. No foreign key to sessions: pruning a
-- session must not wait on its acks, and the acks expire anyway.
CREATE TABLE ssf_acks (
	stream_id  TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
	session_id TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (stream_id, session_id)
);
-- Pruning the expired.
CREATE INDEX ssf_acks_expires_at ON ssf_acks (expires_at);
