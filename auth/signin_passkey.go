package auth

// Sign-in with a passkey (issue 14): as the first factor, which is MFA on
// its own (the authenticator verified the user), and as the second step
// of a password sign-in.

import (
	"context"

	"github.com/latchkey/latchkey"
)

// SignInPasskey finishes a passkey sign-in begun with BeginPasskeySignIn
// and opens the session with the passkey's amr (PasskeyAMR), recording
// passkey_signin with it: never mfa_required. Errors as
// FinishPasskeySignIn's, and email_not_verified as SignIn's.
func (s *Service) SignInPasskey(ctx context.Context, c Client, challengeID string, credential []byte) (*Grant, error) {
	if err := ceremonyFields(challengeID, credential); err != nil {
		return nil, err
	}
	login, err := s.FinishPasskeySignIn(ctx, c, challengeID, credential)
	if err != nil {
		return nil, err
	}
	if err := s.requireVerified(ctx, login.User, c); err != nil {
		return nil, err
	}
	g, err := s.startSession(ctx, login.User, c, event(latchkey.AuditPasskeySignin, c), login.AMR)
	if err != nil {
		return nil, err
	}
	return s.keepIfFactorsHold(ctx, g, login.AMR, login.Passkey.ID, func() error { return errPasskeySignIn })
}

// passkeyFactor is the passkey as the second step: it counts an attempt
// against the mfa_token, verifies the assertion as a passkey of the
// token's user, and uses the token. It returns the token, the amr of the
// whole sign-in and the passkey's id. Every refused assertion, a dead
// challenge included, is invalid_credentials, as a wrong code is; the
// token comes back with it, so that the caller records whose failure it
// was.
func (s *Service) passkeyFactor(ctx context.Context, in MFAStep, c Client) (*latchkey.MFAToken, []string, string, error) {
	t, err := s.CheckMFAToken(ctx, in.MFAToken)
	if err != nil {
		return nil, nil, "", err
	}
	login, err := s.finishPasskeySignIn(alone{ctx}, c, in.ChallengeID, in.Credential, t.UserID)
	if latchkey.ErrorCode(err) == latchkey.EINVALIDONETIME {
		err = errPasskeySignIn
	}
	if err != nil {
		return t, nil, "", err
	}
	if err := s.UseMFAToken(ctx, t); err != nil {
		return nil, nil, "", err
	}
	return t, joinAMR(t.AMR, login.AMR), login.Passkey.ID, nil
}

// ceremonyFields is validation_failed unless the finishing call of a
// ceremony names its challenge and brings a credential.
func ceremonyFields(challengeID string, credential []byte) error {
	var errs []latchkey.FieldError
	if challengeID == "" {
		errs = append(errs, latchkey.FieldError{Field: "challenge_id", Message: requiredRuleText})
	}
	if len(credential) == 0 {
		errs = append(errs, latchkey.FieldError{Field: "credential", Message: requiredRuleText})
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	return nil
}
