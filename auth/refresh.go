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
	s.recordRefusal(c, "refresh", err)
	return g, err
}

// recordRefusal audits a refresh token refused for what (refresh or
// sign-out) as token_rejected; reuse has its own event, written with the
// revocation.
func (s *Service) recordRefusal(c Client, what string, err error) {
	if code := latchkey.ErrorCode(err); err != errReuse && (code == latchkey.EINVALIDTOKEN || code == latchkey.ETOKENREVOKED) {
		s.Record(latchkey.AuditTokenRejected, c, "", "", what+": "+latchkey.ErrorMessage(err))
	}
}

func (s *Service) refresh(ctx context.Context, refresh string, c Client) (*Grant, error) {
	now := s.now()
	p, err := s.checkRefresh(ctx, refresh, nil, now, c)
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
		if p, err = s.checkRefresh(ctx, refresh, sess, now, c); err != nil {
			return nil, err
		}
	}
	// Otherwise checkRefresh accepted the token as refreshGrace: answer
	// again with the token that replaced it.
	s.Record(latchkey.AuditRefresh, c, p.sess.UserID, p.sess.ID, "grace")
	return s.grant(p.user, p.sess, p.next, now)
}

// refreshState is where an accepted refresh token stands in its session.
type refreshState int

const (
	refreshCurrent refreshState = iota // the session's current token
	refreshGrace                       // the one it just replaced, again within the grace window
	refreshSpent                       // any other token rotated away: reuse, never accepted
)

// presented is a refresh token checkRefresh accepted.
type presented struct {
	sess  *latchkey.Session
	user  *latchkey.User
	hash  []byte
	state refreshState
	// next is what Refresh hands back: the current token's successor,
	// which for refreshGrace the session already holds.
	next string
}

// checkRefresh is every reason a presented refresh token is refused, for a
// refresh and a sign-out alike: empty or longer than maxRefreshLen, unknown,
// its session revoked or expired, its user disabled or gone, or reused.
// Reuse revokes the session before the refusal. reloaded, when not nil, is
// the token's session read again after Refresh lost the race to rotate it:
// it is judged as holding a spent token, with no second lookup.
func (s *Service) checkRefresh(ctx context.Context, refresh string, reloaded *latchkey.Session, now time.Time, c Client) (*presented, error) {
	if refresh == "" || len(refresh) > maxRefreshLen {
		return nil, errUnknownRefresh
	}
	p := &presented{sess: reloaded, hash: token.HashRefresh(refresh), state: refreshSpent}
	if reloaded == nil {
		var err error
		if p.sess, p.user, p.state, err = s.findRefresh(ctx, p.hash); err != nil {
			return nil, err
		}
	}
	if p.sess == nil {
		return nil, errUnknownRefresh
	}
	if p.sess.Revoked() {
		return nil, errRevoked
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
// to h; a nil session when none does. The current session comes with its
// user, read in one query: the rotation needs both.
func (s *Service) findRefresh(ctx context.Context, h []byte) (*latchkey.Session, *latchkey.User, refreshState, error) {
	sess, u, err := s.Store.FindRefreshSession(ctx, h)
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
