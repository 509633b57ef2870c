package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/verify"
)

// handleSignOut ends sessions. The session is the Bearer token's, or, when
// no Authorization header came, the one holding the refresh token from the
// body or the cookie (so a web app whose access token has lapsed can still
// sign out); the cookie path passes the same CSRF check as refresh.
func (s *server) handleSignOut() http.Handler {
	type request struct {
		Scope        string `json:"scope"`
		RefreshToken string `json:"refresh_token"`
	}
	done := func(w http.ResponseWriter, r *http.Request, scope string) {
		if scope != auth.ScopeOthers {
			s.setRefreshCookie(w, r, "", 0)
		}
		w.WriteHeader(http.StatusNoContent)
	}
	bearer := s.requireToken(s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, true)
		if err != nil {
			return err
		}
		c := claims(r)
		if err := s.Auth.SignOut(r.Context(), c.Subject, c.SessionID, in.Scope, s.client(r)); err != nil {
			return err
		}
		done(w, r, in.Scope)
		return nil
	}))
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		var ve *verify.Error
		if _, err := verify.BearerToken(r); !errors.As(err, &ve) || ve.Code != verify.CodeMissingToken {
			bearer.ServeHTTP(w, r)
			return nil
		}
		in, err := decode[request](w, r, true)
		if err != nil {
			return err
		}
		tok, fromCookie, err := s.refreshToken(w, r, in.RefreshToken)
		if err != nil {
			return err
		}
		if tok == "" {
			return latchkey.Errorf(latchkey.EMISSINGTOKEN, "no access token, and no refresh token in the body or the cookie")
		}
		if err := s.Auth.SignOutRefresh(r.Context(), tok, in.Scope, s.client(r)); err != nil {
			if code := latchkey.ErrorCode(err); fromCookie && (code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED) {
				s.setRefreshCookie(w, r, "", 0)
			}
			return err
		}
		done(w, r, in.Scope)
		return nil
	})
}

func (s *server) handleMe() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.Users.FindUserByID(r.Context(), claims(r).Subject)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, userResponse{User: u})
		return nil
	})
}

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// handleListSessions answers one page of the caller's live sessions,
// newest first, with limit and cursor as the task list takes them.
func (s *server) handleListSessions() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := parseListPage(r.URL.RawQuery)
		if err != nil {
			return err
		}
		c := claims(r)
		list, next, err := s.Auth.Sessions(r.Context(), c.Subject, p.limit, p.after)
		if err != nil {
			return err
		}
		out := make([]sessionJSON, 0, len(list))
		for _, x := range list {
			out = append(out, sessionJSON{
				ID: x.ID, CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt, ExpiresAt: x.ExpiresAt,
				UserAgent: x.UserAgent, IP: x.IP, Current: x.ID == c.SessionID,
			})
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Sessions   []sessionJSON `json:"sessions"`
			NextCursor *string       `json:"next_cursor"`
		}{out, nextCursor(next)})
		return nil
	})
}

func (s *server) handleRevokeSession() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		c := claims(r)
		if err := s.Auth.RevokeSession(r.Context(), c.Subject, r.PathValue("id"), s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *server) handleChangePassword() http.Handler {
	type request struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		c := claims(r)
		if err := s.Auth.ChangePassword(r.Context(), c.Subject, c.SessionID, in.CurrentPassword, in.NewPassword, s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
