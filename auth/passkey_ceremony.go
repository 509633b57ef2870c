package auth

// The two passkey ceremonies, each in two steps (see passkey.go).

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
)

// BeginPasskeyRegistration starts adding a passkey to u: options that
// require a resident key and user verification, and exclude u's passkeys
// (so that an authenticator holding one says so instead of making a
// second). Whoever calls it has checked that u may add one (a password or
// a recent MFA); it refuses a user at the cap at once.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u *latchkey.User) (*PasskeyRegistration, error) {
	w, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	if u.Issuer != "" || len(u.ID) > 64 {
		// Its user signs in at its own issuer, and its ID (the issuer's
		// sub) may not fit a user handle.
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "a user of a trusted external issuer cannot add a passkey here")
	}
	keys, err := s.Store.ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: list passkeys: %w", err)
	}
	if len(keys) >= latchkey.MaxPasskeys {
		return nil, errPasskeyLimit
	}
	challenge, err := newChallenge()
	if err != nil {
		return nil, err
	}
	user := passkeyUser{u, keys}
	creation, sd, err := w.BeginRegistration(user,
		webauthn.WithExclusions(webauthn.Credentials(user.WebAuthnCredentials()).CredentialDescriptors()),
		func(o *protocol.PublicKeyCredentialCreationOptions) error {
			o.Challenge = challenge
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey registration: %w", err)
	}
	c, err := s.storeChallenge(ctx, latchkey.ChallengeRegister, u.ID, challenge, sd)
	if err != nil {
		return nil, err
	}
	return &PasskeyRegistration{ChallengeID: c.ID, ExpiresAt: c.ExpiresAt, Options: creation.Response}, nil
}

// FinishPasskeyRegistration verifies the browser's answer (credential, the
// PublicKeyCredential's JSON) to u's registration challengeID, and stores
// the passkey with name, recording passkey_added with it. The challenge is
// used whatever the outcome, except when name breaks a rule. An answer
// without user verification is refused.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, c Client, u *latchkey.User, challengeID string, credential []byte, name string) (*latchkey.Passkey, error) {
	w, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	name, err = checkPasskeyName(name)
	if err != nil {
		return nil, err
	}
	sd, err := s.takeChallenge(ctx, challengeID, latchkey.ChallengeRegister, u.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		s.Logger.Debug("passkey registration refused", "user_id", u.ID, "err", err)
		return nil, errPasskeyRegister
	}
	keys, err := s.Store.ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: list passkeys: %w", err)
	}
	cred, err := w.CreateCredential(passkeyUser{u, keys}, *sd, parsed)
	if err != nil {
		s.Logger.Debug("passkey registration refused", "user_id", u.ID, "err", err)
		return nil, errPasskeyRegister
	}
	// go-webauthn refuses it too (the session requires UV); this does
	// not depend on that.
	if !cred.Flags.UserVerified {
		return nil, errPasskeyNoUV
	}
	p := &latchkey.Passkey{
		UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID,
		BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState,
		UserVerified: true, Name: name, CreatedAt: s.now(),
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	ev := event(latchkey.AuditPasskeyAdded, c)
	ev.UserID = u.ID
	if err := s.Store.CreatePasskey(latchkey.WithAudit(ctx, ev), p); err != nil {
		return nil, err
	}
	logEvent(s.Logger, ev)
	return p, nil
}

// BeginPasskeySignIn starts a sign-in with a discoverable passkey: no user
// is named, the authenticator offers the passkeys it holds for the RP ID,
// and user verification is required.
func (s *Service) BeginPasskeySignIn(ctx context.Context) (*PasskeySignIn, error) {
	w, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	challenge, err := newChallenge()
	if err != nil {
		return nil, err
	}
	assertion, sd, err := w.BeginDiscoverableLogin(webauthn.WithChallenge(challenge),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey sign-in: %w", err)
	}
	c, err := s.storeChallenge(ctx, latchkey.ChallengeSignIn, "", challenge, sd)
	if err != nil {
		return nil, err
	}
	return &PasskeySignIn{ChallengeID: c.ID, ExpiresAt: c.ExpiresAt, Options: assertion.Response}, nil
}

// FinishPasskeySignIn verifies the browser's assertion (credential, the
// PublicKeyCredential's JSON) to the sign-in challengeID and records the
// passkey's use: its new sign counter and backup state. It opens no
// session: the caller does, with the login's AMR. Every refusal is the
// same 401 invalid_credentials: an unknown passkey, a bad signature,
// another origin or RP ID, no user verification, and a sign counter that
// did not move forward, which is also audited (signin_failed, reason
// passkey_counter), as the key may have been copied.
func (s *Service) FinishPasskeySignIn(ctx context.Context, c Client, challengeID string, credential []byte) (*PasskeyLogin, error) {
	return s.finishPasskeySignIn(ctx, c, challengeID, credential, "")
}

