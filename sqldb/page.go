package sqldb

import (
	"context"

	"github.com/latchkey/latchkey"
)

// listPage runs a keyset query of the reader pool and returns one page of
// its rows: up to limit of them (latchkey.DefaultPageSize when not
// positive) and, when more follow, the cursor of the last one. query's
// placeholders take args, then after's time and id when after is set, then
// the number of rows to return, which is one more than the page so that
// the extra row tells whether a next page exists. op names the list in
// errors.
func listPage[T any](ctx context.Context, db *DB, op string, limit int, after *latchkey.Cursor,
	query string, args []any, scan func(rowScanner) (T, error), cursor func(T) latchkey.Cursor,
) ([]T, *latchkey.Cursor, error) {
	if limit <= 0 {
		limit = latchkey.DefaultPageSize
	}
	if after != nil {
		args = append(args, nanos(after.CreatedAt), after.ID)
	}
	args = append(args, limit+1)

	rows, err := db.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, db.wrap(op, err)
	}
	defer rows.Close()
	out := make([]T, 0, min(limit+1, 64))
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, nil, db.wrap(op, err)
		}
		out = append(out, item)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, db.wrap(op, err)
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	out = out[:limit]
	c := cursor(out[limit-1])
	return out, &c, nil
}
