package sqldb

// The SSF transmitter's receivers and streams (latchkey.SSFService); the
// feed itself, acks and pruning are in ssf_feed.go.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.SSFService = (*DB)(nil)

const (
	receiverColumns = `id, name, audience, secret_hash, created_at`
	// listReceiversSQL counts each receiver's streams from the
	// (receiver_id, created_at) index.
	listReceiversSQL = `SELECT r.id, r.name, r.audience, r.created_at,
		(SELECT COUNT(*) FROM ssf_streams s WHERE s.receiver_id = r.id)
		FROM ssf_receivers r ORDER BY r.name`

	streamColumns = `id, receiver_id, description, events_requested, status, status_reason,
		created_at, last_poll_at, verify_requested_at, verify_state`
	insertStreamSQL = `INSERT INTO ssf_streams (` + streamColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL)`
	countStreamsSQL         = `SELECT COUNT(*) FROM ssf_streams WHERE receiver_id = $1`
	pruneReceiverStreamsSQL = `DELETE FROM ssf_streams WHERE receiver_id = $1 AND last_poll_at <= $2`
	listStreamsSQL          = `SELECT ` + streamColumns + ` FROM ssf_streams
		WHERE receiver_id = $1 ORDER BY created_at, id`
)

// CreateReceiver stores r; ErrReceiverNameTaken when its name is taken.
func (db *DB) CreateReceiver(ctx context.Context, r *latchkey.Receiver) error {
	saved := *r
	if r.ID == "" {
		id, err := newID()
		if err != nil {
			return db.wrap("create receiver", err)
		}
		r.ID = id
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ssf_receivers (`+receiverColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.Name, r.Audience, r.SecretHash, nanos(r.CreatedAt))
		// The name is the one unique column a caller can repeat: ids are
		// UUIDv7 and secrets 256 random bits. (PostgreSQL allows no
		// query after the failed insert to tell them apart.)
		if db.isUnique(err) {
			return latchkey.ErrReceiverNameTaken
		}
		return err
	})
	if err != nil {
		*r = saved
	}
	return db.wrap("create receiver", err)
}

// FindReceiverBySecretHash returns the receiver whose secret has this
// hash. It reads from the writer: a receiver removed a moment ago must be
// refused at once.
func (db *DB) FindReceiverBySecretHash(ctx context.Context, hash []byte) (*latchkey.Receiver, error) {
	var r latchkey.Receiver
	var created int64
	err := db.writer.QueryRowContext(ctx, `SELECT `+receiverColumns+` FROM ssf_receivers WHERE secret_hash = $1`, hash).
		Scan(&r.ID, &r.Name, &r.Audience, &r.SecretHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("receiver")
	} else if err != nil {
		return nil, db.wrap("find receiver", err)
	}
	r.CreatedAt = fromNanos(created)
	return &r, nil
}

// ListReceivers returns every receiver by name, with its stream count and
// without its secret's hash.
func (db *DB) ListReceivers(ctx context.Context) ([]*latchkey.Receiver, error) {
	rows, err := db.reader.QueryContext(ctx, listReceiversSQL)
	if err != nil {
		return nil, db.wrap("list receivers", err)
	}
	defer rows.Close()
	var out []*latchkey.Receiver
	for rows.Next() {
		var r latchkey.Receiver
		var created int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Audience, &created, &r.Streams); err != nil {
			return nil, db.wrap("list receivers", err)
		}
		r.CreatedAt = fromNanos(created)
		out = append(out, &r)
	}
	return out, db.wrap("list receivers", rows.Err())
}

// DeleteReceiver removes the receiver named name; its streams and their
// acks go with it (ON DELETE CASCADE).
func (db *DB) DeleteReceiver(ctx context.Context, name string) error {
	n, err := db.execCount(ctx, "delete receiver", `DELETE FROM ssf_receivers WHERE name = $1`, name)
	if err == nil && n == 0 {
		return notFound("receiver")
	}
	return err
}

