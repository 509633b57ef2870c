-- Failed sign-ins per email (lower-cased), for the per-account throttle:
-- kept in the store so the count holds across instances and restarts.
-- Unknown emails are counted the same way, so the throttle reveals nothing.
CREATE TABLE signin_failures (
	email_lower TEXT NOT NULL,
	at          BIGINT NOT NULL
);

CREATE INDEX signin_failures_email_at ON signin_failures (email_lower, at);
CREATE INDEX signin_failures_at ON signin_failures (at);
