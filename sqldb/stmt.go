package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// pool is a *sql.DB that prepares each query text once and reuses the
// statement: parsing is a large part of a small query's cost on SQLite.
// database/sql prepares a statement again on each connection that runs it.
// The set of query texts is fixed (they are constants), so the cache stays
// small.
type pool struct {
	db    *sql.DB
	stmts sync.Map // query text -> *sql.Stmt
}

func newPool(db *sql.DB) *pool { return &pool{db: db} }

// prepared returns the statement for query, or nil when it cannot be
// prepared; the caller then runs the query unprepared, which reports the
// error in the usual way.
func (p *pool) prepared(ctx context.Context, query string) *sql.Stmt {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, query, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}

// close closes the prepared statements and then the pool.
func (p *pool) close() error {
	var errs []error
	p.stmts.Range(func(k, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		p.stmts.Delete(k)
		return true
	})
	return errors.Join(append(errs, p.db.Close())...)
}

// tx is a write transaction that runs the pool's prepared statements.
//
// It must not prepare a statement on the pool itself: on SQLite the pool's
// only connection is the one the transaction holds, so that would wait for
// ever. A query not yet prepared runs unprepared and is noted in missed;
// inTx prepares those once the transaction has let go of the connection.
type tx struct {
	tx     *sql.Tx
	p      *pool
	missed []string
}

func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.p.stmts.Load(query); ok {
		return t.tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	t.missed = append(t.missed, query)
	return nil
}

func (t *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
