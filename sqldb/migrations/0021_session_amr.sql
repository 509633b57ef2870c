-- Issue 14 groundwork: how a session's sign-in authenticated the user, the
-- amr claim (RFC 8176) of its access tokens, space-separated. Every session
-- until now came from a password.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
