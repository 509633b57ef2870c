package ssf

// Streams (SSF 1.0 §8.1.1): one per verifier process, poll delivery only,
// each a receiver's own; another receiver's stream is not found.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// EventsSupported are the event types a stream can deliver. Verification
// events are delivered whatever a stream asks for (SSF 1.0 §8.1.4).
var EventsSupported = []string{verify.EventSessionRevoked}

// Limits of what a receiver may set on a stream.
const (
	maxEventsRequested = 16
	maxEventURI        = 256
	maxDescription     = 256
)

// Delivery is a stream's delivery method; for poll delivery the endpoint
// is the transmitter's.
type Delivery struct {
	Method      string `json:"method"`
	EndpointURL string `json:"endpoint_url,omitempty"`
}

// StreamConfig is a stream as the management API answers it.
type StreamConfig struct {
	StreamID                string   `json:"stream_id"`
	Iss                     string   `json:"iss"`
	Aud                     string   `json:"aud"`
	EventsSupported         []string `json:"events_supported"`
	EventsRequested         []string `json:"events_requested,omitempty"`
	EventsDelivered         []string `json:"events_delivered"`
	Delivery                Delivery `json:"delivery"`
	MinVerificationInterval int64    `json:"min_verification_interval"`
	InactivityTimeout       int64    `json:"inactivity_timeout"`
	Description             string   `json:"description,omitempty"`
}

// StreamRequest is what a receiver sets when it creates a stream: no
// delivery, or poll delivery without an endpoint (it is the
// transmitter's); the events it wants (none: every supported one); a
// description. Unknown event types are kept as asked and never delivered.
type StreamRequest struct {
	Delivery        *Delivery `json:"delivery"`
	EventsRequested []string  `json:"events_requested"`
	Description     string    `json:"description"`
}

func (req StreamRequest) check() error {
	var errs []latchkey.FieldError
	if d := req.Delivery; d != nil {
		switch {
		case d.Method != DeliveryPoll:
			errs = append(errs, latchkey.FieldError{Field: "delivery.method", Message: "must be " + DeliveryPoll + " (poll): the only method offered"})
		case d.EndpointURL != "":
			errs = append(errs, latchkey.FieldError{Field: "delivery.endpoint_url", Message: "is the transmitter's for poll delivery: leave it out"})
		}
	}
	if len(req.EventsRequested) > maxEventsRequested {
		errs = append(errs, latchkey.FieldError{Field: "events_requested", Message: fmt.Sprintf("must have at most %d types", maxEventsRequested)})
	}
	for _, e := range req.EventsRequested {
		if e == "" || len(e) > maxEventURI || strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			errs = append(errs, latchkey.FieldError{Field: "events_requested", Message: "holds a value that is not an event type URI"})
			break
		}
	}
	if len(req.Description) > maxDescription || !latchkey.PlainLine(req.Description) {
		errs = append(errs, latchkey.FieldError{Field: "description", Message: fmt.Sprintf("must be one line of plain text of at most %d bytes", maxDescription)})
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	return nil
}

// delivered are the event types a stream delivers: the supported ones it
// asked for, or all of them when it asked for none in particular.
func delivered(requested []string) []string {
	if len(requested) == 0 {
		return slices.Clone(EventsSupported)
	}
	out := []string{}
	for _, e := range EventsSupported {
		if slices.Contains(requested, e) {
			out = append(out, e)
		}
	}
	return out
}

func (s *Service) config(r *latchkey.Receiver, st *latchkey.Stream) *StreamConfig {
	return &StreamConfig{
		StreamID:                st.ID,
		Iss:                     s.Issuer,
		Aud:                     r.Audience,
		EventsSupported:         slices.Clone(EventsSupported),
		EventsRequested:         st.EventsRequested,
		EventsDelivered:         delivered(st.EventsRequested),
		Delivery:                Delivery{Method: DeliveryPoll, EndpointURL: s.Issuer + "/ssf/poll/" + st.ID},
		MinVerificationInterval: int64(latchkey.MinVerificationInterval / time.Second),
		InactivityTimeout:       int64(latchkey.StreamInactivity / time.Second),
		Description:             st.Description,
	}
}

// CreateStream makes a stream for the receiver: ECONFLICT at its 65th.
// A new stream has acknowledged nothing, so its first poll brings every
// revocation still in the feed.
func (s *Service) CreateStream(ctx context.Context, r *latchkey.Receiver, req StreamRequest) (*StreamConfig, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	st := &latchkey.Stream{ReceiverID: r.ID, Description: req.Description, EventsRequested: req.EventsRequested,
		Status: latchkey.StreamEnabled, CreatedAt: s.now()}
	if err := s.Store.CreateStream(ctx, st); err != nil {
		return nil, err
	}
	return s.config(r, st), nil
}

var errNoStream = latchkey.Errorf(latchkey.ENOTFOUND, "no such stream")

// Stream returns the receiver's stream id, and counts the call as
// activity (SSF 1.0 §8.1.1: any management call naming a poll stream
// restarts its inactivity timer). ENOTFOUND for another receiver's stream
// and for one that went StreamInactivity without activity.
func (s *Service) Stream(ctx context.Context, r *latchkey.Receiver, id string) (*StreamConfig, error) {
	st, err := s.liveStream(ctx, r, id)
	if err != nil {
		return nil, err
	}
	return s.config(r, st), nil
}

// liveStream finds the receiver's stream id and touches it.
func (s *Service) liveStream(ctx context.Context, r *latchkey.Receiver, id string) (*latchkey.Stream, error) {
	if id == "" {
		return nil, latchkey.ValidationError(latchkey.FieldError{Field: "stream_id", Message: "is required"})
	}
	st, err := s.Store.FindStream(ctx, r.ID, id)
	if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errNoStream
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.Store.TouchStream(ctx, id, now); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errNoStream
	} else if err != nil {
		return nil, err
	}
	st.LastPollAt = now
	return st, nil
}

// Streams lists the receiver's live streams, oldest first.
func (s *Service) Streams(ctx context.Context, r *latchkey.Receiver) ([]*StreamConfig, error) {
	all, err := s.Store.ListStreams(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []*StreamConfig{}
	for _, st := range all {
		if !st.Inactive(now) {
			out = append(out, s.config(r, st))
		}
	}
	return out, nil
}

// DeleteStream deletes the receiver's stream id and its acknowledgements,
// and answers its held poll at once.
func (s *Service) DeleteStream(ctx context.Context, r *latchkey.Receiver, id string) error {
	if id == "" {
		return latchkey.ValidationError(latchkey.FieldError{Field: "stream_id", Message: "is required"})
	}
	if err := s.Store.DeleteStream(ctx, r.ID, id); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return errNoStream
	} else if err != nil {
		return err
	}
	s.release(id)
	return nil
}
