package auth

// Mail that carries a one-time token (issue 13): the token and its mail
// are written in one transaction, at most once a minute per user and
// purpose, and the caller's answer does not depend on whether they were.

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/mail"
)

// MailCooldown is how long after a mail with a token of one purpose the
// same user gets no other of that purpose: a repeat is answered as the
// first was, and sends nothing.
const MailCooldown = time.Minute

// composeFunc makes a mail with a token: mail.Verify, mail.Reset,
// mail.EmailChange.
type composeFunc func(to, issuer string, t mail.Token) (*latchkey.Mail, error)

// tokenMail is one token to issue and the mails that go with it.
type tokenMail struct {
	user    *latchkey.User
	purpose latchkey.TokenPurpose
	to      string      // the address the token goes to; the user's when empty
	compose composeFunc // nil: the token is issued but mailed to nobody
	also    []*latchkey.Mail
	ev      *latchkey.AuditEvent
}

// sendTokenMail issues a token and writes its mails to the outbox, with
// the audit event, in one transaction, unless the purpose's cooldown runs
// for the user; it reports whether it did. A token issued with no mail
// (compose nil) still starts the cooldown and kills the older token, so
// that such a request costs and answers as one that mails.
func (s *Service) sendTokenMail(ctx context.Context, tm tokenMail) (bool, error) {
	ch, mails, err := s.tokenMailChange(tm)
	if err != nil {
		return false, err
	}
	ctx = latchkey.WithTokenChange(latchkey.WithMail(latchkey.WithAudit(ctx, tm.ev), mails...), ch)
	if err := s.Store.ApplyTokenChange(ctx, ch); err != nil {
		return false, fmt.Errorf("auth: issue %s token: %w", tm.purpose, err)
	}
	if ch.Applied {
		logEvent(s.Logger, tm.ev)
	}
	return ch.Applied, nil
}

// tokenMailChange makes tm's token and mails: the change that issues the
// token under the cooldown, and the mails to write with it.
func (s *Service) tokenMailChange(tm tokenMail) (*latchkey.TokenChange, []*latchkey.Mail, error) {
	it, err := s.NewToken(tm.user, tm.purpose, tm.to)
	if err != nil {
		return nil, nil, err
	}
	mails := tm.also
	if tm.compose != nil {
		m, err := tm.compose(it.Token.Email, s.Tokens.Issuer, mail.Token{
			Secret: it.Link, Code: it.Code, TTL: it.Token.ExpiresAt.Sub(it.Token.CreatedAt),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("auth: compose %s mail: %w", tm.purpose, err)
		}
		mails = append([]*latchkey.Mail{m}, mails...)
	}
	for _, m := range mails {
		m.UserID = tm.user.ID
	}
	return &latchkey.TokenChange{Now: it.Token.CreatedAt, Issue: it.Token, Cooldown: MailCooldown, IfEmail: tm.user.Email}, mails, nil
}

// notice is a mail with no token to the user's address: "Your password
// was changed", "Your email address is being changed".
func (s *Service) notice(u *latchkey.User, compose func(to, issuer string) (*latchkey.Mail, error)) (*latchkey.Mail, error) {
	m, err := compose(u.Email, s.Tokens.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: compose notice: %w", err)
	}
	m.UserID = u.ID
	return m, nil
}
