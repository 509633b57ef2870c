package auth

// A sign-in checks the user's factors before it stores its session; an
// admin's MFA reset, or turning TOTP on, revokes the sessions it finds
// after its change. A session stored between the two would escape both.
// So once the session is stored, the sign-in looks again: what it was
// signed in with must still be there, and a password alone must still be
// enough. (The same pattern as stillAsChecked, for the second factor.)

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey"
)

// factorsHold reports whether the factors behind amr still hold for the
// user: a passkey sign-in's passkey (passkeyID) still exists; a TOTP code
// or a recovery code still has a confirmed TOTP factor beside it; and a
// password alone is still all the user needs (no confirmed TOTP factor).
// When they do not, it returns the revoke reason to use.
func (s *Service) factorsHold(ctx context.Context, userID string, amr []string, passkeyID string) (bool, string, error) {
	if passkeyID != "" {
		keys, err := s.Store.ListPasskeys(ctx, userID)
		if err != nil {
			return false, "", err
		}
		if !slices.ContainsFunc(keys, func(p *latchkey.Passkey) bool { return p.ID == passkeyID }) {
			return false, latchkey.ReasonMFAReset, nil
		}
		if !slices.Contains(amr, latchkey.AMRPassword) {
			return true, "", nil // a passkey alone: TOTP does not matter
		}
	}
	_, err := s.Store.ConfirmedTOTPFactor(ctx, userID)
	hasTOTP := err == nil
	if err != nil && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		return false, "", err
	}
	secondFactor := slices.Contains(amr, latchkey.AMRMFA)
	switch {
	case !secondFactor && hasTOTP:
		return false, latchkey.ReasonMFAEnabled, nil
	case secondFactor && passkeyID == "" && !hasTOTP:
		return false, latchkey.ReasonMFAReset, nil
	}
	return true, "", nil
}

// keepIfFactorsHold revokes the session g just opened when its factors
// no longer hold (factorsHold), and answers failed then.
func (s *Service) keepIfFactorsHold(ctx context.Context, g *Grant, amr []string, passkeyID string, failed func() error) (*Grant, error) {
	ok, reason, err := s.factorsHold(ctx, g.User.ID, amr, passkeyID)
	if err != nil {
		return nil, err
	}
	if ok {
		return g, nil
	}
	now := s.now()
	if err := s.Store.RevokeSessionByID(ctx, g.SessionID, reason, now); err != nil {
		return nil, fmt.Errorf("auth: revoke a session opened while its factors changed: %w", err)
	}
	s.Revoked.Add(now, g.SessionID)
	return nil, failed()
}
