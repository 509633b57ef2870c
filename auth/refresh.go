package auth

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/token"
)

var (
	errUnknownRefresh = latchkey.Errorf(latchkey.EINVALIDTOKEN, "unknown or expired refresh token")
	errRevoked        = latchkey.Errorf(latchkey.ETOKENREVOKED, "session revoked")
	errReuse          = latchkey.Errorf(latchkey.ETOKENREVOKED, "refresh token reused; session revoked")
)

// maxRefreshLen bounds a presented refresh token. Ours are 43 characters;
// a longer one is refused before it is hashed or looked up.
const maxRefreshLen = 256

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
	now := s.now()
	p, err := s.checkRefresh(ctx, toRotate, refresh, nil, now, c)
	if err != nil {
		return nil, err
	}
	if p.state == refreshCurrent {
		ev := event(latchkey.AuditRefresh, c)
		ev.UserID, ev.SessionID = p.sess.UserID, p.sess.ID
		won, err := s.Store.RotateSession(latchkey.WithAudit(ctx, ev), latchkey.Rotation{
			SessionID:      p.sess.ID,
			FromGeneration: p.sess.Generation,
			OldHash:        p.hash,
			NewHash:        token.HashRefresh(p.next),
			Now:            now,
			ExpiresAt:      now.Add(s.RefreshTTL),
		})
		if err != nil {
			return nil, fmt.Errorf("auth: rotate: %w", err)
		}
		if won {
			logEvent(s.Logger, ev)
			p.sess.ExpiresAt = now.Add(s.RefreshTTL)
			return s.grant(p.user, p.sess, p.next, now)
		}
		// Another refresh of this token, or a revocation, got there first:
		// answer as for a spent token, with the session as it is now.
		sess, err := s.Store.FindSession(ctx, p.sess.ID)
		if err != nil {
			return nil, fmt.Errorf("auth: reload session: %w", err)
		}
		if p, err = s.checkRefresh(ctx, toRotate, refresh, sess, now, c); err != nil {
			return nil, err
		}
	}
	// Otherwise checkRefresh accepted the token as refreshGrace: answer
	// again with the token that replaced it.
	s.Record(latchkey.AuditRefresh, c, p.sess.UserID, p.sess.ID, "grace")
	return s.grant(p.user, p.sess, p.next, now)
}

// refreshUse is what a refresh token is presented for.
type refreshUse int

const (
	// toRotate is Refresh's use, checked in full.
	toRotate refreshUse = iota
	// toSignOut is SignOutRefresh's. For now it accepts a token already
	// rotated away, signing its session out rather than calling it reuse,
	// and checks neither the session's expiry nor its user: only an
	// unusable, unknown or revoked token is refused.
	toSignOut
)

// refreshState is where an accepted refresh token stands in its session.
type refreshState int

const (
	refreshCurrent refreshState = iota // the session's current token
	refreshGrace                       // the one it just replaced, again within the grace window
	refreshSpent                       // any token rotated away (accepted only for toSignOut)
)

// presented is a refresh token checkRefresh accepted.
type presented struct {
	sess  *latchkey.Session
	user  *latchkey.User // checked; nil for toSignOut, which does not read it
	hash  []byte
	state refreshState
	// next is what Refresh hands back: the current token's successor,
	// which for refreshGrace the session already holds.
	next string
}

// checkRefresh is every reason a presented refresh token is refused: empty
// or longer than maxRefreshLen, unknown, its session revoked or expired, its
// user disabled or gone, or reused; use says which apply (see toSignOut).
// Reuse revokes the session before the refusal. reloaded, when not nil, is
// the token's session read again after Refresh lost the race to rotate it:
// it is judged as holding a spent token, with no second lookup.
func (s *Service) checkRefresh(ctx context.Context, use refreshUse, refresh string, reloaded *latchkey.Session, now time.Time, c Client) (*presented, error) {
	if refresh == "" || len(refresh) > maxRefreshLen {
		return nil, errUnknownRefresh
	}
	p := &presented{sess: reloaded, hash: token.HashRefresh(refresh), state: refreshSpent}
	if reloaded == nil {
		var err error
		if p.sess, p.user, p.state, err = s.findRefresh(ctx, use, p.hash); err != nil {
			return nil, err
		}
	}
	if p.sess == nil {
		return nil, errUnknownRefresh
	}
	if p.sess.Revoked() {
		return nil, errRevoked
	}
	if use == toSignOut {
		// Signing out stops here, for now: an expired session, a disabled
		// or gone user and a spent token are all accepted (see toSignOut).
		return p, nil
	}
	if !now.Before(p.sess.ExpiresAt) {
		return nil, errUnknownRefresh // an ended session has nothing left to protect
	}
	p.next = token.NextRefresh(p.sess.RefreshKey, refresh)
	if p.state == refreshCurrent {
		if p.user.Disabled {
			return nil, errRevoked
		}
		return p, nil
	}
	if s.RefreshGrace > 0 && bytes.Equal(p.sess.PrevHash, p.hash) && now.Sub(p.sess.RotatedAt) <= s.RefreshGrace &&
		bytes.Equal(token.HashRefresh(p.next), p.sess.RefreshHash) {
		u, err := s.Store.FindUserByID(ctx, p.sess.UserID)
		if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
			return nil, errRevoked
		} else if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errRevoked
		}
		p.user, p.state = u, refreshGrace
		return p, nil
	}
	return nil, s.revokeReused(ctx, p.sess, now, c)
}

// findRefresh finds the session whose current token, or a spent one, hashes
// to h; a nil session when none does. toRotate reads the user with the
// current session, in one query: the rotation needs both.
func (s *Service) findRefresh(ctx context.Context, use refreshUse, h []byte) (*latchkey.Session, *latchkey.User, refreshState, error) {
	var sess *latchkey.Session
	var u *latchkey.User
	var err error
	if use == toRotate {
		sess, u, err = s.Store.FindRefreshSession(ctx, h)
	} else {
		sess, err = s.Store.FindSessionByRefreshHash(ctx, h)
	}
	if err == nil {
		return sess, u, refreshCurrent, nil
	} else if latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		return nil, nil, 0, err
	}
	sess, err = s.Store.FindSessionBySpentHash(ctx, h)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, nil, 0, nil
	} else if err != nil {
		return nil, nil, 0, err
	}
	return sess, nil, refreshSpent, nil
}

// revokeReused revokes the session a spent refresh token came back to and
// returns errReuse.
func (s *Service) revokeReused(ctx context.Context, sess *latchkey.Session, now time.Time, c Client) error {
	ev := event(latchkey.AuditRefreshReuse, c)
	ev.UserID, ev.SessionID = sess.UserID, sess.ID
	if err := s.Store.RevokeSessionByID(latchkey.WithAudit(ctx, ev), sess.ID, latchkey.ReasonRefreshReuse, now); err != nil {
		return fmt.Errorf("auth: revoke on reuse: %w", err)
	}
	s.Revoked.Add(now, sess.ID)
	logEvent(s.Logger, ev)
	return errReuse
}
