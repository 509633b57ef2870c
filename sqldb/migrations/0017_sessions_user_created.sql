-- The session list pages by (created_at, id), newest first, as the task
-- list does; this index answers it without a sort. It also serves every
-- lookup by user, so the index on user_id alone goes.
CREATE INDEX sessions_user_created ON sessions (user_id, created_at DESC, id DESC);
DROP INDEX sessions_user_id;
