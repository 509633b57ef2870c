-- Users provisioned from a trusted external issuer (e.g. a Better Auth
-- front end) carry that issuer; their id is the issuer's `sub`. Latchkey's
-- own users have ''. They have no password and no stored email: email is
-- '' and email_lower an internal key that no real address can equal.
ALTER TABLE users ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
