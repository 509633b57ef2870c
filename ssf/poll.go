package ssf

// Poll delivery (RFC 8936) in long-poll mode.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

// maxSettled caps the jtis one poll may acknowledge or report.
const maxSettled = 10 * MaxEvents

// PollRequest is an RFC 8936 poll: the SETs the receiver acknowledges or
// reports as errors, how many it takes now (nil: up to MaxEvents; 0:
// none, an acknowledgement only), and whether to answer at once.
type PollRequest struct {
	Ack               []string          `json:"ack"`
	SetErrs           map[string]SetErr `json:"setErrs"`
	MaxEvents         *int              `json:"maxEvents"`
	ReturnImmediately bool              `json:"returnImmediately"`
}

// SetErr is a receiver's report of a SET it could not use (RFC 8936 §2.4).
type SetErr struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// PollAnswer is the SETs by jti, and whether more are waiting.
type PollAnswer struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

func (req PollRequest) check() error {
	var errs []latchkey.FieldError
	if req.MaxEvents != nil && *req.MaxEvents < 0 {
		errs = append(errs, latchkey.FieldError{Field: "maxEvents", Message: "must not be negative"})
	}
	if len(req.Ack)+len(req.SetErrs) > maxSettled {
		errs = append(errs, latchkey.FieldError{Field: "ack", Message: fmt.Sprintf("at most %d jtis a poll, ack and setErrs together", maxSettled)})
	}
	if len(errs) > 0 {
		return latchkey.ValidationError(errs...)
	}
	return nil
}

// Poll answers a poll of the receiver's stream id. It settles first what
// the request acknowledges or reports (a reported SET is settled too:
// sending the same bytes again would fail again), then answers the
// pending SETs, oldest first. With none pending and no returnImmediately
// it holds the request up to Hold, answering as soon as a revocation
// arrives, and empty at the end; a newer poll of the stream on this
// instance ends it at once, empty. An unacknowledged SET comes again in
// the next answer. A paused or disabled stream answers no SETs.
func (s *Service) Poll(ctx context.Context, r *latchkey.Receiver, id string, req PollRequest) (*PollAnswer, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	st, err := s.liveStream(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if err := s.settle(ctx, r, st, req); err != nil {
		return nil, err
	}
	limit := MaxEvents
	if req.MaxEvents != nil {
		limit = min(*req.MaxEvents, MaxEvents)
	}
	empty := &PollAnswer{Sets: map[string]string{}}
	if limit == 0 {
		return empty, nil
	}
	release := s.holdSlot(st.ID)
	defer s.unhold(st.ID, release)
	timer := time.NewTimer(s.hold())
	defer timer.Stop()
	// A held poll re-reads its stream this often: a verification asked
	// for, or a status set, through another instance.
	reread := time.NewTicker(time.Second)
	defer reread.Stop()
	for {
		// The channel before the read: a revocation between the two
		// closes it, and the loop reads again.
		changed := s.Changed()
		ans, err := s.pending(ctx, r, st, limit)
		if err != nil || len(ans.Sets) > 0 || req.ReturnImmediately {
			return ans, err
		}
		select {
		case <-changed:
		case <-reread.C:
			if st, err = s.Store.FindStream(ctx, r.ID, st.ID); err != nil {
				if latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
					return empty, nil // deleted meanwhile
				}
				return nil, err
			}
		case <-release:
			return empty, nil
		case <-timer.C:
			return empty, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// settle records the acknowledged and reported SETs of the stream: the
// revocations' and the verification's. A jti that names no SET of this
// stream is ignored. The stream's pending verification is marked done
// when it is among them, so that this poll's answer does not send it.
func (s *Service) settle(ctx context.Context, r *latchkey.Receiver, st *latchkey.Stream, req PollRequest) error {
	var sids []string
	one := func(jti string) error {
		if sid, ok := token.SessionOfJTI(jti, r.Audience); ok {
			sids = append(sids, sid)
			return nil
		}
		at, ok := verificationOf(jti, st.ID)
		if !ok {
			return nil
		}
		if st.VerifyPending && at.Equal(st.VerifyRequestedAt) {
			st.VerifyPending = false
		}
		return s.Store.AckStreamVerification(ctx, st.ID, at)
	}
	for _, jti := range req.Ack {
		if err := one(jti); err != nil {
			return err
		}
	}
	for jti, e := range req.SetErrs {
		if err := one(jti); err != nil {
			return err
		}
		if s.Log != nil {
			// The receiver's code only: its description is its own text.
			s.Log.Warn("ssf: a receiver could not use a SET", "receiver", r.Name, "stream_id", st.ID, "jti", jti, "err", printable(e.Err))
		}
	}
	if len(sids) == 0 {
		return nil
	}
	return s.Store.AckRevocations(ctx, st.ID, sids, s.now().Add(s.Retention))
}

// pending mints the stream's pending SETs, at most limit: its pending
// verification first, then the revocations it has not acknowledged, if it
// delivers them. An enabled stream only: a paused one holds them.
func (s *Service) pending(ctx context.Context, r *latchkey.Receiver, st *latchkey.Stream, limit int) (*PollAnswer, error) {
	ans := &PollAnswer{Sets: map[string]string{}}
	if st.Status != latchkey.StreamEnabled {
		return ans, nil
	}
	if st.VerifyPending {
		jti := verificationID(st.ID, st.VerifyRequestedAt)
		set, err := s.Signer.Verification(r.Audience, st.ID, st.VerifyState, jti)
		if err != nil {
			return nil, fmt.Errorf("ssf: mint the verification SET of stream %s: %w", st.ID, err)
		}
		ans.Sets[jti] = set
		limit--
	}
	if limit == 0 || !slices.Contains(delivered(st.EventsRequested), verify.EventSessionRevoked) {
		return ans, nil
	}
	rows, err := s.Store.PendingRevocations(ctx, st.ID, s.now().Add(-s.Retention), limit+1)
	if err != nil {
		return nil, err
	}
	ans.MoreAvailable = len(rows) > limit
	for _, rv := range rows[:min(len(rows), limit)] {
		set, err := s.Signer.SessionRevoked(r.Audience, token.Revocation{
			SessionID: rv.ID, UserID: rv.UserID, Reason: rv.Reason, RevokedAt: rv.RevokedAt,
		})
		if err != nil {
			return nil, fmt.Errorf("ssf: mint the SET of session %s: %w", rv.ID, err)
		}
		ans.Sets[token.SessionRevokedID(rv.ID, r.Audience)] = set
	}
	return ans, nil
}

// holdSlot makes this poll the stream's held one on this instance,
// releasing the one before: the newest poll wins, so a verifier that
// reconnects is not kept waiting behind its own dead connection.
func (s *Service) holdSlot(id string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if s.stopping {
		close(ch) // answered at once
		return ch
	}
	if s.held == nil {
		s.held = map[string]chan struct{}{}
	}
	if old, ok := s.held[id]; ok {
		close(old)
	}
	s.held[id] = ch
	return ch
}

// unhold forgets ch as the stream's held poll, unless a newer one took
// its place.
func (s *Service) unhold(id string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[id] == ch {
		delete(s.held, id)
	}
}

// release ends the stream's held poll, if any.
func (s *Service) release(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.held[id]; ok {
		close(ch)
		delete(s.held, id)
	}
}

// printable is s cut to 64 bytes of printable ASCII, for a log line.
func printable(s string) string {
	b := make([]byte, 0, min(len(s), 64))
	for i := 0; i < len(s) && len(b) < 64; i++ {
		if c := s[i]; c >= ' ' && c < 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}
