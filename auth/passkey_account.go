package auth

// A signed-in user's passkeys (issue 14): add one (after the password or a
// recent second factor), list, rename and remove them. Adding and removing
// mail the user and are audited in the store transaction that makes them.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// RecentMFA is how long after a sign-in with a second factor its session
// may add or remove a passkey without giving the password again.
const RecentMFA = 5 * time.Minute

// StartPasskeyRegistration begins adding a passkey to the user, once the
// caller has shown it is the user: the current password (wrong: 400
// validation_failed on current_password, sharing the password throttle),
// or none when the calling session sid signed in with a second factor
// less than RecentMFA ago.
func (s *Service) StartPasskeyRegistration(ctx context.Context, userID, sid, current string, c Client) (*PasskeyRegistration, error) {
	u, err := s.passwordOrRecentMFA(ctx, userID, sid, current, c)
	if err != nil {
		return nil, err
	}
	return s.BeginPasskeyRegistration(ctx, u)
}

// AddPasskey finishes the registration challengeID of the user with the
// browser's credential, stores the passkey as name, and mails "a passkey
// was added", with passkey_added, in the transaction that stores it.
func (s *Service) AddPasskey(ctx context.Context, c Client, userID, challengeID string, credential []byte, name string) (*latchkey.Passkey, error) {
	if err := ceremonyFields(challengeID, credential); err != nil {
		return nil, err
	}
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	notice, err := s.notice(u, mail.PasskeyAdded)
	if err != nil {
		return nil, err
	}
	return s.FinishPasskeyRegistration(latchkey.WithMail(ctx, notice), c, u, challengeID, credential, name)
}

// Passkeys returns the user's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID string) ([]*latchkey.Passkey, error) {
	return s.Store.ListPasskeys(ctx, userID)
}

// RenamePasskey names the user's passkey id (checked as at registration)
// and returns it; ENOTFOUND when the user has no such passkey.
func (s *Service) RenamePasskey(ctx context.Context, userID, id, name string) (*latchkey.Passkey, error) {
	name, err := checkPasskeyName(name)
	if err != nil {
		return nil, err
	}
	if err := s.Store.RenamePasskey(ctx, userID, id, name); err != nil {
		return nil, err
	}
	keys, err := s.Store.ListPasskeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(p *latchkey.Passkey) bool { return p.ID == id })
	if i < 0 { // removed meanwhile
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "no such passkey")
	}
	return keys[i], nil
}

// RemovePasskey removes the user's passkey id, given the current password
// or a recent second factor as StartPasskeyRegistration takes them, and
// mails "a passkey was removed", with passkey_removed, in the transaction
// that removes it. ENOTFOUND when the user has no such passkey; the
// password is checked first, so that the answer tells a guesser nothing.
func (s *Service) RemovePasskey(ctx context.Context, userID, sid, id, current string, c Client) error {
	u, err := s.passwordOrRecentMFA(ctx, userID, sid, current, c)
	if err != nil {
		return err
	}
	notice, err := s.notice(u, mail.PasskeyRemoved)
	if err != nil {
		return err
	}
	ev := event(latchkey.AuditPasskeyRemoved, c)
	ev.UserID, ev.SessionID = userID, sid
	if err := s.Store.DeletePasskey(latchkey.WithMail(latchkey.WithAudit(ctx, ev), notice), userID, id); err != nil {
		return err
	}
	logEvent(s.Logger, ev)
	return nil
}

// passwordOrRecentMFA returns the user once the caller has shown it is
// them: current, checked as the password change checks it, or, when
// current is empty, the calling session sid having signed in with a
// second factor (mfa in its amr) less than RecentMFA ago. A session keeps
// its sign-in's time and amr through refreshes, so the clock runs from
// the sign-in itself.
func (s *Service) passwordOrRecentMFA(ctx context.Context, userID, sid, current string, c Client) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if current != "" {
		return u, s.checkCurrentPassword(ctx, u, sid, current, c)
	}
	sess, err := s.Store.FindSession(ctx, sid)
	if err != nil && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		return nil, fmt.Errorf("auth: find the calling session: %w", err)
	}
	if err == nil && sess.UserID == userID && !sess.Revoked() &&
		slices.Contains(sess.AMR, latchkey.AMRMFA) && s.now().Sub(sess.CreatedAt) < RecentMFA {
		return u, nil
	}
	return nil, latchkey.ValidationError(latchkey.FieldError{Field: "current_password",
		Message: "is required, unless this session signed in with a second factor in the last 5 minutes"})
}
