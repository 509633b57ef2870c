package auth

import (
	"context"

	"github.com/latchkey/latchkey"
)

// ExternalUser admits the subject of a token from the trusted external
// issuer: on first sight it becomes a user (no password, no stored email or
// name; role from the token's role claim, else user), so its task routes
// work at once. A subject that is already a user of another issuer, or of
// Latchkey itself, is refused: the external issuer may not speak for them.
// The subject is what the trusted issuer's verifier let through: present,
// and no longer than it allows (verify's MaxSubjectLength).
func (s *Service) ExternalUser(ctx context.Context, issuer, sub, role string) (*latchkey.User, error) {
	u, err := s.Store.ProvisionExternalUser(ctx, &latchkey.User{ID: sub, Role: latchkey.Role(role), Issuer: issuer})
	if err != nil {
		return nil, err
	}
	if u.Issuer != issuer {
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "this subject is not the external issuer's to name")
	}
	if u.Disabled {
		return nil, errRevoked
	}
	return u, nil
}
