-- Issue 13: whether a user's address was proved (a mailed link or code, a
-- password reset) or vouched for by an operator. Accounts from before are
-- not verified: nothing proved their addresses.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- The mail cooldown looks for a user's latest token of a purpose, used or
-- not.
CREATE INDEX one_time_tokens_user_purpose_created ON one_time_tokens (user_id, purpose, created_at);
