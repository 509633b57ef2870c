package auth

// Sign-in with a second factor (issue 14): a right password for a user
// with a confirmed TOTP factor answers an mfa_token instead of tokens, and
// SignInMFA trades the token and a TOTP or recovery code for the session.

import (
	"context"
	"errors"

	"github.com/latchkey/latchkey"
)

// The second-step methods mfa_required offers.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
)

var errMFARequired = latchkey.Errorf(latchkey.EMFAREQUIRED,
	"this account signs in with a second factor: send the mfa_token and a code to /api/auth/signin/mfa")

// MFARequired is SignIn's answer to a right password when the user has a
// confirmed TOTP factor: no session yet, but an mfa_token for the second
// step. Its code is latchkey.EMFAREQUIRED (errors.As finds the
// *latchkey.Error). The token's secret is in it, so it goes in the answer
// to the client and nowhere else: Error() does not show it.
type MFARequired struct {
	Token   *IssuedMFAToken
	Methods []string
}

func (e *MFARequired) Error() string { return errMFARequired.Error() }

// Unwrap makes the error's code mfa_required.
func (e *MFARequired) Unwrap() error { return errMFARequired }

// mfaChallenge returns *MFARequired, with a new mfa_token whose amr is
// ["pwd"], when u has a confirmed TOTP factor, and nil when u has none.
// Only a confirmed TOTP factor turns the second step on.
func (s *Service) mfaChallenge(ctx context.Context, u *latchkey.User) error {
	_, err := s.Store.ConfirmedTOTPFactor(ctx, u.ID)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	t, err := s.IssueMFAToken(ctx, u.ID, []string{latchkey.AMRPassword})
	if err != nil {
		return err
	}
	return &MFARequired{Token: t, Methods: []string{MethodTOTP, MethodRecoveryCode}}
}

// SignInMFA is the second step of a password sign-in: the mfa_token and
// either a TOTP code or a recovery code. It opens the session as SignIn
// does, recording signin with it, and with the amr of both steps: ["pwd",
// "otp", "mfa"], or ["pwd", "mfa"] for a recovery code, whose use is
// recorded (recovery_code_used) with the token's use.
//
// Errors: validation_failed for a missing field, or both codes;
// invalid_token for an unknown, used, expired or exhausted mfa_token;
// invalid_credentials for a wrong, reused or malformed code;
// rate_limited while TOTP is locked (recovery codes still work);
// account_disabled when the user was disabled meanwhile. A failed code is
// recorded as mfa_challenge_failed (and mfa_locked when it locked TOTP);
// none of it counts toward the password throttle.
func (s *Service) SignInMFA(ctx context.Context, mfaToken, code, recoveryCode string, c Client) (*Grant, error) {
	var errs []latchkey.FieldError
	if mfaToken == "" {
		errs = append(errs, latchkey.FieldError{Field: "mfa_token", Message: requiredRuleText})
	}
	switch {
	case code == "" && recoveryCode == "":
		errs = append(errs, latchkey.FieldError{Field: "code", Message: "give a code or a recovery_code"})
	case code != "" && recoveryCode != "":
		errs = append(errs, latchkey.FieldError{Field: "recovery_code", Message: "give either a code or a recovery_code, not both"})
	}
	if len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	useCtx := ctx
	var used *latchkey.AuditEvent
	if recoveryCode != "" {
		used = event(latchkey.AuditRecoveryCodeUsed, c)
		useCtx = latchkey.WithAudit(ctx, used)
	}
	t, amr, err := s.SecondFactor(useCtx, mfaToken, code, recoveryCode)
	if err != nil {
		if t != nil {
			s.codeFailed(c, t.UserID, "", err)
		}
		return nil, err
	}
	if used != nil {
		logEvent(s.Logger, used)
	}
	u, err := s.Store.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		s.Record(latchkey.AuditSigninFailed, c, u.ID, "", "account_disabled")
		return nil, latchkey.Errorf(latchkey.EACCOUNTDISABLED, "account disabled")
	}
	return s.startSession(ctx, u, c, event(latchkey.AuditSignin, c), amr)
}

// codeFailed records a TOTP or recovery code that was refused:
// mfa_challenge_failed with the error's code as the reason, and mfa_locked
// once, for the wrong code that locked TOTP.
func (s *Service) codeFailed(c Client, userID, sid string, err error) {
	switch code := latchkey.ErrorCode(err); code {
	case latchkey.EINVALIDCREDENTIALS, latchkey.ERATELIMITED:
		s.Record(latchkey.AuditMFAChallengeFailed, c, userID, sid, code)
	default:
		return
	}
	if errors.Is(err, ErrTOTPLockedNow) {
		s.Record(latchkey.AuditMFALocked, c, userID, sid, "")
	}
}
