package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
	"github.com/latchkey/latchkey/mail"
)

// NewUser validates and stores an account, its address verified or not:
// the `user create` command's; an audit event in ctx is recorded with the
// user.
func (s *Service) NewUser(ctx context.Context, email, pw, name string, role latchkey.Role, verified bool) (*latchkey.User, error) {
	u, err := s.checkNewUser(ctx, email, pw, name, role)
	if err != nil {
		return nil, err
	}
	u.EmailVerified = verified
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkNewUser validates a new account and hashes its password: the user
// to store, without an ID.
func (s *Service) checkNewUser(ctx context.Context, email, pw, name string, role latchkey.Role) (*latchkey.User, error) {
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
	return &latchkey.User{Email: email, Name: name, Role: role, PasswordHash: hash}, nil
}

// SignUp creates a user, mails it a verification link and code, and signs
// it in; with RequireVerifiedEmail it opens no session, and the Grant holds
// the user alone. The user, its token and the mail are written in one
// transaction, so a crash loses no verification mail.
func (s *Service) SignUp(ctx context.Context, email, pw, name string, c Client) (*Grant, error) {
	u, err := s.checkNewUser(ctx, email, pw, name, latchkey.RoleUser)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7() // the token needs it before the user is stored
	if err != nil {
		return nil, fmt.Errorf("auth: user id: %w", err)
	}
	u.ID = id.String()
	ch, mails, err := s.tokenMailChange(tokenMail{user: u, purpose: latchkey.PurposeVerifyEmail, compose: mail.Verify})
	if err != nil {
		return nil, err
	}
	ev := event(latchkey.AuditSignup, c)
	uctx := latchkey.WithTokenChange(latchkey.WithMail(latchkey.WithAudit(ctx, ev), mails...), ch)
	if err := s.Store.CreateUser(uctx, u); err != nil {
		return nil, err
	}
	logEvent(s.Logger, ev)
	// The mail's own event goes with no change: the sign-up's stands for
	// both in the transaction.
	s.Record(latchkey.AuditVerificationSent, c, u.ID, "", "")
	if s.RequireVerifiedEmail {
		return &Grant{User: u}, nil
	}
	return s.startSession(ctx, u, c, nil, nil)
}
