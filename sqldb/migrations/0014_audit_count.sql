-- Rejections of unauthenticated requests (token_rejected, rate_limited) are
-- recorded once per client address and reason a minute: such an event
-- stands for count rejections. Every other event stands for one.
ALTER TABLE audit_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
