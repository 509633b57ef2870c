// Package auth is Latchkey's account and session logic: sign-up, sign-in,
// refresh-token rotation with reuse detection, sign-out, password change and
// the in-memory revocation set. It knows nothing of HTTP.
package auth

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

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
}

// Client describes where a request came from; it is kept with the session.
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

// Sign-out scopes.
const (
	ScopeLocal  = "local"
	ScopeOthers = "others"
	ScopeGlobal = "global"
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

var errInvalidCredentials = latchkey.Errorf(latchkey.EINVALIDCREDENTIALS, "invalid email or password")

// The per-account throttle: after MaxSignInFailures failed sign-ins for one
// email within SignInFailureWindow, further attempts are refused until the
// oldest failure leaves the window, even with the right password. Unknown
// emails are counted the same way, so the answers reveal no account.
const (
	MaxSignInFailures   = 10
	SignInFailureWindow = 15 * time.Minute
)

// NewUser validates and stores an account. It is shared by sign-up and the
// `user create` command; an audit event in ctx is recorded with the user.
func (s *Service) NewUser(ctx context.Context, email, pw, name string, role latchkey.Role) (*latchkey.User, error) {
	var errs []latchkey.FieldError
	if email == "" {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: requiredRuleText})
	} else if !validEmail(email) {
		errs = append(errs, latchkey.FieldError{Field: "email", Message: emailRuleText})
	}
	errs = checkPassword("password", pw, errs)
	if utf8.RuneCountInString(name) > MaxNameLen {
		errs = append(errs, latchkey.FieldError{Field: "name", Message: nameRuleText})
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
	u := &latchkey.User{Email: email, Name: strings.TrimSpace(name), Role: role, PasswordHash: hash}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// SignUp creates a user and signs it in.
func (s *Service) SignUp(ctx context.Context, email, pw, name string, c Client) (*Grant, error) {
	ev := event(latchkey.AuditSignup, c)
	u, err := s.NewUser(latchkey.WithAudit(ctx, ev), email, pw, name, latchkey.RoleUser)
	if err != nil {
		return nil, err
	}
	logEvent(s.Logger, ev)
	return s.startSession(ctx, u, c, nil)
}

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
	s.upgradeHash(ctx, u, pw)
	return s.startSession(ctx, u, c, event(latchkey.AuditSignin, c))
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

// startSession opens a session for u, recording ev (if any) with it.
func (s *Service) startSession(ctx context.Context, u *latchkey.User, c Client, ev *latchkey.AuditEvent) (*Grant, error) {
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
		UserAgent:   truncate(c.UserAgent, 512),
		IP:          c.IP,
		RefreshKey:  key,
		RefreshHash: token.HashRefresh(refresh),
		RotatedAt:   now,
	}
	if ev != nil {
		ctx = latchkey.WithAudit(ctx, ev)
	}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("auth: create session: %w", err)
	}
	if ev != nil {
		logEvent(s.Logger, ev)
	}
	if err := s.stillAsChecked(ctx, u, sess.ID); err != nil {
		return nil, err
	}
	return s.grant(u, sess, refresh, now)
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
	if !u.Disabled && u.Role == checked.Role && u.PasswordHash == checked.PasswordHash {
		return nil
	}
	if err := s.Store.RevokeSessionByID(ctx, sid, latchkey.ReasonSessionRevoked, s.now()); err != nil {
		return fmt.Errorf("auth: revoke a session opened during a change: %w", err)
	}
	s.Revoked.Add(s.now(), sid)
	if u.Disabled {
		return latchkey.Errorf(latchkey.EACCOUNTDISABLED, "account disabled")
	}
	return errInvalidCredentials
}

func (s *Service) grant(u *latchkey.User, sess *latchkey.Session, refresh string, now time.Time) (*Grant, error) {
	at, err := s.Tokens.Issue(u, sess.ID)
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

var (
	errUnknownRefresh = latchkey.Errorf(latchkey.EINVALIDTOKEN, "unknown or expired refresh token")
	errRevoked        = latchkey.Errorf(latchkey.ETOKENREVOKED, "session revoked")
	errReuse          = latchkey.Errorf(latchkey.ETOKENREVOKED, "refresh token reused; session revoked")
)

// Refresh rotates a refresh token. Presenting the current token moves the
// session one generation on; presenting the token it just replaced, within
// the grace window, answers again with the same new token (two tabs
// converge); presenting any other spent token is reuse and revokes the
// session. The rotation is a compare-and-swap on the session's generation in
// the store, so concurrent refreshes, in one process or several, agree.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (*Grant, error) {
	g, err := s.refresh(ctx, refresh, c)
	if code := latchkey.ErrorCode(err); err != errReuse && (code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED) {
		s.Record(latchkey.AuditTokenRejected, c, "", "", "refresh: "+latchkey.ErrorMessage(err))
	}
	return g, err
}

