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
	MethodPasskey      = "passkey"
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
// Only a confirmed TOTP factor turns the second step on; a user who also
// has a passkey (and passkeys are on) may use it for the step.
func (s *Service) mfaChallenge(ctx context.Context, u *latchkey.User) error {
	_, err := s.Store.ConfirmedTOTPFactor(ctx, u.ID)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	methods := []string{MethodTOTP, MethodRecoveryCode}
	if s.WebAuthn != nil {
		keys, err := s.Store.ListPasskeys(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			methods = append(methods, MethodPasskey)
		}
	}
	t, err := s.IssueMFAToken(ctx, u.ID, []string{latchkey.AMRPassword})
	if err != nil {
		return err
	}
	return &MFARequired{Token: t, Methods: methods}
}

// MFAStep is the second step of a password sign-in: the mfa_token and one
// proof, a TOTP code, a recovery code, or a passkey's assertion
// (Credential, the PublicKeyCredential's JSON) to the sign-in challenge
// ChallengeID.
type MFAStep struct {
	MFAToken     string
	Code         string
	RecoveryCode string
	ChallengeID  string
	Credential   []byte
}

// SignInMFA is the second step of a password sign-in. It opens the session
// as SignIn does, recording signin with it, and with the amr of both
// steps: ["pwd", "otp", "mfa"]; ["pwd", "mfa"] for a recovery code, whose
// use is recorded (recovery_code_used) with the token's use; or the
// passkey's values after "pwd" (["pwd", "hwk", "user", "mfa"]).
//
// Errors: validation_failed for a missing field, or more than one proof;
// invalid_token for an unknown, used, expired or exhausted mfa_token;
// invalid_credentials for a wrong, reused or malformed code, and for a
// passkey assertion that does not verify, is another user's, or answers a
// dead challenge; rate_limited while TOTP is locked (recovery codes and
// passkeys still work); account_disabled when the user was disabled
// meanwhile. A failed proof is recorded as mfa_challenge_failed (and
// mfa_locked when it locked TOTP); none of it counts toward the password
// throttle.
func (s *Service) SignInMFA(ctx context.Context, in MFAStep, c Client) (*Grant, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	var (
		t         *latchkey.MFAToken
		amr       []string
		passkeyID string
		err       error
		used      *latchkey.AuditEvent
	)
	switch {
	case in.ChallengeID != "":
		t, amr, passkeyID, err = s.passkeyFactor(ctx, in, c)
	case in.RecoveryCode != "":
		used = event(latchkey.AuditRecoveryCodeUsed, c)
		t, amr, err = s.SecondFactor(latchkey.WithAudit(ctx, used), in.MFAToken, "", in.RecoveryCode)
	default:
		t, amr, err = s.SecondFactor(ctx, in.MFAToken, in.Code, "")
	}
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
	g, err := s.startSession(ctx, u, c, event(latchkey.AuditSignin, c), amr)
	if err != nil {
		return nil, err
	}
	return s.keepIfFactorsHold(ctx, g, amr, passkeyID, func() error { return errInvalidCredentials })
}

// check is validation_failed unless the step has an mfa_token and exactly
// one proof, a passkey's being both its fields.
func (in MFAStep) check() error {
	var errs []latchkey.FieldError
	if in.MFAToken == "" {
		errs = append(errs, latchkey.FieldError{Field: "mfa_token", Message: requiredRuleText})
	}
	passkey := in.ChallengeID != "" || len(in.Credential) > 0
	proofs := 0
	for _, given := range []bool{in.Code != "", in.RecoveryCode != "", passkey} {
		if given {
			proofs++
		}
	}
	switch {
	case proofs == 0:
		errs = append(errs, latchkey.FieldError{Field: "code", Message: "give a code, a recovery_code, or a passkey's challenge_id and credential"})
	case proofs > 1:
		errs = append(errs, latchkey.FieldError{Field: "recovery_code", Message: "give one of a code, a recovery_code or a passkey, not several"})
	case passkey && in.ChallengeID == "":
		errs = append(errs, latchkey.FieldError{Field: "challenge_id", Message: requiredRuleText})
	case passkey && len(in.Credential) == 0:
		errs = append(errs, latchkey.FieldError{Field: "credential", Message: requiredRuleText})
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	return nil
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
