package sqldb

// The outbox. Mail that goes with a change is written by inTx, in the
// change's own transaction (latchkey.WithMail); EnqueueMail writes mail
// that goes with none. Senders claim due mail by setting a lease in one
// write transaction: on SQLite write transactions exclude each other,
// across processes too (they begin IMMEDIATE), and on PostgreSQL the
// claim skips the rows another claim has locked and re-checks the lease
// of the rows it updates, so two senders never hold one mail.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.OutboxService = (*DB)(nil)

const outboxColumns = `id, user_id, to_addr, subject, text_body, html_body, created_at, next_at, attempts, last_error`

func scanPending(r rowScanner) (*latchkey.PendingMail, error) {
	var m latchkey.PendingMail
	var created, next int64
	if err := r.Scan(&m.ID, &m.UserID, &m.To, &m.Subject, &m.Text, &m.HTML,
		&created, &next, &m.Attempts, &m.LastError); err != nil {
		return nil, err
	}
	m.CreatedAt, m.NextAt = fromNanos(created), fromNanos(next)
	return &m, nil
}

const insertMailSQL = `INSERT INTO outbox (id, user_id, to_addr, subject, text_body, html_body, created_at, next_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`

// insertMail writes m through q, due at once, and returns the ID and time
// it was given; the caller fills them in once they are committed.
func (db *DB) insertMail(ctx context.Context, q execer, m *latchkey.Mail) (string, time.Time, error) {
	if m.To == "" {
		return "", time.Time{}, latchkey.Errorf(latchkey.EINVALID, "a mail needs an address")
	}
	id, err := newID()
	if err != nil {
		return "", time.Time{}, err
	}
	at := db.now()
	_, err = q.ExecContext(ctx, insertMailSQL, id, m.UserID, m.To, m.Subject, m.Text, m.HTML, nanos(at))
	return id, at, err
}

// insertMails writes the mails ctx carries (latchkey.WithMail) in t and
// returns a function that fills in their IDs and times, for inTx to call
// once they are committed.
func (db *DB) insertMails(ctx context.Context, t *tx) (func(), error) {
	// A mail with an ID was written by an earlier change made with the
	// same context (a user created, then its first session): once is
	// enough.
	var ms []*latchkey.Mail
	for _, m := range latchkey.MailFrom(ctx) {
		if m.ID == "" {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ms))
	ats := make([]time.Time, len(ms))
	for i, m := range ms {
		var err error
		if ids[i], ats[i], err = db.insertMail(ctx, t, m); err != nil {
			return nil, err
		}
	}
	return func() {
		for i, m := range ms {
			m.ID, m.CreatedAt = ids[i], ats[i]
		}
		db.mailQueued()
	}, nil
}

// mailQueued tells this process's sender, if it asked (MailQueued), that
// mail was committed.
func (db *DB) mailQueued() {
	if db.MailQueued != nil {
		db.MailQueued()
	}
}

// EnqueueMail writes m, a mail that goes with no change, due at once, and
// fills in its ID and CreatedAt.
func (db *DB) EnqueueMail(ctx context.Context, m *latchkey.Mail) error {
	id, at, err := db.insertMail(ctx, db.writer, m)
	if err != nil {
		return db.wrap("enqueue mail", err)
	}
	m.ID, m.CreatedAt = id, at
	db.mailQueued()
	return nil
}

// dueMailSQL finds whether any mail is due and free at $1.
const dueMailSQL = `SELECT 1 FROM outbox WHERE next_at <= $1 AND claimed_until <= $1 LIMIT 1`

// claimMailSQL leases up to $3 mails due at $2 until $1. The outer
// condition on claimed_until is checked again on each row PostgreSQL
// updates after waiting for its lock, so a mail another claim took
// meanwhile is left alone; skip, the dialect's SkipLocked, keeps claims
// from waiting for each other at all.
func claimMailSQL(skip string) string {
	return `UPDATE outbox SET claimed_until = $1
	WHERE id IN (SELECT id FROM outbox WHERE next_at <= $2 AND claimed_until <= $2
		ORDER BY next_at, id LIMIT $3` + skip + `)
	AND claimed_until <= $2
	RETURNING ` + outboxColumns
}

