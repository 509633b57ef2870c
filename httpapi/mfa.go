package httpapi

// The second factor (issue 14): the second step of a password sign-in,
// a signed-in user's TOTP factor and recovery codes, and the
// administrator's reset.

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/latchkey/latchkey/auth"
)

// mfaRequired answers a sign-in that needs its second step: 401
// mfa_required, with the mfa_token, the methods and its lifetime as
// members of the problem document. Any other error passes unchanged.
func mfaRequired(err error) error {
	var mr *auth.MFARequired
	if !errors.As(err, &mr) {
		return err
	}
	return &extraError{err: err, members: map[string]any{
		"mfa_token":  mr.Token.Secret,
		"methods":    mr.Methods,
		"expires_in": int64(mr.Token.ExpiresIn / time.Second),
	}}
}

// handleSignInMFA is the second step: the mfa_token with a TOTP code, a
// recovery code or a passkey's assertion, answered exactly as a sign-in.
func (s *server) handleSignInMFA() http.Handler {
	type request struct {
		MFAToken     string         `json:"mfa_token"`
		Code         string         `json:"code"`
		RecoveryCode string         `json:"recovery_code"`
		ChallengeID  string         `json:"challenge_id"`
		Credential   jsontext.Value `json:"credential"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		g, err := s.Auth.SignInMFA(r.Context(), auth.MFAStep{
			MFAToken: in.MFAToken, Code: in.Code, RecoveryCode: in.RecoveryCode,
			ChallengeID: in.ChallengeID, Credential: credential(in.Credential),
		}, s.client(r))
		if err != nil {
			return err
		}
		s.writeGrant(w, r, http.StatusOK, g)
		return nil
	})
}

type totpFactorJSON struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// handleMFA lists the caller's confirmed factor and the recovery codes left.
func (s *server) handleMFA() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.Auth.MFA(r.Context(), claims(r).Subject)
		if err != nil {
			return err
		}
		out := make([]totpFactorJSON, 0, len(st.Factors))
		for _, f := range st.Factors {
			j := totpFactorJSON{ID: f.ID, Type: "totp", CreatedAt: f.CreatedAt}
			if !f.LastUsedAt.IsZero() {
				j.LastUsedAt = &f.LastUsedAt
			}
			out = append(out, j)
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Factors                []totpFactorJSON `json:"factors"`
			RecoveryCodesRemaining int              `json:"recovery_codes_remaining"`
		}{out, st.RecoveryCodesRemaining})
		return nil
	})
}

// handleStartTOTP enrols a new, unconfirmed factor: its secret, otpauth
// URI and QR code, shown once.
func (s *server) handleStartTOTP() http.Handler {
	type request struct {
		CurrentPassword string `json:"current_password"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		c := claims(r)
		e, err := s.Auth.StartTOTP(r.Context(), c.Subject, c.SessionID, in.CurrentPassword, s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			FactorID   string `json:"factor_id"`
			Secret     string `json:"secret"`
			OTPAuthURI string `json:"otpauth_uri"`
			QRPNG      string `json:"qr_png"`
		}{e.Factor.ID, e.Secret, e.URI, e.QRPNG})
		return nil
	})
}

// handleConfirmTOTP confirms the factor with a first code: the recovery
// codes, and the tokens of the new session that replaces every other.
func (s *server) handleConfirmTOTP() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		c := claims(r)
		conf, g, err := s.Auth.EnableTOTP(r.Context(), c.Subject, c.SessionID, r.PathValue("id"), in.Code, s.client(r))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, struct {
			RecoveryCodes []string `json:"recovery_codes"`
			tokenResponse
		}{conf.RecoveryCodes, s.grantTokens(w, r, g)})
		return nil
	})
}

type passwordAndCode struct {
	CurrentPassword string `json:"current_password"`
	Code            string `json:"code"`
}

// handleDeleteTOTP removes the confirmed factor and the recovery codes.
func (s *server) handleDeleteTOTP() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[passwordAndCode](w, r, false)
		if err != nil {
			return err
		}
		c := claims(r)
		if err := s.Auth.DisableTOTP(r.Context(), c.Subject, c.SessionID, r.PathValue("id"), in.CurrentPassword, in.Code, s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleNewRecoveryCodes replaces every recovery code by ten new ones.
func (s *server) handleNewRecoveryCodes() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[passwordAndCode](w, r, false)
		if err != nil {
			return err
		}
		c := claims(r)
		codes, err := s.Auth.NewRecoveryCodes(r.Context(), c.Subject, c.SessionID, in.CurrentPassword, in.Code, s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}{codes})
		return nil
	})
}

// handleAdminResetMFA removes every factor and recovery code of a user and
// revokes their sessions: the way back for a user who lost both.
func (s *server) handleAdminResetMFA() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.Auth.ResetMFA(r.Context(), claims(r).Subject, r.PathValue("id"), s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