func (s *Service) refresh(ctx context.Context, refresh string, c Client) (*Grant, error) {
	if refresh == "" || len(refresh) > 256 {
		return nil, errUnknownRefresh
	}
	h := token.HashRefresh(refresh)
	now := s.now()
	sess, u, err := s.Store.FindRefreshSession(ctx, h)
	switch latchkey.ErrorCode(err) {
	case "":
		if sess.Revoked() {
			return nil, errRevoked
		}
		if !now.Before(sess.ExpiresAt) {
			return nil, errUnknownRefresh
		}
		if u.Disabled {
			return nil, errRevoked
		}
		next := token.NextRefresh(sess.RefreshKey, refresh)
		ev := event(latchkey.AuditRefresh, c)
		ev.UserID, ev.SessionID = sess.UserID, sess.ID
		won, err := s.Store.RotateSession(latchkey.WithAudit(ctx, ev), latchkey.Rotation{
			SessionID:      sess.ID,
			FromGeneration: sess.Generation,
			OldHash:        h,
			NewHash:        token.HashRefresh(next),
			Now:            now,
			ExpiresAt:      now.Add(s.RefreshTTL),
		})
		if err != nil {
			return nil, fmt.Errorf("auth: rotate: %w", err)
		}
		if won {
			logEvent(s.Logger, ev)
			sess.ExpiresAt = now.Add(s.RefreshTTL)
			return s.grant(u, sess, next, now)
		}
		// Another refresh of this token, or a revocation, got there first:
		// answer as for a spent token, with the session as it is now.
		if sess, err = s.Store.FindSession(ctx, sess.ID); err != nil {
			return nil, fmt.Errorf("auth: reload session: %w", err)
		}
	case latchkey.ENOTFOUND:
		sess, err = s.Store.FindSessionBySpentHash(ctx, h)
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			return nil, errUnknownRefresh
		} else if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return s.spent(ctx, sess, refresh, h, now, c)
}

// spent handles a refresh token that has already been rotated away.
func (s *Service) spent(ctx context.Context, sess *latchkey.Session, refresh string, h []byte, now time.Time, c Client) (*Grant, error) {
	if sess.Revoked() {
		return nil, errRevoked
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, errUnknownRefresh // an ended session has nothing left to protect
	}
	if s.RefreshGrace > 0 && bytes.Equal(sess.PrevHash, h) && now.Sub(sess.RotatedAt) <= s.RefreshGrace {
		next := token.NextRefresh(sess.RefreshKey, refresh)
		if bytes.Equal(token.HashRefresh(next), sess.RefreshHash) {
			u, err := s.liveUser(ctx, sess)
			if err != nil {
				return nil, err
			}
			s.Record(latchkey.AuditRefresh, c, sess.UserID, sess.ID, "grace")
			return s.grant(u, sess, next, now)
		}
	}
	ev := event(latchkey.AuditRefreshReuse, c)
	ev.UserID, ev.SessionID = sess.UserID, sess.ID
	if err := s.Store.RevokeSessionByID(latchkey.WithAudit(ctx, ev), sess.ID, latchkey.ReasonRefreshReuse, now); err != nil {
		return nil, fmt.Errorf("auth: revoke on reuse: %w", err)
	}
	s.Revoked.Add(now, sess.ID)
	logEvent(s.Logger, ev)
	return nil, errReuse
}

// liveUser loads the session's user, refusing a disabled one.
func (s *Service) liveUser(ctx context.Context, sess *latchkey.Session) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, sess.UserID)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errRevoked
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errRevoked
	}
	return u, nil
}

// SignOut revokes the caller's session (local), every other one (others)
// or all of them (global).
func (s *Service) SignOut(ctx context.Context, userID, sid, scope string, c Client) error {
	if userID == "" || sid == "" {
		// A token without a session (a foreign issuer's) has nothing to end;
		// an empty id must never reach the revocation set.
		return latchkey.Errorf(latchkey.EINVALIDTOKEN, "the token names no session")
	}
	now := s.now()
	ev := event(latchkey.AuditSignout, c)
	ev.UserID, ev.SessionID, ev.Reason = userID, sid, "scope="+cmp.Or(scope, ScopeLocal)
	ctx = latchkey.WithAudit(ctx, ev)
	var ids []string
	var err error
	switch scope {
	case "", ScopeLocal:
		err = s.Store.RevokeSession(ctx, userID, sid, latchkey.ReasonSignout, now)
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			err = nil // already gone: signing out again is not an error
		}
		ids = []string{sid}
	case ScopeOthers:
		ids, err = s.Store.RevokeUserSessions(ctx, userID, sid, latchkey.ReasonSignout, now)
	case ScopeGlobal:
		ids, err = s.Store.RevokeUserSessions(ctx, userID, "", latchkey.ReasonSignout, now)
	default:
		return latchkey.ValidationError(latchkey.FieldError{Field: "scope", Message: "must be local, others or global"})
	}
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}

