package httpapi

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// adminUser is a user as admins see it: with disabled.
type adminUser struct {
	ID            string        `json:"id"`
	Email         string        `json:"email"`
	EmailVerified bool          `json:"email_verified"`
	Name          string        `json:"name"`
	Role          latchkey.Role `json:"role"`
	CreatedAt     time.Time     `json:"created_at"`
	Disabled      bool          `json:"disabled"`
}

func toAdminUser(u *latchkey.User) adminUser {
	return adminUser{ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt, Disabled: u.Disabled}
}

func (s *server) handleAdminListUsers() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := parseListPage(r.URL.RawQuery)
		if err != nil {
			return err
		}
		users, next, err := s.Admin.ListUsers(r.Context(), p.limit, p.after)
		if err != nil {
			return err
		}
		out := make([]adminUser, 0, len(users))
		for _, u := range users {
			out = append(out, toAdminUser(u))
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Users      []adminUser `json:"users"`
			NextCursor *string     `json:"next_cursor"`
		}{out, nextCursor(next)})
		return nil
	})
}

func (s *server) handleAdminUpdateUser() http.Handler {
	type request struct {
		Role          *latchkey.Role `json:"role"`
		Disabled      *bool          `json:"disabled"`
		EmailVerified *bool          `json:"email_verified"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		u, err := s.Auth.UpdateUser(r.Context(), claims(r).Subject, r.PathValue("id"),
			latchkey.UserUpdate{Role: in.Role, Disabled: in.Disabled, EmailVerified: in.EmailVerified}, s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			User adminUser `json:"user"`
		}{toAdminUser(u)})
		return nil
	})
}

func (s *server) handleAdminAudit() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := parseListPage(r.URL.RawQuery)
		if err != nil {
			return err
		}
		events, next, err := s.Admin.ListAudit(r.Context(), latchkey.AuditFilter{
			Type: p.q.Get("type"), UserID: p.q.Get("user_id"), Limit: p.limit, After: p.after,
		})
		if err != nil {
			return err
		}
		if events == nil {
			events = []*latchkey.AuditEvent{}
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Events     []*latchkey.AuditEvent `json:"events"`
			NextCursor *string                `json:"next_cursor"`
		}{events, nextCursor(next)})
		return nil
	})
}
