-- The throttle keys attempts by the SHA-256 of the lower-cased email: a
-- fixed 32 bytes whatever length a client sends, and no email in plain
-- text here. The old rows are at most 15 minutes of history.
DROP TABLE signin_failures;

CREATE TABLE signin_failures (
	email_key BLOB NOT NULL,
	at        BIGINT NOT NULL
);

CREATE INDEX signin_failures_key_at ON signin_failures (email_key, at);
CREATE INDEX signin_failures_at ON signin_failures (at);
