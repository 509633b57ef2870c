package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
	"github.com/latchkey/latchkey/mail"
)

// Bearer is the signed-in caller of a route where signing in is optional
// or required: the access token's subject and session. The zero Bearer is
// nobody.
type Bearer struct {
	UserID    string
	SessionID string
}

// sendVerification mails u a verification link and code, unless the
// address is verified, u has none (a trusted issuer's user), or the
// cooldown runs. It reports whether it did.
func (s *Service) sendVerification(ctx context.Context, u *latchkey.User, c Client) (bool, error) {
	if u.EmailVerified || u.Email == "" || u.Issuer != "" {
		return false, nil
	}
	ev := event(latchkey.AuditVerificationSent, c)
	ev.UserID = u.ID
	return s.sendTokenMail(ctx, tokenMail{user: u, purpose: latchkey.PurposeVerifyEmail, compose: mail.Verify, ev: ev})
}

// ResendVerification mails the signed-in user a new verification link and
// code; an answer that sends nothing (verified, cooldown) is no error.
func (s *Service) ResendVerification(ctx context.Context, userID string, c Client) error {
	u, err := s.Store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	_, err = s.sendVerification(ctx, u, c)
	return err
}

// VerifyEmail uses a verification token and marks the address it was
// mailed to verified. The first verification of the address revokes every
// older session of the user but the Bearer's (when it is the same user's):
// whoever registered another person's address keeps no session once its
// owner proves it. It is idempotent: a token no longer live answers the
// user all the same when the address is verified and the request shows
// whose it is (alreadyVerified).
func (s *Service) VerifyEmail(ctx context.Context, p Proof, b Bearer, c Client) (*latchkey.User, error) {
	if errs := p.check(true, nil); len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	ut, err := s.checkProof(ctx, latchkey.PurposeVerifyEmail, p)
	if err != nil {
		if latchkey.ErrorCode(err) != latchkey.EINVALIDONETIME {
			return nil, err
		}
		return s.alreadyVerified(ctx, p, b)
	}
	keep := ""
	if b.UserID == ut.User.ID {
		keep = b.SessionID
	}
	ch := s.UseToken(ut)
	ev := event(latchkey.AuditEmailVerified, c)
	ev.UserID, ev.SessionID = ut.User.ID, keep
	vctx := latchkey.WithTokenChange(latchkey.WithAudit(ctx, ev), ch)
	u, first, ids, err := s.Store.VerifyEmail(vctx, ut.User.ID, ut.Token.Email, keep, ch.Now)
	if err != nil {
		if latchkey.ErrorCode(err) == latchkey.EINVALIDONETIME {
			return s.alreadyVerified(ctx, p, b)
		}
		return nil, tokenErr(err)
	}
	s.Revoked.Add(ch.Now, ids...)
	if first {
		logEvent(s.Logger, ev)
	}
	return u, nil
}

// alreadyVerified is the idempotent answer to a token that is no longer
// live: the user, when the address is verified and the request shows whose
// it is: the link names a token (spent) the user was mailed at the
// current address, or the code comes with the address and a Bearer of
// that address's user. A code alone shows nothing (six digits can be
// guessed), nor does an address.
func (s *Service) alreadyVerified(ctx context.Context, p Proof, b Bearer) (*latchkey.User, error) {
	var u *latchkey.User
	if h, ok := linkHash(p.Token); ok && p.Token != "" {
		t, err := s.Store.FindSpentOneTimeToken(ctx, latchkey.PurposeVerifyEmail, h)
		if err == nil {
			if u, err = s.Store.FindUserByID(ctx, t.UserID); err == nil && u.Email != t.Email {
				u = nil
			}
		}
		if err != nil && latchkey.ErrorCode(err) != latchkey.EINVALIDONETIME && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			return nil, tokenErr(err)
		}
	}
	if u == nil && b.UserID != "" && p.Token == "" {
		// A code with the Bearer's own address.
		var err error
		if u, err = s.Store.FindUserByID(ctx, b.UserID); err != nil && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			return nil, err
		}
		if u != nil && emailkey.Of(u.Email) != emailkey.Of(p.Email) {
			u = nil
		}
	}
	if u != nil && u.EmailVerified {
		return u, nil
	}
	return nil, errBadToken
}
