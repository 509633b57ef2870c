package httpapi

import (
	"net/http"

	"github.com/latchkey/latchkey/auth"
)

// The routes of account recovery and email (issue 13). Each failure of a
// one-time link or code is the one invalid_token answer (400).

// proofRequest is a one-time token in a body: the link's token, or the
// code with the address where no Bearer says whose it is.
type proofRequest struct {
	Token string `json:"token"`
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (p proofRequest) proof() auth.Proof {
	return auth.Proof{Token: p.Token, Email: p.Email, Code: p.Code}
}

// accepted is the 202 `{}` of the routes whose answer tells nothing.
func accepted(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusAccepted, struct{}{})
}

// bearer is the caller requireToken or optionalToken let through; zero
// when no token came.
func bearer(r *http.Request) auth.Bearer {
	c := claims(r)
	if c == nil {
		return auth.Bearer{}
	}
	return auth.Bearer{UserID: c.Subject, SessionID: c.SessionID}
}

// optionalToken is requireToken for a request with an Authorization
// header, and lets one without through with no claims.
func (s *server) optionalToken(next http.Handler) http.Handler {
	authed := s.requireToken(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("Authorization")) > 0 {
			authed.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) handleForgotPassword() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		if err := s.Auth.ForgotPassword(r.Context(), in.Email, s.client(r)); err != nil {
			return err
		}
		accepted(w)
		return nil
	})
}

func (s *server) handleResetPassword() http.Handler {
	type request struct {
		proofRequest
		NewPassword string `json:"new_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		if err := s.Auth.ResetPassword(r.Context(), in.proof(), in.NewPassword, s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *server) handleVerifyEmail() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[proofRequest](w, r, false)
		if err != nil {
			return err
		}
		u, err := s.Auth.VerifyEmail(r.Context(), in.proof(), bearer(r), s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, userResponse{u})
		return nil
	})
}

func (s *server) handleResendVerification() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := decode[struct{}](w, r, true); err != nil {
			return err
		}
		if err := s.Auth.ResendVerification(r.Context(), bearer(r).UserID, s.client(r)); err != nil {
			return err
		}
		accepted(w)
		return nil
	})
}

func (s *server) handleChangeEmail() http.Handler {
	type request struct {
		NewEmail        string `json:"new_email"`
		CurrentPassword string `json:"current_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		if err := s.Auth.ChangeEmail(r.Context(), bearer(r), in.NewEmail, in.CurrentPassword, s.client(r)); err != nil {
			return err
		}
		accepted(w)
		return nil
	})
}

func (s *server) handleConfirmEmailChange() http.Handler {
	type request struct {
		Token string `json:"token"`
		Code  string `json:"code"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		u, err := s.Auth.ConfirmEmailChange(r.Context(), bearer(r), auth.Proof{Token: in.Token, Code: in.Code}, s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, userResponse{u})
		return nil
	})
}
