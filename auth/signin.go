package auth

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

var errInvalidCredentials = latchkey.Errorf(latchkey.EINVALIDCREDENTIALS, "invalid email or password")

// The per-account throttle: after MaxSignInFailures failed sign-ins for one
// email within SignInFailureWindow, further attempts are refused until the
// oldest failure leaves the window, even with the right password. Unknown
// emails are counted the same way, so the answers reveal no account.
const (
	MaxSignInFailures   = 10
	SignInFailureWindow = 15 * time.Minute
)

// SignIn checks a password and opens a session. An unknown email costs the
// same hashing work as a wrong password and gets the same answer.
func (s *Service) SignIn(ctx context.Context, email, pw string, c Client) (*Grant, error) {
	var errs []latchkey.FieldError
	if email == "" {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: requiredRuleText})
	}
	if pw == "" {
		errs = append(errs, latchkey.FieldError{Field: "password", Message: requiredRuleText})
	}
	if len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	release, err := s.reserveAttempt(ctx, email, c, "")
	if err != nil {
		return nil, err
	}
	// No account can have an email or password this long (sign-up refuses
	// them): refuse before any lookup or hashing, which the length would
	// make costly. The attempt still counts.
	if len(email) > MaxEmailLen || len(pw) > maxPasswordBytes {
		s.Record(latchkey.AuditSigninFailed, c, "", "", "too_long")
		return nil, errInvalidCredentials
	}
	u, err := s.Store.FindUserByEmail(ctx, email)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		if err := s.Hasher.VerifyDummy(ctx, pw); err != nil {
			release()
			return nil, hashFailure("dummy verify", err)
		}
		s.Record(latchkey.AuditSigninFailed, c, "", "", "unknown_email")
		return nil, errInvalidCredentials
	} else if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		// A user provisioned from an external issuer has no password here:
		// answer exactly as for an unknown email.
		if err := s.Hasher.VerifyDummy(ctx, pw); err != nil {
			release()
			return nil, hashFailure("dummy verify", err)
		}
		s.Record(latchkey.AuditSigninFailed, c, u.ID, "", "no_password")
		return nil, errInvalidCredentials
	}
	ok, err := s.Hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		release()
		return nil, hashFailure("verify password", err)
	}
	if !ok {
		s.Record(latchkey.AuditSigninFailed, c, u.ID, "", "wrong_password")
		return nil, errInvalidCredentials
	}
	if err := s.Store.ClearSignInFailures(ctx, email); err != nil {
		return nil, err
	}
	// Only a caller who knows the password learns that the account is disabled.
	if u.Disabled {
		s.Record(latchkey.AuditSigninFailed, c, u.ID, "", "account_disabled")
		return nil, latchkey.Errorf(latchkey.EACCOUNTDISABLED, "account disabled")
	}
	// Likewise an unverified address, after the throttle was cleared: the
	// refusal is not a failed guess.
	if err := s.requireVerified(ctx, u, c); err != nil {
		return nil, err
	}
	s.upgradeHash(ctx, u, pw)
	if err := s.mfaChallenge(ctx, u); err != nil {
		return nil, err
	}
	g, err := s.startSession(ctx, u, c, event(latchkey.AuditSignin, c), nil)
	if err != nil {
		return nil, err
	}
	// TOTP turned on meanwhile: the second step after all.
	return s.keepIfFactorsHold(ctx, g, []string{latchkey.AMRPassword}, "", func() error { return s.mfaChallenge(ctx, u) })
}

// requireVerified refuses u, who has just proved who they are, when
// verified addresses are required and u's is not: email_not_verified,
// with a fresh verification mail.
func (s *Service) requireVerified(ctx context.Context, u *latchkey.User, c Client) error {
	if !s.RequireVerifiedEmail || u.EmailVerified {
		return nil
	}
	if _, err := s.sendVerification(ctx, u, c); err != nil {
		return err
	}
	s.Record(latchkey.AuditSigninFailed, c, u.ID, "", "email_not_verified")
	return latchkey.Errorf(latchkey.EEMAILNOTVERIFIED, "verify your email address first: check your mail for the link")
}

// reserveAttempt counts a password attempt for the account with email
// before any hashing, and refuses it once MaxSignInFailures are counted in
// the window. The attempt is recorded first and forgotten on success, in
// one store transaction with the check, so concurrent guesses cannot slip
// past the limit; a refused attempt costs the server no hashing.
func (s *Service) reserveAttempt(ctx context.Context, email string, c Client, userID string) (release func(), err error) {
	now := s.now()
	ok, oldest, err := s.Store.ReserveSignIn(ctx, email, now, now.Add(-SignInFailureWindow), MaxSignInFailures)
	if err != nil {
		return nil, err
	}
	if ok {
		// An attempt that never reached the password check (the hashing
		// gate was full) is taken back, so a busy server cannot throttle
		// an account that gave the right password.
		return func() { _ = s.Store.ReleaseSignIn(context.WithoutCancel(ctx), email, now) }, nil
	}
	s.Record(latchkey.AuditRateLimited, c, userID, "", "account")
	return nil, &latchkey.Error{
		Code:       latchkey.ERATELIMITED,
		Message:    "too many failed password attempts for this account; try again later",
		RetryAfter: oldest.Add(SignInFailureWindow).Sub(now),
	}
}

// upgradeHash re-hashes a password stored under weaker parameters than the
// current ones, now that the sign-in has it in hand. A failure only means
// trying again at the next sign-in.
func (s *Service) upgradeHash(ctx context.Context, u *latchkey.User, pw string) {
	if !s.Hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	var swapped bool
	if err == nil {
		swapped, err = s.Store.RehashPassword(ctx, u.ID, u.PasswordHash, hash)
	}
	if err != nil {
		s.Logger.Warn("rehash password", "user_id", u.ID, "err", err)
		return
	}
	if swapped {
		u.PasswordHash = hash
	}
	s.Logger.Info("password rehashed", "user_id", u.ID)
}
