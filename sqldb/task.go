package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/latchkey/latchkey"
)

const taskColumns = `id, user_id, title, description, completed, created_at, updated_at`

func scanTask(r rowScanner) (*latchkey.Task, error) {
	var t latchkey.Task
	var created, updated int64
	if err := r.Scan(&t.ID, &t.UserID, &t.Title, &t.Description, &t.Completed, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt = fromNanos(created)
	t.UpdatedAt = fromNanos(updated)
	return &t, nil
}

// oneTask scans the single row of a SELECT or UPDATE ... RETURNING;
// ENOTFOUND when there is none.
func (db *DB) oneTask(op string, row *sql.Row) (*latchkey.Task, error) {
	t, err := scanTask(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("task")
	}
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return t, nil
}

// writeTask runs an UPDATE ... RETURNING taskColumns in a write
// transaction (like every change, so that an audit event in ctx goes with
// it) and returns the task; ENOTFOUND when no row matched.
func (db *DB) writeTask(ctx context.Context, op, query string, args ...any) (*latchkey.Task, error) {
	var t *latchkey.Task
	err := db.inTx(ctx, func(tx *tx) error {
		var err error
		t, err = db.oneTask(op, tx.QueryRowContext(ctx, query, args...))
		return err
	})
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return t, nil
}

// CreateTask inserts t and fills in t.ID, t.CreatedAt and t.UpdatedAt (both
// from db.Now). It returns ENOTFOUND when t.UserID is not a user.
func (db *DB) CreateTask(ctx context.Context, t *latchkey.Task) error {
	id, err := newID()
	if err != nil {
		return db.wrap("create task", err)
	}
	now := db.now()
	err = db.inTx(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tasks (`+taskColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			id, t.UserID, t.Title, t.Description, t.Completed, now.UnixNano())
		if err != nil && db.isForeignKey(err) {
			return notFound("user")
		}
		return err
	})
	if err != nil {
		return db.wrap("create task", err)
	}
	t.ID, t.CreatedAt, t.UpdatedAt = id, now, now
	return nil
}

// FindTask returns the user's task; ENOTFOUND when the user has no such
// task, whoever else may.
func (db *DB) FindTask(ctx context.Context, userID, id string) (*latchkey.Task, error) {
	return db.oneTask("find task", db.reader.QueryRowContext(ctx,
		`SELECT `+taskColumns+` FROM tasks WHERE id = $1 AND user_id = $2`, id, userID))
}

// UpdateTask sets the non-nil fields of upd and UpdatedAt, in one
// statement, and returns the updated task; ENOTFOUND as FindTask.
func (db *DB) UpdateTask(ctx context.Context, userID, id string, upd latchkey.TaskUpdate) (*latchkey.Task, error) {
	// A nil pointer binds NULL, and COALESCE keeps the column.
	var title, desc, done any
	if upd.Title != nil {
		title = *upd.Title
	}
	if upd.Description != nil {
		desc = *upd.Description
	}
	if upd.Completed != nil {
		done = *upd.Completed
	}
	return db.writeTask(ctx, "update task",
		`UPDATE tasks SET title = COALESCE($1, title), description = COALESCE($2, description),
		     completed = COALESCE($3, completed), updated_at = $4
		 WHERE id = $5 AND user_id = $6
		 RETURNING `+taskColumns,
		title, desc, done, db.now().UnixNano(), id, userID)
}

// ToggleTask flips Completed in SQL, bumps UpdatedAt and returns the task;
// ENOTFOUND as FindTask.
func (db *DB) ToggleTask(ctx context.Context, userID, id string) (*latchkey.Task, error) {
	return db.writeTask(ctx, "toggle task",
		`UPDATE tasks SET completed = NOT completed, updated_at = $1
		 WHERE id = $2 AND user_id = $3
		 RETURNING `+taskColumns,
		db.now().UnixNano(), id, userID)
}

// DeleteTask deletes the user's task; ENOTFOUND as FindTask.
func (db *DB) DeleteTask(ctx context.Context, userID, id string) error {
	err := db.inTx(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return err
		}
		return db.oneRow(res, "delete task", "task")
	})
	return db.wrap("delete task", err)
}

// The keyset queries of ListTasks, newest first. "created_at <= c AND
// (created_at < c OR id < i)" is "(created_at, id) < (c, i)" written so that
// the created_at bound is an index range, not a filter over the rows before
// the cursor: a page costs the same wherever it starts.
const (
	listTasksSQL = `SELECT ` + taskColumns + ` FROM tasks
		WHERE user_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`
	listTasksAfterSQL = `SELECT ` + taskColumns + ` FROM tasks
		WHERE user_id = $1 AND created_at <= $2 AND (created_at < $2 OR id < $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`
	listTasksStatusSQL = `SELECT ` + taskColumns + ` FROM tasks
		WHERE user_id = $1 AND completed = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`
	listTasksStatusAfterSQL = `SELECT ` + taskColumns + ` FROM tasks
		WHERE user_id = $1 AND completed = $2 AND created_at <= $3 AND (created_at < $3 OR id < $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`
)

// ListTasks returns up to f.Limit (latchkey.DefaultPageSize when not
// positive) of the user's tasks, newest first by (CreatedAt, ID), starting
// strictly after f.After. When more follow, it also returns the cursor of
// the last task returned. An empty status means all; an unknown one is
// EINVALID.
func (db *DB) ListTasks(ctx context.Context, f latchkey.TaskFilter) ([]*latchkey.Task, *latchkey.Cursor, error) {
	var query string
	args := make([]any, 0, 5) // room for listPage's cursor and limit
	args = append(args, f.UserID)
	switch f.Status {
	case latchkey.TaskStatusAll, "":
		query = listTasksSQL
		if f.After != nil {
			query = listTasksAfterSQL
		}
	case latchkey.TaskStatusPending, latchkey.TaskStatusCompleted:
		query = listTasksStatusSQL
		if f.After != nil {
			query = listTasksStatusAfterSQL
		}
		args = append(args, f.Status == latchkey.TaskStatusCompleted)
	default:
		return nil, nil, latchkey.Errorf(latchkey.EINVALID, "unknown task status %q", f.Status)
	}
	return listPage(ctx, db, "list tasks", f.Limit, f.After, query, args, scanTask,
		func(t *latchkey.Task) latchkey.Cursor { return latchkey.Cursor{CreatedAt: t.CreatedAt, ID: t.ID} })
}
