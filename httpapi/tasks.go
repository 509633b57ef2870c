package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
)

type taskListResponse struct {
	Tasks      []*latchkey.Task `json:"tasks"`
	NextCursor *string          `json:"next_cursor"`
}

func (s *server) handleListTasks() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		f, err := taskFilter(r.PathValue("user_id"), r.URL.RawQuery)
		if err != nil {
			return err
		}
		tasks, next, err := s.Tasks.ListTasks(r.Context(), f)
		if err != nil {
			return err
		}
		out := taskListResponse{Tasks: tasks, NextCursor: nextCursor(next)}
		if out.Tasks == nil {
			out.Tasks = []*latchkey.Task{}
		}
		encode(w, http.StatusOK, out)
		return nil
	})
}

// taskFilter reads status, limit and cursor.
func taskFilter(userID, rawQuery string) (latchkey.TaskFilter, error) {
	p, err := parsePage(rawQuery)
	if err != nil {
		return latchkey.TaskFilter{}, err
	}
	f := latchkey.TaskFilter{UserID: userID, Status: latchkey.TaskStatusAll}
	if v := p.q.Get("status"); v != "" {
		switch st := latchkey.TaskStatus(v); st {
		case latchkey.TaskStatusAll, latchkey.TaskStatusPending, latchkey.TaskStatusCompleted:
			f.Status = st
		default:
			p.errs = append(p.errs, latchkey.FieldError{Field: "status", Message: "must be all, pending or completed"})
		}
	}
	if err := p.err(); err != nil {
		return f, err
	}
	f.Limit, f.After = p.limit, p.after
	return f, nil
}

// taskLocation is the URL of a task, for the Location header.
func taskLocation(t *latchkey.Task) string {
	return "/api/" + url.PathEscape(t.UserID) + "/tasks/" + url.PathEscape(t.ID)
}

func (s *server) handleCreateTask() http.Handler {
	type request struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		if in.Title == nil {
			return latchkey.ValidationError(latchkey.FieldError{Field: "title", Message: "is required"})
		}
		title := strings.TrimSpace(*in.Title)
		if errs := latchkey.ValidateTaskFields(&title, in.Description); len(errs) > 0 {
			return latchkey.ValidationError(errs...)
		}
		t := &latchkey.Task{UserID: r.PathValue("user_id"), Title: title}
		if in.Description != nil {
			t.Description = *in.Description
		}
		if err := s.Tasks.CreateTask(r.Context(), t); err != nil {
			return err
		}
		w.Header().Set("Location", taskLocation(t))
		encode(w, http.StatusCreated, t)
		return nil
	})
}

func (s *server) handleGetTask() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.Tasks.FindTask(r.Context(), r.PathValue("user_id"), r.PathValue("id"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, t)
		return nil
	})
}

// taskInput is the body of PUT and PATCH; nil means absent.
type taskInput struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Completed   *bool   `json:"completed"`
}

// update validates in and turns it into a store update. With replace (PUT)
// every field is required (null counts as missing): PUT replaces the whole
// task, so a field left out is an error, never a blank.
func (in taskInput) update(replace bool) (latchkey.TaskUpdate, error) {
	var errs []latchkey.FieldError
	if replace {
		for _, f := range []struct {
			name    string
			missing bool
		}{{"title", in.Title == nil}, {"description", in.Description == nil}, {"completed", in.Completed == nil}} {
			if f.missing {
				errs = append(errs, latchkey.FieldError{Field: f.name, Message: "is required"})
			}
		}
	}
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		in.Title = &t
	}
	errs = append(errs, latchkey.ValidateTaskFields(in.Title, in.Description)...)
	if len(errs) > 0 {
		return latchkey.TaskUpdate{}, latchkey.ValidationError(errs...)
	}
	return latchkey.TaskUpdate{Title: in.Title, Description: in.Description, Completed: in.Completed}, nil
}

func (s *server) handleReplaceTask() http.Handler { return s.handleUpdateTask(true) }
func (s *server) handlePatchTask() http.Handler   { return s.handleUpdateTask(false) }

func (s *server) handleUpdateTask(replace bool) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[taskInput](w, r, false)
		if err != nil {
			return err
		}
		upd, err := in.update(replace)
		if err != nil {
			return err
		}
		t, err := s.Tasks.UpdateTask(r.Context(), r.PathValue("user_id"), r.PathValue("id"), upd)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, t)
		return nil
	})
}

func (s *server) handleToggleTask() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.Tasks.ToggleTask(r.Context(), r.PathValue("user_id"), r.PathValue("id"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, t)
		return nil
	})
}

func (s *server) handleDeleteTask() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.Tasks.DeleteTask(r.Context(), r.PathValue("user_id"), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
