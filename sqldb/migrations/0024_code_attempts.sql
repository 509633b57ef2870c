-- Guesses of mailed one-time codes, per address (or user) and purpose, over
-- a day: the 5 wrong codes one token takes would otherwise start afresh
-- with each new token, which anyone may ask for once a minute. Keyed like
-- signin_failures, by a SHA-256: no address in plain text.
CREATE TABLE code_attempts (
	email_key BLOB NOT NULL,
	at        BIGINT NOT NULL
);

CREATE INDEX code_attempts_key_at ON code_attempts (email_key, at);
CREATE INDEX code_attempts_at ON code_attempts (at);
