package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
)

// refreshCookie carries the refresh token for the web app. Path limits it to
// the auth routes; SameSite=Strict and the Origin check on cookie calls keep
// other sites from using it.
const refreshCookie = "latchkey_refresh"

type tokenResponse struct {
	User             *latchkey.User `json:"user"`
	AccessToken      string         `json:"access_token"`
	TokenType        string         `json:"token_type"`
	ExpiresIn        int64          `json:"expires_in"`
	RefreshToken     string         `json:"refresh_token"`
	RefreshExpiresIn int64          `json:"refresh_expires_in"`
	SessionID        string         `json:"session_id"`
}

// writeGrant answers a sign-up, sign-in or refresh.
func writeGrant(w http.ResponseWriter, r *http.Request, status int, g *auth.Grant) {
	now := time.Now()
	refreshIn := int64(g.RefreshExpiresAt.Sub(now) / time.Second)
	setRefreshCookie(w, r, g.RefreshToken, int(refreshIn))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	encode(w, status, tokenResponse{
		User:             g.User,
		AccessToken:      g.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int64(time.Until(g.AccessExpiresAt).Round(time.Second) / time.Second),
		RefreshToken:     g.RefreshToken,
		RefreshExpiresIn: refreshIn,
		SessionID:        g.SessionID,
	})
}

// setRefreshCookie sets the cookie, or clears it when maxAge <= 0.
func setRefreshCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	if maxAge <= 0 {
		value, maxAge = "", -1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     refreshCookie,
		Value:    value,
		Path:     "/api/auth",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

type userResponse struct {
	User *latchkey.User `json:"user"`
}

func (s *server) handleSignUp() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](w, r, false)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		g, err := s.Auth.SignUp(r.Context(), in.Email, in.Password, in.Name, s.client(r))
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		writeGrant(w, r, http.StatusCreated, g)
	})
}

func (s *server) handleSignIn() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](w, r, false)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		g, err := s.Auth.SignIn(r.Context(), in.Email, in.Password, s.client(r))
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		writeGrant(w, r, http.StatusOK, g)
	})
}

func (s *server) handleRefresh() http.Handler {
	type request struct {
		RefreshToken string `json:"refresh_token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[request](w, r, true)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		tok := in.RefreshToken
		if tok == "" {
			c, err := r.Cookie(refreshCookie)
			if err != nil || c.Value == "" {
				writeError(w, r, s.Logger, latchkey.Errorf(latchkey.EMISSINGTOKEN, "no refresh token in the body or the cookie"))
				return
			}
			// A browser sends the cookie on its own; only a call from our
			// own origin may use it.
			if !s.sameOrigin(r) {
				writeError(w, r, s.Logger, latchkey.Errorf(latchkey.EFORBIDDEN, "cookie refresh needs an Origin header naming this server"))
				return
			}
			tok = c.Value
		}
		g, err := s.Auth.Refresh(r.Context(), tok, s.client(r))
		if err != nil {
			if code := latchkey.ErrorCode(err); code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED {
				setRefreshCookie(w, r, "", 0)
			}
			writeError(w, r, s.Logger, err)
			return
		}
		writeGrant(w, r, http.StatusOK, g)
	})
}

// sameOrigin is the CSRF check of cookie calls: the Origin header must be
// present and name this server, as the request reached it or as the
// configured issuer.
func (s *server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host) || (s.issuerOrigin != "" && strings.EqualFold(origin, s.issuerOrigin))
}
