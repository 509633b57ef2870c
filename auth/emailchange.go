package auth

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/emailkey"
	"github.com/latchkey/latchkey/mail"
)

// ChangeEmail starts an email change for the signed-in user: after the
// current password checks out, it mails the new address a link and code
// and the old address a notice, at most once a minute. An address that
// another account has gets the same answer: its token is issued but
// mailed to nobody, and only the old address hears of it.
func (s *Service) ChangeEmail(ctx context.Context, b Bearer, newEmail, current string, c Client) error {
	var errs []latchkey.FieldError
	if newEmail == "" {
		errs = append(errs, latchkey.FieldError{Field: "new_email", Message: requiredRuleText})
	} else if err := emailkey.Check(newEmail); err != nil {
		errs = append(errs, latchkey.FieldError{Field: "new_email", Message: err.Error()})
	}
	if current == "" {
		errs = append(errs, latchkey.FieldError{Field: "current_password", Message: requiredRuleText})
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	u, err := s.Store.FindUserByID(ctx, b.UserID)
	if err != nil {
		return err
	}
	if emailkey.Of(newEmail) == emailkey.Of(u.Email) {
		return latchkey.ValidationError(latchkey.FieldError{Field: "new_email", Message: "is your current address"})
	}
	if err := s.checkCurrentPassword(ctx, u, b.SessionID, current, c); err != nil {
		return err
	}
	tm := tokenMail{user: u, purpose: latchkey.PurposeEmailChange, to: newEmail, compose: mail.EmailChange}
	switch _, err := s.Store.FindUserByEmail(ctx, newEmail); latchkey.ErrorCode(err) {
	case "":
		tm.compose = nil // taken: its owner gets nothing
	case latchkey.ENOTFOUND:
	default:
		return err
	}
	notice, err := s.notice(u, mail.EmailChanging)
	if err != nil {
		return err
	}
	tm.also = []*latchkey.Mail{notice}
	tm.ev = event(latchkey.AuditEmailChangeRequested, c)
	tm.ev.UserID, tm.ev.SessionID = u.ID, b.SessionID
	_, err = s.sendTokenMail(ctx, tm)
	return err
}

// ConfirmEmailChange uses the signed-in user's email-change token, by link
// or code, and sets the address it was mailed to, verified, if no other
// account has taken it meanwhile (email_taken, and the token stays live).
// It revokes every other session of the user and kills the tokens mailed
// to the old address, in one transaction with the token's use.
func (s *Service) ConfirmEmailChange(ctx context.Context, b Bearer, p Proof, c Client) (*latchkey.User, error) {
	if errs := p.check(false, nil); len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	var ut *UsedToken
	var err error
	if p.Token != "" {
		ut, err = s.CheckLink(ctx, latchkey.PurposeEmailChange, p.Token)
		if err == nil && ut.User.ID != b.UserID {
			return nil, errBadToken // another user's link
		}
	} else {
		ut, err = s.CheckCode(ctx, b.UserID, latchkey.PurposeEmailChange, p.Code)
	}
	if err != nil {
		return nil, err
	}
	old := ut.User.Email
	ch := s.UseToken(ut)
	ch.KillEmailUser, ch.KillEmail = ut.User.ID, old
	ev := event(latchkey.AuditEmailChanged, c)
	ev.UserID, ev.SessionID = ut.User.ID, b.SessionID
	ctx = latchkey.WithTokenChange(latchkey.WithAudit(ctx, ev), ch)
	u, ids, err := s.Store.ChangeEmail(ctx, ut.User.ID, old, ut.Token.Email, b.SessionID, ch.Now)
	if err != nil {
		return nil, tokenErr(err)
	}
	s.Revoked.Add(ch.Now, ids...)
	logEvent(s.Logger, ev)
	return u, nil
}
