package auth

// Passkeys (issue 14 groundwork): the relying party built from the issuer,
// and the two ceremonies, registration and sign-in, each begun by one call
// and finished by another, on any instance: the challenge and go-webauthn's
// session data wait in the store (latchkey.PasskeyService).

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
)

// WebAuthnRPName is the relying party's name, which an authenticator may
// show beside the passkey.
const WebAuthnRPName = "Latchkey"

// MaxPasskeyNameLen is how many characters a passkey's name may have.
const MaxPasskeyNameLen = 64

// DefaultPasskeyName names a passkey registered without a name.
const DefaultPasskeyName = "Passkey"

// ErrRPIDFromIP is NewWebAuthn's answer when the RP ID would be the
// issuer's host and that host is an IP address, which no browser takes as
// an RP ID: passkeys then need LATCHKEY_WEBAUTHN_RP_ID.
var ErrRPIDFromIP = errors.New("the issuer's host is an IP address, which browsers refuse as a WebAuthn RP ID; set LATCHKEY_WEBAUTHN_RP_ID to a host name")

var (
	errPasskeysOff = latchkey.Errorf(latchkey.EFORBIDDEN,
		"passkeys are off: the issuer's host is an IP address and LATCHKEY_WEBAUTHN_RP_ID is not set")
	// A dead challenge is answered as a dead one-time link is (400
	// invalid_token): the client starts the ceremony again.
	errPasskeyChallenge = latchkey.Errorf(latchkey.EINVALIDONETIME,
		"the passkey challenge is unknown, used or expired; start again")
	errPasskeyRegister = latchkey.ValidationError(latchkey.FieldError{Field: "credential",
		Message: "could not be verified as an answer to this challenge"})
	errPasskeyNoUV = latchkey.ValidationError(latchkey.FieldError{Field: "credential",
		Message: "the authenticator did not verify the user (PIN or biometric), which passkeys need"})
	errPasskeyLimit = latchkey.Errorf(latchkey.EINVALID,
		"a user may have at most %d passkeys; remove one first", latchkey.MaxPasskeys)
	// errPasskeySignIn is every refused assertion, whatever failed, as a
	// wrong password is: ErrPasskeyCounter has its code and message.
	errPasskeySignIn = latchkey.ErrPasskeyCounter
)

// NewWebAuthn builds the relying party of passkeys. rpID "" is the
// issuer's host without its port; no origins is the issuer's origin. Every
// origin must be https (or http on localhost and its subdomains, which
// browsers treat as secure) on the RP ID or a subdomain of it: browsers
// refuse any other pair, so a mismatch is refused here, at start.
func NewWebAuthn(issuer, rpID string, origins []string) (*webauthn.WebAuthn, error) {
	iss, err := url.Parse(issuer)
	if err != nil || iss.Host == "" {
		return nil, fmt.Errorf("webauthn: issuer %q is not a URL", issuer)
	}
	if rpID == "" {
		rpID = strings.ToLower(iss.Hostname())
		if net.ParseIP(rpID) != nil {
			return nil, ErrRPIDFromIP
		}
	}
	if len(origins) == 0 {
		origins = []string{iss.Scheme + "://" + iss.Host}
	}
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("webauthn: origin %q is not a URL", o)
		}
		h := strings.ToLower(u.Hostname())
		if h != rpID && !strings.HasSuffix(h, "."+rpID) {
			return nil, fmt.Errorf("webauthn: origin %s is not on the RP ID %s or a subdomain of it", o, rpID)
		}
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: WebAuthnRPName,
		RPOrigins:     origins,
		// Resident keys (passkeys, found without a user name) and user
		// verification, for every ceremony: a passkey without it would
		// be one factor, and it counts as MFA.
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		// No attestation: Latchkey trusts no authenticator model over
		// another, and asking would only prompt the user.
		AttestationPreference: protocol.PreferNoAttestation,
		// The browser's timeout. The store's challenge expiry, on the
		// service's clock, is what is enforced.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: latchkey.WebAuthnChallengeTTL, TimeoutUVD: latchkey.WebAuthnChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: latchkey.WebAuthnChallengeTTL, TimeoutUVD: latchkey.WebAuthnChallengeTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn: %w", err)
	}
	return w, nil
}

// PasskeyRegistration is the first step of adding a passkey: the options
// for navigator.credentials.create and the challenge that finishes it.
type PasskeyRegistration struct {
	ChallengeID string
	ExpiresAt   time.Time
	Options     protocol.PublicKeyCredentialCreationOptions
}

// PasskeySignIn is the first step of a sign-in with a passkey: the options
// for navigator.credentials.get and the challenge that finishes it.
type PasskeySignIn struct {
	ChallengeID string
	ExpiresAt   time.Time
	Options     protocol.PublicKeyCredentialRequestOptions
}

