package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// ChangePassword checks the current password, stores the new one, revokes
// every other session of the user, kills the user's one-time tokens and
// mails "Your password was changed".
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
	if err := s.checkCurrentPassword(ctx, u, sid, current, c); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return hashFailure("hash password", err)
	}
	notice, err := s.notice(u, mail.PasswordChanged)
	if err != nil {
		return err
	}
	now := s.now()
	ev := event(latchkey.AuditPasswordChanged, c)
	ev.UserID, ev.SessionID = userID, sid
	ctx = latchkey.WithTokenChange(latchkey.WithAudit(ctx, ev), &latchkey.TokenChange{Now: now, KillUser: userID})
	ids, err := s.Store.SetPassword(latchkey.WithMail(ctx, notice), userID, hash, sid, now)
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}

// checkCurrentPassword checks the password of a signed-in user, before a
// change that needs it. It is a password guess like a sign-in: it shares
// the account's throttle, so a stolen session cannot be used to
// brute-force the password. A wrong one is validation_failed on
// current_password.
func (s *Service) checkCurrentPassword(ctx context.Context, u *latchkey.User, sid, current string, c Client) error {
	release, err := s.reserveAttempt(ctx, u.Email, c, u.ID)
	if err != nil {
		return err
	}
	wrong := latchkey.ValidationError(latchkey.FieldError{Field: "current_password", Message: "is not correct"})
	if len(current) > maxPasswordBytes || u.PasswordHash == "" {
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
	return s.Store.ClearSignInFailures(ctx, u.Email)
}