// ClaimMail leases up to limit due mails for lease, oldest due first.
func (db *DB) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]*latchkey.PendingMail, error) {
	if limit <= 0 {
		return nil, nil
	}
	now := db.now()
	// Most polls find nothing: a read on the reader pool says so without
	// taking the write lock (SQLite) or a transaction's locks.
	var one int
	switch err := db.reader.QueryRowContext(ctx, dueMailSQL, nanos(now)).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, db.wrap("claim mail", err)
	}
	var out []*latchkey.PendingMail
	err := db.inTx(ctx, func(t *tx) error {
		rows, err := t.QueryContext(ctx, claimMailSQL(db.dialect.SkipLocked), nanos(now.Add(lease)), nanos(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanPending(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, db.wrap("claim mail", err)
	}
	slices.SortFunc(out, func(a, b *latchkey.PendingMail) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MailDelivered deletes a delivered mail, its body with it. An unknown id
// (a mail given up meanwhile) is not an error.
func (db *DB) MailDelivered(ctx context.Context, id string) error {
	return db.wrap("mail delivered", db.inTx(ctx, func(t *tx) error {
		_, err := t.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1`, id)
		return err
	}))
}

const (
	mailAttemptSQL    = `SELECT user_id, created_at, attempts FROM outbox WHERE id = $1`
	mailRetryLaterSQL = `UPDATE outbox SET attempts = $2, next_at = $3, claimed_until = 0, last_error = $4
		WHERE id = $1`
)

// MailFailed records a failed attempt at mail id: due again after its
// backoff, or given up when it was made OutboxGiveUp ago or more. An
// unknown id is not an error: it reports false.
func (db *DB) MailFailed(ctx context.Context, id string, cause string) (bool, error) {
	now := db.now()
	gaveUp := false
	err := db.inTx(ctx, func(t *tx) error {
		var userID string
		var created int64
		var attempts int
		err := t.QueryRowContext(ctx, mailAttemptSQL, id).Scan(&userID, &created, &attempts)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errNoChange
			}
			return err
		}
		attempts++
		if now.Sub(fromNanos(created)) >= latchkey.OutboxGiveUp {
			gaveUp = true
			return db.giveUp(ctx, t, id, userID, attempts, now)
		}
		_, err = t.ExecContext(ctx, mailRetryLaterSQL, id, attempts, nanos(now.Add(latchkey.OutboxBackoff(attempts))), cause)
		return err
	})
	if err != nil {
		return false, db.wrap("mail failed", err)
	}
	return gaveUp, nil
}

// giveUp deletes mail id in t and records mail_failed about its user.
func (db *DB) giveUp(ctx context.Context, t *tx, id, userID string, attempts int, now time.Time) error {
	if _, err := t.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1`, id); err != nil {
		return err
	}
	return db.insertAudit(ctx, t, &latchkey.AuditEvent{
		Type: latchkey.AuditMailFailed, UserID: userID, At: now,
		Reason: fmt.Sprintf("undelivered after %s and %d failed attempts", latchkey.OutboxGiveUp, attempts),
	})
}

// ExpireMail gives up every mail made OutboxGiveUp ago or more that no
// sender's lease holds, and returns how many.
func (db *DB) ExpireMail(ctx context.Context) (int, error) {
	now := db.now()
	n := 0
	err := db.inTx(ctx, func(t *tx) error {
		rows, err := t.QueryContext(ctx, `SELECT id, user_id, attempts FROM outbox
			WHERE created_at <= $1 AND claimed_until <= $2 ORDER BY created_at, id`,
			nanos(now.Add(-latchkey.OutboxGiveUp)), nanos(now))
		if err != nil {
			return err
		}
		type row struct {
			id, user string
			attempts int
		}
		var old []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.user, &r.attempts); err != nil {
				rows.Close()
				return err
			}
			old = append(old, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range old {
			if err := db.giveUp(ctx, t, r.id, r.user, r.attempts, now); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, db.wrap("expire mail", err)
	}
	return n, nil
}

// ListMail returns every undelivered mail, oldest first.
func (db *DB) ListMail(ctx context.Context) ([]*latchkey.PendingMail, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox ORDER BY created_at, id`)
	if err != nil {
		return nil, db.wrap("list mail", err)
	}
	defer rows.Close()
	var out []*latchkey.PendingMail
	for rows.Next() {
		m, err := scanPending(rows)
		if err != nil {
			return nil, db.wrap("list mail", err)
		}
		out = append(out, m)
	}
	return out, db.wrap("list mail", rows.Err())
}

// RetryMail makes every undelivered mail due now and returns how many. A
// mail a sender holds keeps its lease: it is being tried already.
func (db *DB) RetryMail(ctx context.Context) (int, error) {
	var n int64
	err := db.inTx(ctx, func(t *tx) error {
		res, err := t.ExecContext(ctx, `UPDATE outbox SET next_at = $1`, nanos(db.now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.wrap("retry mail", err)
	}
	db.mailQueued()
	return int(n), nil
}