// streamsLockKey is the KeyLock key that makes adding a receiver's
// streams one at a time on PostgreSQL: under READ COMMITTED two
// transactions could otherwise both count MaxStreamsPerReceiver-1 and
// both insert.
func streamsLockKey(receiverID string) int64 {
	h := sha256.Sum256([]byte("ssf_streams\x00" + receiverID))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

func badStatus(s latchkey.StreamStatus) error {
	return latchkey.Errorf(latchkey.EINVALID, "unknown stream status %q", s)
}

// CreateStream stores s under its receiver's cap of MaxStreamsPerReceiver.
func (db *DB) CreateStream(ctx context.Context, s *latchkey.Stream) error {
	saved := *s
	if s.Status == "" {
		s.Status = latchkey.StreamEnabled
	}
	if !s.Status.Valid() {
		*s = saved
		return badStatus(s.Status)
	}
	if s.ID == "" {
		id, err := newID()
		if err != nil {
			return db.wrap("create stream", err)
		}
		s.ID = id
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.LastPollAt = s.CreatedAt
	s.VerifyRequestedAt, s.VerifyPending, s.VerifyState = time.Time{}, false, ""
	err := db.inTx(ctx, func(tx *tx) error {
		if err := db.keyLock(ctx, tx, streamsLockKey(s.ReceiverID)); err != nil {
			return err
		}
		// A dead stream (no poll for StreamInactivity) does not hold a
		// place under the cap until the hourly prune.
		if _, err := tx.ExecContext(ctx, pruneReceiverStreamsSQL, s.ReceiverID,
			nanos(s.CreatedAt.Add(-latchkey.StreamInactivity))); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, countStreamsSQL, s.ReceiverID).Scan(&n); err != nil {
			return err
		}
		if n >= latchkey.MaxStreamsPerReceiver {
			return latchkey.ErrStreamLimit
		}
		_, err := tx.ExecContext(ctx, insertStreamSQL, s.ID, s.ReceiverID, s.Description,
			strings.Join(s.EventsRequested, " "), string(s.Status), s.StatusReason, nanos(s.CreatedAt), nanos(s.LastPollAt))
		if db.isForeignKey(err) {
			return notFound("receiver")
		}
		return err
	})
	if err != nil {
		*s = saved
	}
	return db.wrap("create stream", err)
}

func scanStream(r rowScanner) (*latchkey.Stream, error) {
	var s latchkey.Stream
	var events, status string
	var created, polled, verifyAt int64
	var state sql.NullString
	if err := r.Scan(&s.ID, &s.ReceiverID, &s.Description, &events, &status, &s.StatusReason,
		&created, &polled, &verifyAt, &state); err != nil {
		return nil, err
	}
	s.EventsRequested = strings.Fields(events)
	s.Status = latchkey.StreamStatus(status)
	s.CreatedAt, s.LastPollAt = fromNanos(created), fromNanos(polled)
	s.VerifyRequestedAt = fromNanos(verifyAt)
	s.VerifyPending, s.VerifyState = state.Valid, state.String
	return &s, nil
}

// FindStream returns the receiver's stream id. It reads from the writer,
// as the poll that follows writes the stream's row.
func (db *DB) FindStream(ctx context.Context, receiverID, id string) (*latchkey.Stream, error) {
	s, err := scanStream(db.writer.QueryRowContext(ctx, `SELECT `+streamColumns+` FROM ssf_streams
		WHERE id = $1 AND receiver_id = $2`, id, receiverID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("stream")
	}
	return s, db.wrap("find stream", err)
}

// ListStreams returns the receiver's streams, oldest first.
func (db *DB) ListStreams(ctx context.Context, receiverID string) ([]*latchkey.Stream, error) {
	rows, err := db.reader.QueryContext(ctx, listStreamsSQL, receiverID)
	if err != nil {
		return nil, db.wrap("list streams", err)
	}
	defer rows.Close()
	var out []*latchkey.Stream
	for rows.Next() {
		s, err := scanStream(rows)
		if err != nil {
			return nil, db.wrap("list streams", err)
		}
		out = append(out, s)
	}
	return out, db.wrap("list streams", rows.Err())
}

// UpdateStream stores s's receiver-settable fields and status.
func (db *DB) UpdateStream(ctx context.Context, s *latchkey.Stream) error {
	if !s.Status.Valid() {
		return badStatus(s.Status)
	}
	n, err := db.execCount(ctx, "update stream", `UPDATE ssf_streams
		SET description = $3, events_requested = $4, status = $5, status_reason = $6
		WHERE id = $1 AND receiver_id = $2`,
		s.ID, s.ReceiverID, s.Description, strings.Join(s.EventsRequested, " "), string(s.Status), s.StatusReason)
	if err == nil && n == 0 {
		return notFound("stream")
	}
	return err
}

// DeleteStream removes the receiver's stream id; its acks go with it.
func (db *DB) DeleteStream(ctx context.Context, receiverID, id string) error {
	n, err := db.execCount(ctx, "delete stream",
		`DELETE FROM ssf_streams WHERE id = $1 AND receiver_id = $2`, id, receiverID)
	if err == nil && n == 0 {
		return notFound("stream")
	}
	return err
}
