package auth

// The receivers of the revocation feed (issue 15): the services allowed to
// subscribe to it, added and removed by an admin (the admin API) or on the
// host (`latchkey receiver`), each change audited with it.

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey"
)

// AddReceiver registers a receiver named name whose SETs carry audience,
// recording receiver_added (with actorID, "" on the command line) in the
// transaction that stores it. It returns the receiver and its secret,
// which exists nowhere else: the store keeps its hash. EVALIDATION for a
// bad name or audience, ECONFLICT for a name taken.
func (s *Service) AddReceiver(ctx context.Context, actorID, name, audience string, c Client) (*latchkey.Receiver, string, error) {
	if err := latchkey.ValidateReceiver(name, audience); err != nil {
		return nil, "", err
	}
	secret, hash, err := latchkey.NewReceiverSecret()
	if err != nil {
		return nil, "", fmt.Errorf("auth: receiver secret: %w", err)
	}
	r := &latchkey.Receiver{Name: name, Audience: audience, SecretHash: hash, CreatedAt: s.now()}
	ev := receiverEvent(latchkey.AuditReceiverAdded, actorID, name, c)
	if err := s.Store.CreateReceiver(latchkey.WithAudit(ctx, ev), r); err != nil {
		return nil, "", err
	}
	logEvent(s.Logger, ev)
	return r, secret, nil
}

// RemoveReceiver deletes the receiver named name with its streams,
// recording receiver_removed; ENOTFOUND when there is none. Its secret
// is refused from then on.
func (s *Service) RemoveReceiver(ctx context.Context, actorID, name string, c Client) error {
	ev := receiverEvent(latchkey.AuditReceiverRemoved, actorID, name, c)
	if err := s.Store.DeleteReceiver(latchkey.WithAudit(ctx, ev), name); err != nil {
		return err
	}
	logEvent(s.Logger, ev)
	return nil
}

// Receivers lists every receiver by name, without secrets.
func (s *Service) Receivers(ctx context.Context) ([]*latchkey.Receiver, error) {
	return s.Store.ListReceivers(ctx)
}

func receiverEvent(typ, actorID, name string, c Client) *latchkey.AuditEvent {
	ev := event(typ, c)
	ev.ActorID, ev.Reason = actorID, "receiver="+name
	return ev
}
