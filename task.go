package latchkey

import (
	"context"
	"time"
	"unicode/utf8"
)

// Task is an item of a user's task list.
type Task struct {
	ID          string    `json:"id"`
	UserID      string    `json:"user_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Completed   bool      `json:"completed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TaskStatus filters a task list.
type TaskStatus string

const (
	TaskStatusAll       TaskStatus = "all"
	TaskStatusPending   TaskStatus = "pending"
	TaskStatusCompleted TaskStatus = "completed"
)

// Limits of a task, from the contract.
const (
	MaxTaskTitleLen = 200
	MaxTaskDescLen  = 2000
)

// ValidateTaskFields checks a title (already trimmed) and a description, each
// only when present, and returns the fields at fault. A title is one line
// of plain text (PlainLine); a description may hold line breaks and tabs
// (PlainText).
func ValidateTaskFields(title, desc *string) []FieldError {
	var errs []FieldError
	if title != nil {
		if n := utf8.RuneCountInString(*title); n < 1 || n > MaxTaskTitleLen {
			errs = append(errs, FieldError{Field: "title", Message: "must be 1 to 200 characters"})
		} else if !PlainLine(*title) {
			errs = append(errs, FieldError{Field: "title", Message: LineRuleText})
		}
	}
	if desc != nil {
		if utf8.RuneCountInString(*desc) > MaxTaskDescLen {
			errs = append(errs, FieldError{Field: "description", Message: "must be at most 2000 characters"})
		} else if !PlainText(*desc) {
			errs = append(errs, FieldError{Field: "description", Message: TextRuleText})
		}
	}
	return errs
}

// TaskUpdate holds the fields to change; nil means leave as is.
type TaskUpdate struct {
	Title       *string
	Description *string
	Completed   *bool
}

// TaskFilter selects a page of one user's tasks, newest first.
type TaskFilter struct {
	UserID string
	Status TaskStatus
	Limit  int
	After  *Cursor // nil for the first page
}

// TaskService stores tasks. Every method takes the owner's id and treats a
// task of another user exactly like a missing one (ENOTFOUND).
type TaskService interface {
	// CreateTask inserts t and fills in ID, CreatedAt and UpdatedAt.
	CreateTask(ctx context.Context, t *Task) error
	FindTask(ctx context.Context, userID, id string) (*Task, error)
	UpdateTask(ctx context.Context, userID, id string, upd TaskUpdate) (*Task, error)
	// ToggleTask flips Completed atomically.
	ToggleTask(ctx context.Context, userID, id string) (*Task, error)
	DeleteTask(ctx context.Context, userID, id string) error
	// ListTasks returns at most f.Limit tasks and, when more follow, the
	// cursor of the last one returned.
	ListTasks(ctx context.Context, f TaskFilter) ([]*Task, *Cursor, error)
}