// finishPasskeySignIn is FinishPasskeySignIn for a passkey of user
// wantUser, or of anyone when wantUser is "": another user's passkey is
// refused before its use is recorded.
func (s *Service) finishPasskeySignIn(ctx context.Context, c Client, challengeID string, credential []byte, wantUser string) (*PasskeyLogin, error) {
	w, err := s.webAuthn()
	if err != nil {
		return nil, err
	}
	sd, err := s.takeChallenge(ctx, challengeID, latchkey.ChallengeSignIn, "")
	if err != nil {
		return nil, err
	}
	// refused is every assertion that did not verify: audited here for a
	// first factor (a second step's failure is the caller's to record).
	refused := func(userID string, err error) error {
		s.Logger.Debug("passkey sign-in refused", "user_id", userID, "err", err)
		if wantUser == "" {
			s.Record(latchkey.AuditSigninFailed, c, userID, "", ReasonPasskeyRefused)
		}
		return errPasskeySignIn
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, refused("", err)
	}
	var login PasskeyLogin
	var lookupErr error
	_, cred, err := w.ValidatePasskeyLogin(s.passkeyOwner(ctx, wantUser, &login, &lookupErr), *sd, parsed)
	if err != nil {
		if lookupErr != nil && latchkey.ErrorCode(lookupErr) != latchkey.ENOTFOUND {
			// The store failed (unavailable: a 503 to retry), which
			// says nothing of the assertion.
			return nil, fmt.Errorf("auth: find the passkey of an assertion: %w", lookupErr)
		}
		return nil, refused(userIDOf(login.User), err)
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if !flags.HasUserVerified() { // as at registration: not left to the library alone
		return nil, refused(login.Passkey.UserID, errors.New("no user verification"))
	}
	p, counter := login.Passkey, parsed.Response.AuthenticatorData.Counter
	// go-webauthn flags a counter that did not grow; the store checks it
	// again in its update, against a concurrent assertion.
	err = latchkey.ErrPasskeyCounter
	if !cred.Authenticator.CloneWarning {
		err = s.Store.UpdatePasskeyUse(ctx, p.ID, counter, flags.HasBackupState(), s.now())
	}
	if err == latchkey.ErrPasskeyCounter {
		s.Record(latchkey.AuditSigninFailed, c, p.UserID, "", latchkey.ReasonPasskeyCounter)
		return nil, errPasskeySignIn
	}
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND { // removed meanwhile
		return nil, refused(p.UserID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: record passkey use: %w", err)
	}
	p.SignCount, p.BackedUp, p.LastUsedAt = counter, flags.HasBackupState(), s.now()
	if login.User.Disabled {
		s.Record(latchkey.AuditSigninFailed, c, p.UserID, "", "account_disabled")
		return nil, latchkey.Errorf(latchkey.EACCOUNTDISABLED, "account disabled")
	}
	login.AMR = PasskeyAMR(p)
	return &login, nil
}

// passkeyOwner is go-webauthn's lookup of the passkey an assertion names
// and its user, filling in login, and in lookupErr the store's error. The
// user handle must be the passkey's user: an authenticator cannot sign in
// as another. With wantUser set, the passkey must be that user's.
func (s *Service) passkeyOwner(ctx context.Context, wantUser string, login *PasskeyLogin, lookupErr *error) webauthn.DiscoverableUserHandler {
	return func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.Store.FindPasskeyByCredentialID(ctx, rawID)
		if err != nil {
			*lookupErr = err
			return nil, err
		}
		if string(userHandle) != p.UserID {
			return nil, fmt.Errorf("the user handle is not the passkey's user %s", p.UserID)
		}
		if wantUser != "" && p.UserID != wantUser {
			return nil, fmt.Errorf("the passkey is user %s's, not the signing-in user's", p.UserID)
		}
		u, err := s.Store.FindUserByID(ctx, p.UserID)
		if err != nil {
			*lookupErr = err
			return nil, err
		}
		login.User, login.Passkey = u, p
		return passkeyUser{u, []*latchkey.Passkey{p}}, nil
	}
}

// ReasonPasskeyRefused is the reason of the signin_failed event of a
// passkey assertion that did not verify.
const ReasonPasskeyRefused = "passkey_refused"

func userIDOf(u *latchkey.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}
