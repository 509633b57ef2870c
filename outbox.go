package latchkey

import (
	"context"
	"time"
)

// The outbox's timing: a failed attempt is retried after OutboxBackoffMin,
// doubling with each failure up to OutboxBackoffMax, and a mail still
// undelivered OutboxGiveUp after it was made is given up (its body
// deleted, AuditMailFailed recorded).
const (
	OutboxBackoffMin = 5 * time.Second
	OutboxBackoffMax = 5 * time.Minute
	OutboxGiveUp     = 24 * time.Hour
)

// OutboxBackoff is how long after its attempts-th failed attempt (1 for
// the first) a mail is tried again: 5 s, 10 s, 20 s, ... up to 5 min.
func OutboxBackoff(attempts int) time.Duration {
	d := OutboxBackoffMin
	for i := 1; i < attempts && d < OutboxBackoffMax; i++ {
		d *= 2
	}
	return min(d, OutboxBackoffMax)
}

// PendingMail is a mail in the outbox, not yet delivered.
type PendingMail struct {
	Mail
	// Attempts is how many sends failed so far.
	Attempts int
	// NextAt is when it is due: CreatedAt, then the last failure plus its
	// backoff, or the time of a retry.
	NextAt time.Time
	// LastError is why the last attempt failed ("" before any). It is the
	// transport's error, which carries no part of the body.
	LastError string
}

type mailKey struct{}

// WithMail asks the store to write mails to the outbox in the same
// transaction as the change made with the returned context (such as the
// one-time token a mail carries), so that the change and its mail exist
// together or not at all. Mails already attached to ctx are kept. The
// store fills in each mail's ID and CreatedAt once it is committed; when
// nothing is committed they are left as given.
func WithMail(ctx context.Context, m ...*Mail) context.Context {
	all := append(append([]*Mail(nil), MailFrom(ctx)...), m...)
	return context.WithValue(ctx, mailKey{}, all)
}

// MailFrom returns the mails WithMail attached, or nil.
func MailFrom(ctx context.Context) []*Mail {
	ms, _ := ctx.Value(mailKey{}).([]*Mail)
	return ms
}

// OutboxService is the durable outbox: mail waits there from the request
// that made it until it is delivered or given up, so that a crash between
// the request and the send loses none. Each mail is claimed by one sender
// at a time, across processes, so that it is sent once (at least once, if
// a sender dies after the send and before MailDelivered).
type OutboxService interface {
	// EnqueueMail writes m, a mail that goes with no change, and fills in
	// its ID and CreatedAt. Mail that goes with a change is attached to
	// the change's context with WithMail instead.
	EnqueueMail(ctx context.Context, m *Mail) error
	// ClaimMail takes up to limit due mails (NextAt passed, not claimed by
	// another sender whose lease still runs) for lease, oldest first. No
	// other ClaimMail, in any process, returns them until the lease runs
	// out or a failure is recorded.
	ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]*PendingMail, error)
	// MailDelivered removes a delivered mail and its body.
	MailDelivered(ctx context.Context, id string) error
	// MailFailed records a failed attempt: the mail is due again after
	// OutboxBackoff, or, when it was made OutboxGiveUp ago or more, it is
	// given up: removed with its body, AuditMailFailed recorded in the
	// same transaction. It reports whether the mail was given up.
	MailFailed(ctx context.Context, id string, cause string) (gaveUp bool, err error)
	// ExpireMail gives up every mail made OutboxGiveUp ago or more that no
	// sender holds, as MailFailed does, and returns how many. It keeps the
	// outbox from holding bodies for ever where no mail is sent.
	ExpireMail(ctx context.Context) (int, error)
	// ListMail returns every undelivered mail, retrying ones included,
	// oldest first.
	ListMail(ctx context.Context) ([]*PendingMail, error)
	// RetryMail makes every undelivered mail due now and returns how many.
	RetryMail(ctx context.Context) (int, error)
}
