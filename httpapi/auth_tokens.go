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
func (s *server) writeGrant(w http.ResponseWriter, r *http.Request, status int, g *auth.Grant) {
	refreshIn := int64(g.RefreshExpiresIn.Round(time.Second) / time.Second)
	s.setRefreshCookie(w, r, g.RefreshToken, int(refreshIn))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	encode(w, status, tokenResponse{
		User:             g.User,
		AccessToken:      g.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int64(g.AccessExpiresIn / time.Second),
		RefreshToken:     g.RefreshToken,
		RefreshExpiresIn: refreshIn,
		SessionID:        g.SessionID,
	})
}

// setRefreshCookie sets the cookie, or clears it when maxAge <= 0. It is
// Secure over TLS, and when the issuer is https: then browsers reach us
// through a TLS-ending proxy.
func (s *server) setRefreshCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	if maxAge <= 0 {
		value, maxAge = "", -1
	}
	http.SetCookie(w, &http.Cookie{
		Name:     refreshCookie,
		Value:    value,
		Path:     "/api/auth",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil || strings.HasPrefix(s.issuerOrigin, "https://"),
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
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		g, err := s.Auth.SignUp(r.Context(), in.Email, in.Password, in.Name, s.client(r))
		if err != nil {
			return err
		}
		s.writeGrant(w, r, http.StatusCreated, g)
		return nil
	})
}

func (s *server) handleSignIn() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		g, err := s.Auth.SignIn(r.Context(), in.Email, in.Password, s.client(r))
		if err != nil {
			return err
		}
		s.writeGrant(w, r, http.StatusOK, g)
		return nil
	})
}

func (s *server) handleRefresh() http.Handler {
	type request struct {
		RefreshToken string `json:"refresh_token"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, true)
		if err != nil {
			return err
		}
		tok, fromCookie, err := s.refreshToken(r, in.RefreshToken)
		if err != nil {
			return err
		}
		g, err := s.Auth.Refresh(r.Context(), tok, s.client(r))
		if err != nil {
			// A dead cookie is cleared; a token from the body says nothing
			// about the cookie, which may belong to another session.
			if code := latchkey.ErrorCode(err); fromCookie && (code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED) {
				s.setRefreshCookie(w, r, "", 0)
			}
			return err
		}
		s.writeGrant(w, r, http.StatusOK, g)
		return nil
	})
}

// refreshToken takes the refresh token from the body or, when the body has
// none, from the cookie. A browser sends the cookie on its own, so a call
// relying on it must come from our own origin (the CSRF rule); a configured
// CORS origin does not count, as front ends there send the token in the body.
func (s *server) refreshToken(r *http.Request, fromBody string) (tok string, fromCookie bool, err error) {
	if fromBody != "" {
		return fromBody, false, nil
	}
	c, err := r.Cookie(refreshCookie)
	if err != nil || c.Value == "" {
		return "", false, latchkey.Errorf(latchkey.EMISSINGTOKEN, "no refresh token in the body or the cookie")
	}
	if origin := r.Header.Get("Origin"); origin == "" || !s.ownOrigin(r, origin) {
		return "", false, latchkey.Errorf(latchkey.EFORBIDDEN, "a cookie call needs an Origin header naming this server")
	}
	return c.Value, true, nil
}

// ownOrigin reports whether origin is this server's: the scheme and Host
// the request reached, when that Host is one this server answers for (a
// name the attacker controls could otherwise resolve to us: DNS
// rebinding; refuseMisdirected has already refused it, this keeps the
// rule where the comparison is), or the configured issuer's origin.
func (s *server) ownOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (s.allowedHost(r) && strings.EqualFold(origin, scheme+"://"+r.Host)) ||
		(s.issuerOrigin != "" && strings.EqualFold(origin, s.issuerOrigin))
}
