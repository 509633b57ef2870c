-- The outbox: mail from the request that made it until it is delivered
-- (the row is deleted) or given up after 24 h (deleted, mail_failed
-- audited). Only undelivered mail is here, so every row is one that
-- `latchkey mail list` shows. user_id is '' for mail to no user; no
-- foreign key, since a mail may outlive its user by a retry or two.
-- claimed_until is the lease of the sender that holds the mail (0 for
-- none): a due mail is claimed by setting it, in one write, so that one
-- sender sends it.
CREATE TABLE outbox (
	id            TEXT PRIMARY KEY,
	user_id       TEXT NOT NULL DEFAULT '',
	to_addr       TEXT NOT NULL,
	subject       TEXT NOT NULL,
	text_body     TEXT NOT NULL,
	html_body     TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	next_at       BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	attempts      INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT ''
);

-- Due mail, oldest first (ClaimMail).
CREATE INDEX outbox_next ON outbox (next_at, id);
-- Mail to give up (ExpireMail).
CREATE INDEX outbox_created ON outbox (created_at, id);
