package sqldb

import "context"

// MigrateTo applies the migrations up to version last, for tests that
// fill an older schema and then migrate it.
func (db *DB) MigrateTo(ctx context.Context, last int64) error { return db.migrateTo(ctx, last) }
