package ssf

// A stream's status (SSF 1.0 §8.1.2) and the verification event
// (§8.1.4), both asked for by the receiver.

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// maxStatusReason caps the reason a receiver gives for a status.
const maxStatusReason = 256

// Status is a stream's status as the status endpoint answers it.
type Status struct {
	StreamID string `json:"stream_id"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
}

// StreamStatus returns the receiver's stream id's status (a call naming the
// stream: activity).
func (s *Service) StreamStatus(ctx context.Context, r *latchkey.Receiver, id string) (*Status, error) {
	st, err := s.liveStream(ctx, r, id)
	if err != nil {
		return nil, err
	}
	return &Status{StreamID: st.ID, Status: string(st.Status), Reason: st.StatusReason}, nil
}

// SetStreamStatus sets the status of the receiver's stream in.StreamID:
// enabled delivers; paused holds the SETs, which the next enabled poll
// brings; disabled delivers nothing (and, the feed being a deny list, what
// is still in the window comes when it is enabled again). A held poll of
// the stream on this instance is answered at once.
func (s *Service) SetStreamStatus(ctx context.Context, r *latchkey.Receiver, in Status) (*Status, error) {
	status := latchkey.StreamStatus(in.Status)
	var errs []latchkey.FieldError
	if !status.Valid() {
		errs = append(errs, latchkey.FieldError{Field: "status", Message: "must be enabled, paused or disabled"})
	}
	if len(in.Reason) > maxStatusReason || !latchkey.PlainLine(in.Reason) {
		errs = append(errs, latchkey.FieldError{Field: "reason", Message: "must be one line of plain text of at most 256 bytes"})
	}
	if len(errs) > 0 {
		return nil, latchkey.ValidationError(errs...)
	}
	st, err := s.liveStream(ctx, r, in.StreamID)
	if err != nil {
		return nil, err
	}
	st.Status, st.StatusReason = status, in.Reason
	if err := s.Store.UpdateStream(ctx, st); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return nil, errNoStream
	} else if err != nil {
		return nil, err
	}
	s.release(st.ID)
	return &Status{StreamID: st.ID, Status: string(st.Status), Reason: st.StatusReason}, nil
}

// VerifyStream asks for a verification SET on the receiver's stream id,
// echoing state: the stream's next poll brings it, and a poll held on any
// instance re-reads the stream within a second. One request per
// latchkey.MinVerificationInterval (ERATELIMITED with RetryAfter).
func (s *Service) VerifyStream(ctx context.Context, r *latchkey.Receiver, id, state string) error {
	if len(state) > maxStatusReason {
		return latchkey.ValidationError(latchkey.FieldError{Field: "state", Message: "must be at most 256 bytes"})
	}
	if _, err := s.liveStream(ctx, r, id); err != nil {
		return err
	}
	if err := s.Store.RequestStreamVerification(ctx, r.ID, id, state, s.now()); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
		return errNoStream
	} else if err != nil {
		return err
	}
	s.release(id)
	return nil
}

// verificationID is the jti of the verification SET of the request made
// on stream id at requestedAt: its acknowledgement names the request.
func verificationID(id string, requestedAt time.Time) string {
	return "sv-" + id + "." + strconv.FormatInt(requestedAt.UnixNano(), 36)
}

// verificationOf is the request a verification jti of stream id names.
func verificationOf(jti, id string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(jti, "sv-"+id+".")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n).UTC(), true
}
