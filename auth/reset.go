package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// Proof is how a request names a one-time token: the link's token, or the
// mailed code (with the address, where no Bearer says whose it is).
type Proof struct {
	Token string
	Email string
	Code  string
}

// check lists what is wrong with the proof's shape: exactly one of the
// token and the code, and the email with the code when withEmail.
func (p Proof) check(withEmail bool, errs []latchkey.FieldError) []latchkey.FieldError {
	switch {
	case p.Token != "" && (p.Code != "" || p.Email != ""):
		return append(errs, latchkey.FieldError{Field: "token", Message: "give either the link's token or the code, not both"})
	case p.Token != "":
		return errs
	case p.Code == "" && p.Email == "":
		return append(errs, latchkey.FieldError{Field: "token", Message: "give the link's token or the code"})
	}
	if withEmail && p.Email == "" {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: requiredRuleText})
	}
	if !withEmail && p.Email != "" {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: "is not taken here"})
	}
	if p.Code == "" {
		errs = append(errs, latchkey.FieldError{Field: "code", Message: requiredRuleText})
	}
	return errs
}

// checkProof finds the live token of purpose pur the proof names, without using
// it: by link, or by the code of the user with the proof's email.
func (s *Service) checkProof(ctx context.Context, pur latchkey.TokenPurpose, p Proof) (*UsedToken, error) {
	if p.Token != "" {
		return s.CheckLink(ctx, pur, p.Token)
	}
	return s.CheckEmailCode(ctx, p.Email, pur, p.Code)
}

// ForgotFloor is the least time a forgot-password request takes: the
// lookup, the token and its mail (well under a millisecond on a healthy
// store) end within it, so that every answer comes after the same time,
// whether the address has an account or not.
const ForgotFloor = 200 * time.Millisecond

// ForgotPassword mails the account with this email a reset link and code:
// never to an unknown address, a disabled account or one with no
// password, and not within MailCooldown of the last one. The mail is in
// the outbox before the answer, so a crash after it loses none; and the
// answer waits out ForgotFloor, so its timing does not tell which. Only a
// missing email, or a store that fails, is an error.
func (s *Service) ForgotPassword(ctx context.Context, email string, c Client) error {
	if email == "" {
		return latchkey.ValidationError(latchkey.FieldError{Field: "email", Message: requiredRuleText})
	}
	floor := time.NewTimer(ForgotFloor)
	defer floor.Stop()
	var err error
	if len(email) <= MaxEmailLen { // longer: no account has it
		err = s.forgot(ctx, email, c)
	}
	select {
	case <-floor.C:
	case <-ctx.Done():
	}
	return err
}

func (s *Service) forgot(ctx context.Context, email string, c Client) error {
	u, err := s.Store.FindUserByEmail(ctx, email)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if u.Disabled || u.PasswordHash == "" {
		return nil
	}
	ev := event(latchkey.AuditPasswordResetRequested, c)
	ev.UserID = u.ID
	_, err = s.sendTokenMail(ctx, tokenMail{user: u, purpose: latchkey.PurposeReset, compose: mail.Reset, ev: ev})
	return err
}

// ResetPassword sets a new password with a reset token: it revokes every
// session of the user, kills the user's other tokens, clears the sign-in
// throttle, marks the email verified and mails "Your password was
// changed", all in one transaction with the token's use. A weak password
// is refused before the token is looked at, so it does not use it up.
func (s *Service) ResetPassword(ctx context.Context, p Proof, newPassword string, c Client) error {
	errs := p.check(true, nil)
	errs = checkPassword("new_password", newPassword, errs)
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	ut, err := s.checkProof(ctx, latchkey.PurposeReset, p)
	if err != nil {
		return err
	}
	u := ut.User
	// A token mailed to an address the user has left is no longer theirs
	// to use (an email change kills it too; this covers the race).
	if u.Disabled || u.PasswordHash == "" || ut.Token.Email != u.Email {
		return errBadToken
	}
	hash, err := s.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return hashFailure("hash password", err)
	}
	notice, err := s.notice(u, mail.PasswordChanged)
	if err != nil {
		return err
	}
	ch := s.UseToken(ut)
	ch.KillUser = u.ID
	ev := event(latchkey.AuditPasswordReset, c)
	ev.UserID = u.ID
	ctx = latchkey.WithMail(latchkey.WithTokenChange(latchkey.WithAudit(ctx, ev), ch), notice)
	ids, err := s.Store.ResetPassword(ctx, u.ID, hash, ch.Now)
	if err != nil {
		return tokenErr(err)
	}
	s.Revoked.Add(ch.Now, ids...)
	logEvent(s.Logger, ev)
	return nil
}
