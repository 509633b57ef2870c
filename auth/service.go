package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/password"
	"github.com/latchkey/latchkey/token"
)

// Service carries the dependencies of the account operations.
type Service struct {
	Store   latchkey.Store
	Hasher  *password.Hasher
	Tokens  *token.Issuer
	Revoked *Revocations
	// Audit writes the events that go with no change; the others are
	// recorded by the store with the change itself.
	Audit        *Recorder
	RefreshTTL   time.Duration
	RefreshGrace time.Duration // 0 means strict: any second use is reuse
	Logger       *slog.Logger
	Now          func() time.Time

	// TokenTTLs are the lifetimes of one-time tokens; CodeKey is the
	// HMAC key of their codes (CodeKeyInfo), the same on every instance.
	TokenTTLs TokenTTLs
	CodeKey   []byte

	// Second factors: TOTPSealer seals TOTP secrets at rest (a
	// keyseal.Sealer under the key TOTPKeyInfo derives), RecoveryKey is
	// the HMAC key of recovery codes (RecoveryKeyInfo), both the same on
	// every instance. TOTPIssuer names the service in authenticator apps
	// (DefaultTOTPIssuer when empty).
	TOTPSealer  Sealer
	RecoveryKey []byte
	TOTPIssuer  string

	// MaxSessions caps a user's live sessions: signing in past it revokes
	// the least recently used one. 0 means no cap.
	MaxSessions int

	// RequireVerifiedEmail refuses sign-in to an unverified address
	// (LATCHKEY_REQUIRE_VERIFIED_EMAIL), and sign-up then opens no session.
	RequireVerifiedEmail bool

	// WebAuthn is the relying party of passkeys (NewWebAuthn); nil turns
	// them off.
	WebAuthn *webauthn.WebAuthn
}

// Client describes where a request came from; it is kept with the session.
// UserAgent is the header as the client sent it: what is kept of it is
// cleaned (cleanUserAgent) wherever it is stored or logged.
type Client struct {
	IP        string
	UserAgent string
}

// Grant is what sign-up, sign-in and refresh hand back.
type Grant struct {
	User             *latchkey.User
	AccessToken      string
	AccessExpiresIn  time.Duration
	RefreshToken     string
	RefreshExpiresIn time.Duration
	SessionID        string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// startSession opens a session for u, recording ev (if any) with it. amr
// is how the user was authenticated; nil means a password alone.
func (s *Service) startSession(ctx context.Context, u *latchkey.User, c Client, ev *latchkey.AuditEvent, amr []string) (*Grant, error) {
	if amr == nil {
		amr = []string{latchkey.AMRPassword}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("auth: session id: %w", err)
	}
	now := s.now()
	refresh, key := token.NewRefresh()
	sess := &latchkey.Session{
		ID:          id.String(),
		UserID:      u.ID,
		CreatedAt:   now,
		LastUsedAt:  now,
		ExpiresAt:   now.Add(s.RefreshTTL),
		UserAgent:   cleanUserAgent(c.UserAgent),
		IP:          c.IP,
		RefreshKey:  key,
		RefreshHash: token.HashRefresh(refresh),
		RotatedAt:   now,
		AMR:         amr,
	}
	if ev != nil {
		ctx = latchkey.WithAudit(ctx, ev)
	}
	evicted, err := s.Store.CreateSession(ctx, sess, s.MaxSessions)
	if err != nil {
		return nil, fmt.Errorf("auth: create session: %w", err)
	}
	if ev != nil {
		logEvent(s.Logger, ev)
	}
	s.evicted(u.ID, c, evicted)
	if err := s.stillAsChecked(ctx, u, sess.ID); err != nil {
		return nil, err
	}
	return s.grant(u, sess, refresh, now)
}

// evicted takes note of the sessions a new one displaced (MaxSessions): the
// store revoked them and recorded their events; the revocation set learns
// of them at once, and the log gets the events' lines.
func (s *Service) evicted(userID string, c Client, ids []string) {
	if len(ids) == 0 {
		return
	}
	s.Revoked.Add(s.now(), ids...)
	for _, id := range ids {
		ev := event(latchkey.AuditSessionRevoked, c)
		ev.UserID, ev.SessionID, ev.Reason = userID, id, latchkey.ReasonSessionLimit
		logEvent(s.Logger, ev)
	}
}

// stillAsChecked closes the race between a sign-in and an admin change or a
// password change: it re-reads the user after the new session is stored.
// A change committed before the session was stored shows here, and the
// session is revoked; one committed after it revoked the session itself
// (disable, role change and password change revoke every other session).
func (s *Service) stillAsChecked(ctx context.Context, checked *latchkey.User, sid string) error {
	u, err := s.Store.FindUserByID(ctx, checked.ID)
	if err != nil {
		return err
	}
	// The reason is the change's, as if it had revoked the session
	// itself: the revocation feed tells receivers who initiated it.
	var reason string
	switch {
	case u.Disabled:
		reason = latchkey.ReasonUserDisabled
	case u.Role != checked.Role:
		reason = latchkey.ReasonRoleChanged
	case u.PasswordHash != checked.PasswordHash:
		reason = latchkey.ReasonPasswordChanged
	default:
		return nil
	}
	if err := s.Store.RevokeSessionByID(ctx, sid, reason, s.now()); err != nil {
		return fmt.Errorf("auth: revoke a session opened during a change: %w", err)
	}
	s.Revoked.Add(s.now(), sid)
	if u.Disabled {
		return latchkey.Errorf(latchkey.EACCOUNTDISABLED, "account disabled")
	}
	return errInvalidCredentials
}

func (s *Service) grant(u *latchkey.User, sess *latchkey.Session, refresh string, now time.Time) (*Grant, error) {
	at, err := s.Tokens.Issue(u, sess.ID, sess.AMR)
	if err != nil {
		return nil, err
	}
	return &Grant{
		User:             u,
		AccessToken:      at,
		AccessExpiresIn:  s.Tokens.TTL,
		RefreshToken:     refresh,
		RefreshExpiresIn: sess.ExpiresAt.Sub(now),
		SessionID:        sess.ID,
	}, nil
}

// Record queues an audit event that goes with no change (a rejected token,
// a throttled request) and logs it.
func (s *Service) Record(typ string, c Client, userID, sessionID, reason string) {
	ev := event(typ, c)
	ev.UserID, ev.SessionID, ev.Reason = userID, sessionID, reason
	if s.Audit != nil {
		s.Audit.Record(ev)
		return
	}
	logEvent(s.Logger, ev)
}

// hashFailure turns a full hashing gate into a 503 that tells the client to
// come back, rather than a 500.
func hashFailure(op string, err error) error {
	// A request out of time while queued for the gate is the same overload.
	if errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "too many sign-ins at once; retry shortly")
	}
	return fmt.Errorf("auth: %s: %w", op, err)
}

// maxUserAgent is how many bytes of a client's User-Agent are kept, in a
// session and in an audit event or its log line.
const maxUserAgent = 256

// cleanUserAgent is the User-Agent as Latchkey stores and logs it: control
// and format characters (C0, DEL, C1, bidi controls, zero-width
// characters) removed, each invalid UTF-8 byte replaced by U+FFFD, and cut
// to maxUserAgent bytes on a character boundary. The header is the
// client's to choose: this keeps what an attacker writes into the audit
// log short and unable to move a terminal's cursor or reorder a line.
func cleanUserAgent(ua string) string {
	if len(ua) <= maxUserAgent && printableASCII(ua) {
		return ua
	}
	var b strings.Builder
	for _, r := range ua { // an invalid byte comes as utf8.RuneError
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxUserAgent {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
