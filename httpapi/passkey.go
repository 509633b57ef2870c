package httpapi

// Passkeys (issue 14): the two WebAuthn ceremonies, each an options call
// and a finishing call, and a signed-in user's list, rename and removal.

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/latchkey/latchkey"
)

type passkeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	BackedUp   bool       `json:"backed_up"`
}

func passkeyOf(p *latchkey.Passkey) passkeyJSON {
	j := passkeyJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, BackedUp: p.BackedUp}
	if !p.LastUsedAt.IsZero() {
		j.LastUsedAt = &p.LastUsedAt
	}
	return j
}

type passkeyAnswer struct {
	Passkey passkeyJSON `json:"passkey"`
}

// credential is the PublicKeyCredential JSON of a request as bytes for
// go-webauthn, nil when the member is absent or null.
func credential(v jsontext.Value) []byte {
	if len(v) == 0 || v.Kind() == 'n' {
		return nil
	}
	return v
}

// writeCeremony answers an options call: the challenge's id and the
// options for the browser, which nobody may cache.
func writeCeremony(w http.ResponseWriter, challengeID string, options any) {
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, struct {
		ChallengeID string `json:"challenge_id"`
		Options     any    `json:"options"`
	}{challengeID, options})
}

// handlePasskeyRegisterOptions begins adding a passkey: the options for
// navigator.credentials.create, after the password or a recent MFA.
func (s *server) handlePasskeyRegisterOptions() http.Handler {
	type request struct {
		CurrentPassword string `json:"current_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, true)
		if err != nil {
			return err
		}
		c := claims(r)
		reg, err := s.Auth.StartPasskeyRegistration(r.Context(), c.Subject, c.SessionID, in.CurrentPassword, s.client(r))
		if err != nil {
			return err
		}
		writeCeremony(w, reg.ChallengeID, reg.Options)
		return nil
	})
}

// handlePasskeyRegister finishes adding a passkey with the browser's
// credential.
func (s *server) handlePasskeyRegister() http.Handler {
	type request struct {
		ChallengeID string         `json:"challenge_id"`
		Credential  jsontext.Value `json:"credential"`
		Name        string         `json:"name"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		p, err := s.Auth.AddPasskey(r.Context(), s.client(r), claims(r).Subject, in.ChallengeID, credential(in.Credential), in.Name)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, passkeyAnswer{passkeyOf(p)})
		return nil
	})
}

// handlePasskeySignInOptions begins a sign-in with a discoverable passkey:
// the options for navigator.credentials.get. The body, if any, is {}.
func (s *server) handlePasskeySignInOptions() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := decode[struct{}](w, r, true); err != nil {
			return err
		}
		in, err := s.Auth.BeginPasskeySignIn(r.Context())
		if err != nil {
			return err
		}
		writeCeremony(w, in.ChallengeID, in.Options)
		return nil
	})
}

// handlePasskeySignIn finishes a passkey sign-in, answered exactly as a
// password sign-in.
func (s *server) handlePasskeySignIn() http.Handler {
	type request struct {
		ChallengeID string         `json:"challenge_id"`
		Credential  jsontext.Value `json:"credential"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		g, err := s.Auth.SignInPasskey(r.Context(), s.client(r), in.ChallengeID, credential(in.Credential))
		if err != nil {
			return err
		}
		s.writeGrant(w, r, http.StatusOK, g)
		return nil
	})
}

// handleListPasskeys lists the caller's passkeys, oldest first.
func (s *server) handleListPasskeys() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		keys, err := s.Auth.Passkeys(r.Context(), claims(r).Subject)
		if err != nil {
			return err
		}
		out := make([]passkeyJSON, 0, len(keys))
		for _, p := range keys {
			out = append(out, passkeyOf(p))
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Passkeys []passkeyJSON `json:"passkeys"`
		}{out})
		return nil
	})
}

// handleRenamePasskey names one of the caller's passkeys.
func (s *server) handleRenamePasskey() http.Handler {
	type request struct {
		Name *string `json:"name"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		if in.Name == nil {
			return latchkey.ValidationError(latchkey.FieldError{Field: "name", Message: "is required"})
		}
		p, err := s.Auth.RenamePasskey(r.Context(), claims(r).Subject, r.PathValue("id"), *in.Name)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, passkeyAnswer{passkeyOf(p)})
		return nil
	})
}

// handleDeletePasskey removes one of the caller's passkeys, after the
// password or a recent MFA.
func (s *server) handleDeletePasskey() http.Handler {
	type request struct {
		CurrentPassword string `json:"current_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, true)
		if err != nil {
			return err
		}
		c := claims(r)
		if err := s.Auth.RemovePasskey(r.Context(), c.Subject, c.SessionID, r.PathValue("id"), in.CurrentPassword, s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
