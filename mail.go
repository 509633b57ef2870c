package latchkey

import (
	"context"
	"time"
)

// Mail is one message to one address: a plain-text part and an HTML part,
// kept in the outbox from the request that made it until it is delivered
// or given up. Its body may carry a one-time link or code, so it is never
// logged.
type Mail struct {
	ID string
	// UserID is the user the mail is for, where there is one: the
	// mail_failed audit event names it.
	UserID    string
	To        string
	Subject   string
	Text      string
	HTML      string
	CreatedAt time.Time
}

// Mailer delivers mail: an SMTP transport in production, a test server's
// client in tests. Send returns only when the server has accepted the mail
// or refused it.
type Mailer interface {
	Send(ctx context.Context, m *Mail) error
}
