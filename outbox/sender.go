// Package outbox sends the mail waiting in the store's outbox: a
// background job that claims due mail (one sender per mail, across every
// process sharing the store), hands it to a latchkey.Mailer, and records
// the delivery or the failure. It imports only the root package: the
// store behind latchkey.OutboxService and the transport behind
// latchkey.Mailer (SMTP in package mail, a fake in tests) are the
// caller's.
//
// It never logs a mail's subject or body: they carry one-time links and
// codes.
package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
)

// Defaults of a Sender's tuning.
const (
	// DefaultInterval is how often a sender looks for due mail when
	// nothing wakes it.
	DefaultInterval = time.Second
	// DefaultSendTimeout bounds one send.
	DefaultSendTimeout = time.Minute
	// DefaultLease is how long a claimed mail is kept from other senders:
	// longer than a send may take, so that a mail is sent again only when
	// its sender died.
	DefaultLease = 2 * DefaultSendTimeout
	// expireEvery is how often the mail past latchkey.OutboxGiveUp that
	// no sender holds is given up.
	expireEvery = time.Minute
)

// Sender delivers the outbox's mail. The zero value is not usable: make
// one with New.
type Sender struct {
	store  latchkey.OutboxService
	mailer latchkey.Mailer // nil: only gives up old mail
	log    *slog.Logger
	wake   chan struct{}

	// Interval, SendTimeout and Lease default to DefaultInterval,
	// DefaultSendTimeout and DefaultLease. Set them before Run.
	Interval    time.Duration
	SendTimeout time.Duration
	Lease       time.Duration
}

// New returns a sender of store's mail through mailer. With a nil mailer
// it sends nothing and only gives up, body and all, the mail nobody sent
// within latchkey.OutboxGiveUp.
func New(store latchkey.OutboxService, mailer latchkey.Mailer, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		store: store, mailer: mailer, log: log, wake: make(chan struct{}, 1),
		Interval: DefaultInterval, SendTimeout: DefaultSendTimeout, Lease: DefaultLease,
	}
}

// Wake makes Run look for due mail now rather than at its next tick. It
// never blocks; it is what the store's MailQueued hook calls.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends: at once, then every Interval and on
// every Wake. A send under way when ctx ends is finished (within
// SendTimeout) and recorded, so that a clean shutdown leaves no mail
// claimed.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	var lastExpire time.Time
	for {
		if time.Since(lastExpire) >= expireEvery {
			lastExpire = time.Now()
			s.expire(ctx)
		}
		if s.mailer != nil {
			s.SendDue(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Sender) expire(ctx context.Context) {
	n, err := s.store.ExpireMail(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("outbox: give up old mail", "err", err)
	case n > 0:
		s.log.Warn("outbox: gave up mail undelivered for a day", "count", n, "after", latchkey.OutboxGiveUp.String())
	}
}

// SendDue sends the mail due now, one claim at a time, until none is due
// or ctx ends, and returns how many were delivered.
func (s *Sender) SendDue(ctx context.Context) int {
	sent := 0
	for ctx.Err() == nil {
		ms, err := s.store.ClaimMail(ctx, 1, s.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("outbox: claim mail", "err", err)
			}
			return sent
		}
		if len(ms) == 0 {
			return sent
		}
		if s.send(ctx, ms[0]) {
			sent++
		}
	}
	return sent
}

// send sends one claimed mail and records the outcome. The records are
// written even when ctx has ended, so that a shutdown leaves no lease.
func (s *Sender) send(ctx context.Context, m *latchkey.PendingMail) bool {
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.SendTimeout)
	defer cancel()
	err := s.mailer.Send(rec, &m.Mail)
	if err == nil {
		if err := s.store.MailDelivered(rec, m.ID); err != nil {
			// Sent but still claimed: after the lease it may be sent
			// again, which is better than never.
			s.log.Warn("outbox: record delivery", "mail", m.ID, "err", err)
		}
		return true
	}
	attempt := m.Attempts + 1
	gaveUp, ferr := s.store.MailFailed(rec, m.ID, err.Error())
	switch {
	case ferr != nil:
		s.log.Warn("outbox: record failed send", "mail", m.ID, "err", ferr)
	case gaveUp:
		s.log.Warn("outbox: mail given up after a day of failures", "mail", m.ID, "attempt", attempt, "err", err)
	default:
		s.log.Warn("outbox: send failed, will retry", "mail", m.ID, "attempt", attempt,
			"retry_in", latchkey.OutboxBackoff(attempt).String(), "err", err)
	}
	return false
}
