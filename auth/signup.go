package auth

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
)

// NewUser validates and stores an account, its address verified or not.
// It is shared by sign-up and the `user create` command; an audit event in
// ctx is recorded with the user.
func (s *Service) NewUser(ctx context.Context, email, pw, name string, role latchkey.Role, verified bool) (*latchkey.User, error) {
	var errs []latchkey.FieldError
	if email == "" {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: requiredRuleText})
	} else if err := emailkey.Check(email); err != nil {
		// A bare address, at most 254 bytes, of visible characters only;
		// compared with others by emailkey.Of (in the store).
		errs = append(errs, latchkey.FieldError{Field: "email", Message: err.Error()})
	}
	errs = checkPassword("password", pw, errs)
	if utf8.RuneCountInString(name) > MaxNameLen {
		errs = append(errs, latchkey.FieldError{Field: "name", Message: nameRuleText})
	} else if name = strings.TrimSpace(name); !latchkey.PlainLine(name) {
		errs = append(errs, latchkey.FieldError{Field: "name", Message: latchkey.LineRuleText})
	}
	if !role.Valid() {
		errs = append(errs, latchkey.FieldError{Field: "role", Message: "must be user or admin"})
	}
	if len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, hashFailure("hash password", err)
	}
	u := &latchkey.User{Email: email, Name: name, Role: role, PasswordHash: hash, EmailVerified: verified}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// SignUp creates a user, mails it a verification link and code, and signs
// it in; with RequireVerifiedEmail it opens no session, and the Grant holds
// the user alone.
func (s *Service) SignUp(ctx context.Context, email, pw, name string, c Client) (*Grant, error) {
	ev := event(latchkey.AuditSignup, c)
	u, err := s.NewUser(latchkey.WithAudit(ctx, ev), email, pw, name, latchkey.RoleUser, false)
	if err != nil {
		return nil, err
	}
	logEvent(s.Logger, ev)
	// The account exists now: a failure to write its mail is the user's
	// to retry (resend, or the mail a refused sign-in sends), not a failed
	// sign-up.
	if _, err := s.sendVerification(ctx, u, c); err != nil {
		s.Logger.Warn("sign-up verification mail", "user_id", u.ID, "err", err)
	}
	if s.RequireVerifiedEmail {
		return &Grant{User: u}, nil
	}
	return s.startSession(ctx, u, c, nil)
}