// SignOutRefresh signs out the session holding a refresh token, current or
// already rotated, for a caller whose access token has lapsed.
func (s *Service) SignOutRefresh(ctx context.Context, refresh, scope string, c Client) error {
	if refresh == "" || len(refresh) > 256 {
		return errUnknownRefresh
	}
	h := token.HashRefresh(refresh)
	sess, err := s.Store.FindSessionByRefreshHash(ctx, h)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		sess, err = s.Store.FindSessionBySpentHash(ctx, h)
	}
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return errUnknownRefresh
	} else if err != nil {
		return err
	}
	if sess.Revoked() {
		return errRevoked
	}
	return s.SignOut(ctx, sess.UserID, sess.ID, scope, c)
}

// Sessions lists the user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]*latchkey.Session, error) {
	return s.Store.ListSessions(ctx, userID, s.now())
}

// RevokeSession revokes one of the user's own sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, id string, c Client) error {
	now := s.now()
	ev := event(latchkey.AuditSessionRevoked, c)
	ev.UserID, ev.SessionID = userID, id
	if err := s.Store.RevokeSession(latchkey.WithAudit(ctx, ev), userID, id, latchkey.ReasonSessionRevoked, now); err != nil {
		return err
	}
	s.Revoked.Add(now, id)
	logEvent(s.Logger, ev)
	return nil
}

// ChangePassword checks the current password, stores the new one and
// revokes every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, userID, sid, current, next string, c Client) error {
	var errs []latchkey.FieldError
	if current == "" {
		errs = append(errs, latchkey.FieldError{Field: "current_password", Message: requiredRuleText})
	}
	errs = checkPassword("new_password", next, errs)
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	// Checking the current password is a password guess like a sign-in:
	// it shares the account's throttle, so a stolen session cannot be used
	// to brute-force the password.
	release, err := s.reserveAttempt(ctx, u.Email, c, u.ID)
	if err != nil {
		return err
	}
	wrong := latchkey.ValidationError(latchkey.FieldError{Field: "current_password", Message: "is not correct"})
	if len(current) > maxPasswordBytes {
		return wrong
	}
	ok, err := s.Hasher.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		release()
		return hashFailure("verify password", err)
	}
	if !ok {
		s.Record(latchkey.AuditSigninFailed, c, u.ID, sid, "wrong_current_password")
		return wrong
	}
	if err := s.Store.ClearSignInFailures(ctx, u.Email); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, next)
	if err != nil {
		return hashFailure("hash password", err)
	}
	now := s.now()
	ev := event(latchkey.AuditPasswordChanged, c)
	ev.UserID, ev.SessionID = userID, sid
	ids, err := s.Store.SetPassword(latchkey.WithAudit(ctx, ev), userID, hash, sid, now)
	if err != nil {
		return err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return nil
}

// UpdateUser applies an admin's change to a user: role, disabled. Disabling
// or changing the role revokes every session of the user at once, here and
// (through the store) on every other instance.
func (s *Service) UpdateUser(ctx context.Context, actorID, id string, upd latchkey.UserUpdate, c Client) (*latchkey.User, error) {
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, latchkey.ValidationError(latchkey.FieldError{Field: "role", Message: "must be user or admin"})
	}
	// Only what would really change is a change: no audit event, no
	// revoked sessions, for a PATCH that restates the user.
	cur, err := s.Store.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if upd.Role != nil && *upd.Role == cur.Role {
		upd.Role = nil
	}
	if upd.Disabled != nil && *upd.Disabled == cur.Disabled {
		upd.Disabled = nil
	}
	var reasons []string
	typ := ""
	if upd.Role != nil {
		typ = latchkey.AuditRoleChanged
		reasons = append(reasons, "role="+string(*upd.Role))
	}
	if upd.Disabled != nil {
		if *upd.Disabled {
			typ = latchkey.AuditUserDisabled
		} else if typ == "" {
			typ = latchkey.AuditUserEnabled
		}
		reasons = append(reasons, fmt.Sprintf("disabled=%t", *upd.Disabled))
	}
	if typ == "" {
		return cur, nil
	}
	now := s.now()
	ev := event(typ, c)
	ev.UserID, ev.ActorID, ev.Reason = id, actorID, strings.Join(reasons, " ")
	u, ids, err := s.Store.UpdateUser(latchkey.WithAudit(ctx, ev), id, upd, now)
	if err != nil {
		return nil, err
	}
	s.Revoked.Add(now, ids...)
	logEvent(s.Logger, ev)
	return u, nil
}

// ExternalUser admits the subject of a token from the trusted external
// issuer: on first sight it becomes a user (no password, no stored email or
// name; role from the token's role claim, else user), so its task routes
// work at once. A subject that is already a user of another issuer, or of
// Latchkey itself, is refused: the external issuer may not speak for them.
func (s *Service) ExternalUser(ctx context.Context, issuer, sub, role string) (*latchkey.User, error) {
	if sub == "" || len(sub) > 255 {
		return nil, latchkey.Errorf(latchkey.EINVALIDTOKEN, "unusable subject")
	}
	u, err := s.Store.ProvisionExternalUser(ctx, &latchkey.User{ID: sub, Role: latchkey.Role(role), Issuer: issuer})
	if err != nil {
		return nil, err
	}
	if u.Issuer != issuer {
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "this subject is not the external issuer's to name")
	}
	if u.Disabled {
		return nil, errRevoked
	}
	return u, nil
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
