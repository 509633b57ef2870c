package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

// CreateSigningKey inserts k as given; an empty ID is filled in (UUIDv7) and
// a zero CreatedAt set from db.Now. The key bytes are stored as passed:
// encrypting the private key at rest is the caller's business (package
// token seals it).
func (db *DB) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	id := k.ID
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return db.wrap("create signing key", err)
		}
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	err := db.inTx(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO signing_keys (id, algorithm, public_key, private_key, created_at)
			 VALUES ($1, $2, $3, $4, $5)`,
			id, k.Algorithm, k.PublicKey, k.PrivateKey, nanos(created)); err != nil {
			return err
		}
		return db.notify(ctx, tx, ChannelKeys)
	})
	if err != nil {
		return db.wrap("create signing key", err)
	}
	k.ID, k.CreatedAt = id, fromNanos(nanos(created))
	return nil
}

// ListSigningKeys returns every key, newest first.
func (db *DB) ListSigningKeys(ctx context.Context) ([]*latchkey.SigningKey, error) {
	rows, err := db.reader.QueryContext(ctx,
		`SELECT id, algorithm, public_key, private_key, created_at FROM signing_keys
		 ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, db.wrap("list signing keys", err)
	}
	defer rows.Close()
	var out []*latchkey.SigningKey
	for rows.Next() {
		var k latchkey.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created); err != nil {
			return nil, db.wrap("list signing keys", err)
		}
		k.CreatedAt = fromNanos(created)
		out = append(out, &k)
	}
	return out, db.wrap("list signing keys", rows.Err())
}

// RewriteSigningKeys calls fn with every key, newest first, inside one
// write transaction, and stores the PrivateKey of each key for which fn
// reports a change; only the private key is written. An error from fn
// rolls everything back. fn must not use the store: on SQLite the
// transaction holds the only writer connection.
//
// Before a changed private key is written, the old value is overwritten
// in place with zeros of the same length. SQLite rewrites a record of
// unchanged size where it lies, and the new, longer value then moves, so
// the old bytes do not linger in the page's free space (Latchkey uses this
// to seal keys that earlier versions stored in plain text).
func (db *DB) RewriteSigningKeys(ctx context.Context, fn func(k *latchkey.SigningKey) (changed bool, err error)) error {
	var fnErr error
	err := db.inTx(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT id, algorithm, public_key, private_key, created_at FROM signing_keys
			 ORDER BY created_at DESC, id DESC`)
		if err != nil {
			return err
		}
		var keys []*latchkey.SigningKey
		for rows.Next() {
			var k latchkey.SigningKey
			var created int64
			if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created); err != nil {
				rows.Close()
				return err
			}
			k.CreatedAt = fromNanos(created)
			keys = append(keys, &k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range keys {
			old := len(k.PrivateKey)
			changed, err := fn(k)
			if err != nil {
				fnErr = err
				return err
			}
			if !changed {
				continue
			}
			for _, v := range [][]byte{make([]byte, old), k.PrivateKey} {
				if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2`, v, k.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr // the caller's own error, as it gave it
	}
	return db.wrap("rewrite signing keys", err)
}

// DeleteSigningKeys removes retired keys, overwriting each private key with
// zeros first so that its bytes do not linger in SQLite's free pages.
func (db *DB) DeleteSigningKeys(ctx context.Context, ids []string) error {
	deleted := false
	err := db.inTx(ctx, func(tx *tx) error {
		for _, id := range ids {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT length(private_key) FROM signing_keys WHERE id = $1`, id).Scan(&n)
			if errors.Is(err, sql.ErrNoRows) {
				continue // another process deleted it first
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`UPDATE signing_keys SET private_key = $1 WHERE id = $2`, make([]byte, n), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = $1`, id); err != nil {
				return err
			}
			deleted = true
		}
		if !deleted {
			return nil
		}
		return db.notify(ctx, tx, ChannelKeys)
	})
	return db.wrap("delete signing keys", err)
}
