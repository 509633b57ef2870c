-- Emails are compared by one canonical key (package emailkey: NFKC-style
-- compatibility decomposition, full Unicode case folding, default
-- ignorables removed), no longer by strings.ToLower. The key is computed
-- in Go, so after this SQL the migration's Go step (rekeyEmails, in
-- sqldb/migrate_email.go) recomputes it for every local user, in the same
-- transaction, and fails, changing nothing, when two users would get one
-- key. External users' keys (issuer <> '') are internal and stay.
ALTER TABLE users RENAME COLUMN email_lower TO email_key;