// PasskeyLogin is a verified passkey assertion: whose it is, the passkey
// as updated, and the amr of a session it opens (PasskeyAMR).
type PasskeyLogin struct {
	User    *latchkey.User
	Passkey *latchkey.Passkey
	AMR     []string
}

// PasskeyAMR is the amr of a sign-in with p (RFC 8176): a key the user
// proved to hold, after the authenticator verified the user, which makes
// it multi-factor. A backup-eligible key may be synced off the device, so
// it is a software-protected key (swk), not a hardware one (hwk).
func PasskeyAMR(p *latchkey.Passkey) []string {
	key := latchkey.AMRHardware
	if p.BackupEligible || p.BackedUp {
		key = latchkey.AMRSoftware
	}
	return []string{key, latchkey.AMRUser, latchkey.AMRMFA}
}

// passkeyUser is a user as go-webauthn sees it. The user handle is the
// user's ID: opaque, at most 64 bytes, and no personal data.
type passkeyUser struct {
	u    *latchkey.User
	keys []*latchkey.Passkey
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Email }

func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}

func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.keys))
	for _, k := range p.keys {
		out = append(out, credentialOf(k))
	}
	return out
}

// credentialOf is a stored passkey as go-webauthn's credential record.
func credentialOf(k *latchkey.Passkey) webauthn.Credential {
	flags := protocol.FlagUserPresent
	if k.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if k.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if k.BackedUp {
		flags |= protocol.FlagBackupState
	}
	var transports []protocol.AuthenticatorTransport
	for _, t := range k.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID: k.CredentialID, PublicKey: k.PublicKey, Transport: transports,
		Flags:         webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
	}
}

func (s *Service) webAuthn() (*webauthn.WebAuthn, error) {
	if s.WebAuthn == nil {
		return nil, errPasskeysOff
	}
	return s.WebAuthn, nil
}

// newChallenge returns WebAuthnChallengeLen random bytes.
func newChallenge() ([]byte, error) {
	b := make([]byte, latchkey.WebAuthnChallengeLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: passkey challenge: %w", err)
	}
	return b, nil
}

// storeChallenge keeps a ceremony's challenge and session data for
// WebAuthnChallengeTTL.
func (s *Service) storeChallenge(ctx context.Context, p latchkey.ChallengePurpose, userID string, challenge []byte, sd *webauthn.SessionData) (*latchkey.WebAuthnChallenge, error) {
	session, err := json.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("auth: passkey session data: %w", err)
	}
	now := s.now()
	c := &latchkey.WebAuthnChallenge{
		Purpose: p, UserID: userID, Challenge: challenge, Session: session,
		CreatedAt: now, ExpiresAt: now.Add(latchkey.WebAuthnChallengeTTL),
	}
	if err := s.Store.CreateWebAuthnChallenge(ctx, c); err != nil {
		return nil, fmt.Errorf("auth: store passkey challenge: %w", err)
	}
	return c, nil
}

// takeChallenge uses the challenge id of purpose p (and user) once, and
// returns its session data. Whatever the reason it cannot, the answer is
// errPasskeyChallenge.
//
// The take commits alone: the mail and audit event ctx carries are for the
// ceremony's success, which is not known yet.
func (s *Service) takeChallenge(ctx context.Context, id string, p latchkey.ChallengePurpose, userID string) (*webauthn.SessionData, error) {
	c, err := s.Store.TakeWebAuthnChallenge(alone{ctx}, id, p, userID, s.now())
	// EINVALID: an id the store cannot even hold (a NUL byte, on
	// PostgreSQL), which names no challenge either.
	if code := latchkey.ErrorCode(err); code == latchkey.ENOTFOUND || code == latchkey.EINVALID {
		return nil, errPasskeyChallenge
	}
	if err != nil {
		return nil, fmt.Errorf("auth: take passkey challenge: %w", err)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return nil, fmt.Errorf("auth: passkey session data of challenge %s: %w", c.ID, err)
	}
	return &sd, nil
}

// checkPasskeyName returns the name a passkey is stored with: name
// without surrounding spaces, or DefaultPasskeyName when that is empty.
func checkPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return DefaultPasskeyName, nil
	case utf8.RuneCountInString(name) > MaxPasskeyNameLen:
		return "", latchkey.ValidationError(latchkey.FieldError{Field: "name",
			Message: fmt.Sprintf("must be at most %d characters", MaxPasskeyNameLen)})
	case !utf8.ValidString(name) || !latchkey.PlainLine(name):
		return "", latchkey.ValidationError(latchkey.FieldError{Field: "name", Message: latchkey.LineRuleText})
	}
	return name, nil
}
