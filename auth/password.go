package auth

import (
	"context"

	"github.com/latchkey/latchkey"
)

// ChangePassword checks the current password, stores the new one and
// revokes every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, userID, sid, current, next string, c Client) error {
	var errs []latchkey.FieldError
	if current == "" {
		errs = append(errs, latchkey.FieldError{Field: "current_password", Message: requiredRuleText})
	}
	errs = checkPassword("new_password", next, errs)
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	// Checking the current password is a password guess like a sign-in:
	// it shares the account's throttle, so a stolen session cannot be used
	// to brute-force the password.
	release, err := s.reserveAttempt(ctx, u.Email, c, u.ID)
	if err != nil {
		return err
	}
	wrong := latchkey.ValidationError(latchkey.FieldError{Field: "current_password", Message: "is not correct"})
	if len(current) > maxPasswordBytes {
		return wrong
	}
	ok, err := s.Hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		release()
		return hashFailure("verify password", err)
	}
	if !ok {
		s.Record(latchkey.AuditSigninFailed, c, u.ID, sid, "wrong_current_password")
		return wrong
	}
	if err := s.Store.ClearSignInFailures(ctx, u.Email); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return hashFailure("hash password", err)
	}
	now := s.now()
	ev := event(latchkey.AuditPasswordChanged, c)
	ev.UserID, ev.SessionID = userID, sid
	ids, err := s.Store.SetPassword(latchkey.WithAudit(ctx, ev), userID, hash, sid, now)
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}
