package ssf

// Updating and replacing a stream's configuration (SSF 1.0 §8.1.1.3-4).

import (
	"context"
	"slices"

	"github.com/latchkey/latchkey"
)

// StreamUpdate is a PATCH or PUT of a stream: stream_id, the members the
// receiver sets, and any transmitter-supplied member it sends back, which
// must match the stream as it is (else 400). Absent members are nil.
type StreamUpdate struct {
	StreamID        string    `json:"stream_id"`
	EventsRequested *[]string `json:"events_requested"`
	Description     *string   `json:"description"`
	Delivery        *Delivery `json:"delivery"`

	Iss                     *string   `json:"iss"`
	Aud                     *string   `json:"aud"`
	EventsSupported         *[]string `json:"events_supported"`
	EventsDelivered         *[]string `json:"events_delivered"`
	MinVerificationInterval *int64    `json:"min_verification_interval"`
	InactivityTimeout       *int64    `json:"inactivity_timeout"`
}

// UpdateStream changes the receiver's stream u.StreamID: with replace
// (PUT) a receiver-supplied member left out is reset (no description,
// every supported event), without it (PATCH) it is kept.
func (s *Service) UpdateStream(ctx context.Context, r *latchkey.Receiver, u StreamUpdate, replace bool) (*StreamConfig, error) {
	st, err := s.liveStream(ctx, r, u.StreamID)
	if err != nil {
		return nil, err
	}
	if err := u.matches(s.config(r, st)); err != nil {
		return nil, err
	}
	events, desc := st.EventsRequested, st.Description
	if replace {
		events, desc = nil, ""
	}
	if u.EventsRequested != nil {
		events = *u.EventsRequested
	}
	if u.Description != nil {
		desc = *u.Description
	}
	req := StreamRequest{EventsRequested: events, Description: desc}
	if u.Delivery != nil { // its endpoint_url matched above
		req.Delivery = &Delivery{Method: u.Delivery.Method}
	}
	if err := req.check(); err != nil {
		return nil, err
	}
	st.EventsRequested, st.Description = req.EventsRequested, req.Description
	if err := s.Store.UpdateStream(ctx, st); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errNoStream
	} else if err != nil {
		return nil, err
	}
	return s.config(r, st), nil
}

// matches is validation_failed naming every transmitter-supplied member
// u sends that differs from the stream's (cur, before the update).
func (u StreamUpdate) matches(cur *StreamConfig) error {
	var errs []latchkey.FieldError
	differs := func(field string, ok bool) {
		if !ok {
			errs = append(errs, latchkey.FieldError{Field: field, Message: "is the transmitter's and must match the stream's, or be left out"})
		}
	}
	if u.Iss != nil {
		differs("iss", *u.Iss == cur.Iss)
	}
	if u.Aud != nil {
		differs("aud", *u.Aud == cur.Aud)
	}
	if u.EventsSupported != nil {
		differs("events_supported", slices.Equal(*u.EventsSupported, cur.EventsSupported))
	}
	if u.EventsDelivered != nil {
		differs("events_delivered", slices.Equal(*u.EventsDelivered, cur.EventsDelivered))
	}
	if u.MinVerificationInterval != nil {
		differs("min_verification_interval", *u.MinVerificationInterval == cur.MinVerificationInterval)
	}
	if u.InactivityTimeout != nil {
		differs("inactivity_timeout", *u.InactivityTimeout == cur.InactivityTimeout)
	}
	if u.Delivery != nil && u.Delivery.EndpointURL != "" {
		differs("delivery.endpoint_url", u.Delivery.EndpointURL == cur.Delivery.EndpointURL)
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	return nil
}
