package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
)

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
	if g.AccessToken == "" { // a sign-up that must verify its address first
		w.Header().Set("Cache-Control", "no-store")
		encode(w, status, userResponse{g.User})
		return
	}
	encode(w, status, s.grantTokens(w, r, g))
}

// grantTokens sets what every answer carrying tokens sets (the refresh
// cookie, no caching) and returns the token response's body.
func (s *server) grantTokens(w http.ResponseWriter, r *http.Request, g *auth.Grant) tokenResponse {
	refreshIn := int64(g.RefreshExpiresIn.Round(time.Second) / time.Second)
	s.setRefreshCookie(w, r, g.RefreshToken, int(refreshIn))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	return tokenResponse{
		User:             g.User,
		AccessToken:      g.AccessToken,
		TokenType:        "Bearer",
		ExpiresIn:        int64(g.AccessExpiresIn / time.Second),
		RefreshToken:     g.RefreshToken,
		RefreshExpiresIn: refreshIn,
		SessionID:        g.SessionID,
	}
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
			return mfaRequired(err)
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
		tok, fromCookie, err := s.refreshToken(w, r, in.RefreshToken)
		if err != nil {
			return err
		}
		if tok == "" {
			// A missing field, not a failed credential: sign-out, a
			// protected call, answers missing_token instead.
			return latchkey.ValidationError(latchkey.FieldError{Field: "refresh_token", Message: "is required, in the body or the cookie"})
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
// none, from the cookie; "" when neither has one, which each caller answers
// in its own way. A browser sends the cookie on its own, so a call
// relying on it must come from our own origin (the CSRF rule); a configured
// CORS origin does not count, as front ends there send the token in the body.
// A request carrying more than one refresh cookie is refused, whatever its
// body: another one was planted (cookie tossing), and the browser may send
// it first. The answer clears them (clearRefreshCookies).
func (s *server) refreshToken(w http.ResponseWriter, r *http.Request, fromBody string) (tok string, fromCookie bool, err error) {
	cookies := s.refreshCookies(r)
	if len(cookies) > 1 {
		s.clearRefreshCookies(w, r)
		s.Auth.Record(latchkey.AuditTokenRejected, s.client(r), "", "", "refresh cookie: more than one came")
		return "", false, errCookieTossed
	}
	if fromBody != "" {
		return fromBody, false, nil
	}
	if len(cookies) == 0 || cookies[0].Value == "" {
		return "", false, nil
	}
	if origin := r.Header.Get("Origin"); origin == "" || !s.ownOrigin(r, origin) {
		return "", false, latchkey.Errorf(latchkey.EFORBIDDEN, "a cookie call needs an Origin header naming this server")
	}
	return cookies[0].Value, true, nil
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
