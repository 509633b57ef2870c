package sqldb

import (
	"context"

	"github.com/latchkey/latchkey"
)

// CreateSigningKey inserts k as given; an empty ID is filled in (UUIDv7) and
// a zero CreatedAt set from db.Now. The key bytes are stored as passed:
// encrypting the private key at rest is the caller's business.
func (db *DB) CreateSigningKey(ctx context.Context, k *latchkey.SigningKey) error {
	id := k.ID
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return wrap("create signing key", err)
		}
	}
	created := k.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	_, err := db.writer.ExecContext(ctx,
		`INSERT INTO signing_keys (id, algorithm, public_key, private_key, created_at)
		 VALUES ($1, $2, $3, $4, $5)`,
		id, k.Algorithm, k.PublicKey, k.PrivateKey, nanos(created))
	if err != nil {
		return wrap("create signing key", err)
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
		return nil, wrap("list signing keys", err)
	}
	defer rows.Close()
	var out []*latchkey.SigningKey
	for rows.Next() {
		var k latchkey.SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created); err != nil {
			return nil, wrap("list signing keys", err)
		}
		k.CreatedAt = fromNanos(created)
		out = append(out, &k)
	}
	return out, wrap("list signing keys", rows.Err())
}
