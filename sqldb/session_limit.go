package sqldb

// The cap on a user's live sessions (CreateSession's max): the session
// that goes past it displaces the least recently used.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/latchkey/latchkey"
)

// sessionLimitSQL revokes a user's live sessions but the new one and the
// $6 most recently used of the others. Arguments: revoked at, reason, user
// id, the new session's id, now, how many others may stay.
const sessionLimitSQL = `UPDATE sessions SET revoked_at = $1, revoke_reason = $2
	WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL AND expires_at > $5
	  AND id NOT IN (SELECT id FROM sessions
		WHERE user_id = $3 AND id <> $4 AND revoked_at IS NULL AND expires_at > $5
		ORDER BY last_used_at DESC, id DESC LIMIT $6)
	RETURNING id`

// makeRoom revokes, in tx, the least recently used live sessions of s's
// user, never s itself (stored as id), so that at most max stay live;
// it records a session_revoked event for each and announces them.
func (db *DB) makeRoom(ctx context.Context, tx *tx, s *latchkey.Session, id string, max int) ([]string, error) {
	now := nanos(s.CreatedAt)
	out, err := ids(tx.QueryContext(ctx, sessionLimitSQL,
		db.revokedAt(s.CreatedAt), latchkey.ReasonSessionLimit, s.UserID, id, now, max-1))
	if err != nil || len(out) == 0 {
		return nil, err
	}
	for _, sid := range out {
		ev := &latchkey.AuditEvent{Type: latchkey.AuditSessionRevoked, UserID: s.UserID, SessionID: sid,
			IP: s.IP, UserAgent: s.UserAgent, Reason: latchkey.ReasonSessionLimit}
		if err := db.insertAudit(ctx, tx, ev); err != nil {
			return nil, err
		}
	}
	return out, db.notify(ctx, tx, ChannelRevocations)
}

// sessionsLockKey is the KeyLock key of a user's sessions: the first 8
// bytes of a SHA-256, as a signed BIGINT. A collision, with another user
// or with a sign-in throttle key, only makes the two wait for each other.
func sessionsLockKey(userID string) int64 {
	h := sha256.Sum256([]byte("sessions\x00" + userID))
	return int64(binary.BigEndian.Uint64(h[:8]))
}
