package sqldb

// What an SSF stream's poll reads and writes (latchkey.SSFService): the
// revocations it has not acknowledged, its acks, its last poll, its
// verification event; and the pruning of dead streams and old acks.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

const (
	// pendingRevocationsSQL walks the revocation feed from the window's
	// start by the (revoked_at, id) index, as RevokedSince does, and
	// skips what the stream acknowledged by its acks' primary key.
	// Arguments: stream id, window start, limit.
	pendingRevocationsSQL = `SELECT s.id, s.user_id, s.revoked_at, s.revoke_reason FROM sessions s
		WHERE s.revoked_at >= $2
		  AND NOT EXISTS (SELECT 1 FROM ssf_acks a WHERE a.stream_id = $1 AND a.session_id = s.id)
		ORDER BY s.revoked_at, s.id LIMIT $3`
	// ackRevocationSQL acknowledges one revoked session: an id that is no
	// revoked session adds nothing, so a receiver cannot grow the table
	// with made-up ids. Arguments: stream id, session id, expires at.
	ackRevocationSQL = `INSERT INTO ssf_acks (stream_id, session_id, expires_at)
		SELECT $1, id, $3 FROM sessions WHERE id = $2 AND revoked_at IS NOT NULL
		ON CONFLICT DO NOTHING`
	// touchStreamSQL records a poll, unless the stream went
	// StreamInactivity without one ($3 is the oldest poll allowed).
	touchStreamSQL = `UPDATE ssf_streams
		SET last_poll_at = CASE WHEN last_poll_at < $2 THEN $2 ELSE last_poll_at END
		WHERE id = $1 AND last_poll_at > $3`
	pruneStreamsSQL = `DELETE FROM ssf_streams WHERE last_poll_at <= $1`
	pruneAcksSQL    = `DELETE FROM ssf_acks WHERE expires_at < $1`
)

// PendingRevocations returns at most limit revocations at or after
// windowStart that the stream has not acknowledged, oldest first.
func (db *DB) PendingRevocations(ctx context.Context, streamID string, windowStart time.Time, limit int) ([]latchkey.RevokedSession, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.reader.QueryContext(ctx, pendingRevocationsSQL, streamID, nanos(windowStart), limit)
	return db.scanRevoked(rows, err, "pending revocations")
}

// AckRevocations records that the stream received the revocations of
// sessionIDs, until expiresAt; ENOTFOUND when there is no such stream.
func (db *DB) AckRevocations(ctx context.Context, streamID string, sessionIDs []string, expiresAt time.Time) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM ssf_streams WHERE id = $1`, streamID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("stream")
		} else if err != nil {
			return err
		}
		for _, id := range sessionIDs {
			if _, err := tx.ExecContext(ctx, ackRevocationSQL, streamID, id, nanos(expiresAt)); err != nil {
				if db.isForeignKey(err) {
					return notFound("stream")
				}
				return err
			}
		}
		return nil
	})
	return db.wrap("ack revocations", err)
}

// TouchStream records a poll of a stream still active at at.
func (db *DB) TouchStream(ctx context.Context, id string, at time.Time) error {
	n, err := db.execCount(ctx, "touch stream", touchStreamSQL, id, nanos(at), nanos(at.Add(-latchkey.StreamInactivity)))
	if err == nil && n == 0 {
		return notFound("stream")
	}
	return err
}

// RequestStreamVerification records a verification request, at most one
// per MinVerificationInterval.
func (db *DB) RequestStreamVerification(ctx context.Context, receiverID, id, state string, now time.Time) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ssf_streams SET verify_requested_at = $3, verify_state = $4
			WHERE id = $1 AND receiver_id = $2 AND verify_requested_at <= $5`,
			id, receiverID, nanos(now), state, nanos(now.Add(-latchkey.MinVerificationInterval)))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var last int64
		err = tx.QueryRowContext(ctx, `SELECT verify_requested_at FROM ssf_streams WHERE id = $1 AND receiver_id = $2`,
			id, receiverID).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("stream")
		} else if err != nil {
			return err
		}
		wait := fromNanos(last).Add(latchkey.MinVerificationInterval).Sub(now)
		return &latchkey.Error{Code: latchkey.ERATELIMITED, RetryAfter: max(wait.Round(time.Second), time.Second),
			Message: "a verification was requested less than 10 s ago"}
	})
	return db.wrap("request stream verification", err)
}

// AckStreamVerification ends the verification requested at requestedAt.
func (db *DB) AckStreamVerification(ctx context.Context, id string, requestedAt time.Time) error {
	_, err := db.execCount(ctx, "ack stream verification",
		`UPDATE ssf_streams SET verify_state = NULL WHERE id = $1 AND verify_requested_at = $2`, id, nanos(requestedAt))
	return err
}

// PruneSSF deletes the streams not polled for StreamInactivity (their
// acks go with them, ON DELETE CASCADE) and the expired acks.
func (db *DB) PruneSSF(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, pruneStreamsSQL, nanos(now.Add(-latchkey.StreamInactivity)))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, pruneAcksSQL, nanos(now))
		return err
	})
	if err != nil {
		return 0, db.wrap("prune SSF", err)
	}
	return n, nil
}

// scanRevoked reads the (id, user id, revoked at, reason) rows of the
// revocation feed.
func (db *DB) scanRevoked(rows *sql.Rows, err error, op string) ([]latchkey.RevokedSession, error) {
	if err != nil {
		return nil, db.wrap(op, err)
	}
	defer rows.Close()
	var out []latchkey.RevokedSession
	for rows.Next() {
		var r latchkey.RevokedSession
		var at int64
		if err := rows.Scan(&r.ID, &r.UserID, &at, &r.Reason); err != nil {
			return nil, db.wrap(op, err)
		}
		r.RevokedAt = fromNanos(at)
		out = append(out, r)
	}
	return out, db.wrap(op, rows.Err())
}
