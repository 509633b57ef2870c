package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// feed is RemoteRevocations' client state. Only its loop goroutine uses it
// once RemoteRevocations has started that.
type feed struct {
	issuer, discover string
	cred             string
	keys             KeyFunc
	client           *http.Client
	onError          func(error)
	onRevoke         func(sid string, at time.Time)
	set              *RevocationSet
	synced           chan struct{} // closed at the first sync
	syncedOnce       bool

	meta    *feedMeta
	stream  *feedStream
	failing bool // in an outage, reported once
	paused  bool // the transmitter said the stream is paused or disabled
	quick   bool // the next poll asks returnImmediately (draining)
	acks    []string
	errs    map[string]setErrJSON
	retried map[string]bool // jti → its kid was unknown once already
}

// feedMeta is what RemoteRevocations reads of the SSF configuration.
type feedMeta struct {
	Issuer                string   `json:"issuer"`
	ConfigurationEndpoint string   `json:"configuration_endpoint"`
	DeliveryMethods       []string `json:"delivery_methods_supported"`
	Retention             int64    `json:"latchkey_revocation_retention"` // seconds
}

type feedStream struct {
	id, aud, endpoint string
}

type setErrJSON struct {
	Err         string `json:"err"`
	Description string `json:"description"`
}

// errStreamGone is a 404 from the poll: the transmitter deleted the stream
// (after 300 s without a poll, say), so a new one is created.
var errStreamGone = errors.New("verify: revocation feed: the stream is gone")

// discoverFeed reads the SSF configuration and checks it names this
// issuer and a usable configuration endpoint.
func (f *feed) discoverFeed(ctx context.Context) error {
	var m feedMeta
	if _, err := f.call(ctx, http.MethodGet, f.discover, false, nil, &m); err != nil {
		return err
	}
	if m.Issuer != f.issuer {
		return errors.New("verify: revocation feed: the SSF configuration names another issuer")
	}
	if err := checkFeedURL(m.ConfigurationEndpoint); err != nil {
		return err
	}
	if len(m.DeliveryMethods) > 0 && !slices.Contains(m.DeliveryMethods, DeliveryPoll) {
		return errors.New("verify: revocation feed: the transmitter offers no poll delivery")
	}
	f.meta = &m
	return nil
}

func checkFeedURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return errors.New("verify: revocation feed: an endpoint URL does not parse")
	}
	return checkJWKSURL(u)
}

// createStream creates this process's stream, poll delivery, and starts
// draining its backlog.
func (f *feed) createStream(ctx context.Context) error {
	req := map[string]any{
		"delivery":         map[string]string{"method": DeliveryPoll},
		"events_requested": []string{EventSessionRevoked, EventStreamUpdated, EventVerification},
	}
	var st struct {
		ID       string          `json:"stream_id"`
		Iss      string          `json:"iss"`
		Aud      json.RawMessage `json:"aud"`
		Delivery struct {
			Method   string `json:"method"`
			Endpoint string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	if _, err := f.call(ctx, http.MethodPost, f.meta.ConfigurationEndpoint, true, req, &st); err != nil {
		return err
	}
	aud := firstAudience(st.Aud)
	switch {
	case st.ID == "" || aud == "":
		return errors.New("verify: revocation feed: the stream has no stream_id or aud")
	case st.Iss != "" && st.Iss != f.issuer:
		return errors.New("verify: revocation feed: the stream names another issuer")
	case st.Delivery.Method != DeliveryPoll:
		return errors.New("verify: revocation feed: the stream is not poll delivery")
	}
	if err := checkFeedURL(st.Delivery.Endpoint); err != nil {
		return err
	}
	f.stream = &feedStream{id: st.ID, aud: aud, endpoint: st.Delivery.Endpoint}
	f.quick, f.paused, f.acks, f.errs = true, false, nil, nil
	return nil
}

// firstAudience reads a stream's aud, a string or an array of them.
func firstAudience(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list[0]
	}
	return ""
}

// pollOnce makes one RFC 8936 poll: it acknowledges and reports what the
// previous answer brought, takes the SETs of this one, and marks the set
// current when nothing more is pending.
func (f *feed) pollOnce(ctx context.Context) error {
	req := struct {
		Ack               []string              `json:"ack"`
		SetErrs           map[string]setErrJSON `json:"setErrs,omitempty"`
		MaxEvents         int                   `json:"maxEvents"`
		ReturnImmediately bool                  `json:"returnImmediately"`
	}{Ack: f.acks, SetErrs: f.errs, MaxEvents: DefaultRevocationsMaxEvents, ReturnImmediately: f.quick}
	if req.Ack == nil {
		req.Ack = []string{}
	}
	var out struct {
		Sets          map[string]string `json:"sets"`
		MoreAvailable bool              `json:"moreAvailable"`
	}
	status, err := f.call(ctx, http.MethodPost, f.stream.endpoint, true, req, &out)
	if status == http.StatusNotFound {
		return errStreamGone
	}
	if err != nil {
		// Acks and errors go again with the next poll, which answers at
		// once: the set becomes current one round trip after the
		// transmitter is back, not after a whole idle hold.
		f.quick = true
		return err
	}
	f.acks, f.errs = nil, nil
	for jti, raw := range out.Sets {
		f.take(ctx, jti, raw)
	}
	f.quick = out.MoreAvailable
	if !out.MoreAvailable && !f.paused {
		f.set.MarkCurrent()
		if !f.syncedOnce {
			f.syncedOnce = true
			close(f.synced)
		}
	}
	return nil
}

// take checks one SET and applies, acknowledges, reports or leaves it.
func (f *feed) take(ctx context.Context, jti, raw string) {
	s, err := ParseSET(ctx, raw, f.keys, f.issuer, f.stream.aud, time.Time{})
	if err == nil && s.ID != jti {
		err = setErr(SETErrInvalidRequest, ReasonMalformed, nil)
	}
	var se *SETError
	if errors.As(err, &se) {
		if se.Retry && !f.retried[jti] {
			// Neither acknowledged nor reported: sent again after the
			// JWKS has been fetched anew.
			if len(f.retried) >= DefaultRevocationsMaxEvents*4 {
				clear(f.retried)
			}
			f.retried[jti] = true
			return
		}
		delete(f.retried, jti)
		if f.errs == nil {
			f.errs = make(map[string]setErrJSON)
		}
		f.errs[jti] = setErrJSON{Err: se.Code, Description: se.Description()}
		f.set.rejected.Add(1)
		f.onError(fmt.Errorf("verify: revocation feed: a SET was refused: %w", se))
		return
	}
	if err != nil {
		return // unreachable: ParseSET's caller errors are ruled out
	}
	delete(f.retried, jti)
	f.apply(s)
	f.acks = append(f.acks, jti)
}

// apply takes a verified SET's event into the set.
func (f *feed) apply(s *SET) {
	switch s.Kind {
	case SETSessionRevoked:
		var err error
		at := s.EventTime
		if s.SessionID != "" {
			// Held from the later of the two: a record kept longer is safe.
			if s.IssuedAt.After(at) {
				at = s.IssuedAt
			}
			err = f.set.RevokeSession(s.SessionID, at)
		} else {
			err = f.set.RevokeUser(s.UserID, at)
		}
		if err != nil {
			f.onError(err)
		} else if f.onRevoke != nil {
			f.onRevoke(s.SessionID, at)
		}
	case SETStreamUpdated:
		f.paused = s.StreamStatus != StreamEnabled
		if f.paused {
			f.set.MarkStale()
		}
	}
}

// deleteStream deletes the stream, for stop; failures only go to OnError.
func (f *feed) deleteStream() {
	if f.stream == nil || f.meta == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := f.meta.ConfigurationEndpoint + "?stream_id=" + url.QueryEscape(f.stream.id)
	if _, err := f.call(ctx, http.MethodDelete, u, true, nil, nil); err != nil {
		f.onError(err)
	}
}

// call sends one request (in as JSON when not nil, the credential when
// auth) and decodes a 2xx answer into out when not nil. It returns the
// status, 0 when no answer came.
func (f *feed) call(ctx context.Context, method, target string, auth bool, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, errors.New("verify: revocation feed: bad request URL")
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+f.cred)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("verify: revocation feed: %s %s: %w", method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, fmt.Errorf("verify: revocation feed: %s %s: status %d", method, req.URL.Redacted(), resp.StatusCode)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("verify: revocation feed: %s %s: %w", method, req.URL.Redacted(), err)
	}
	return resp.StatusCode, nil
}
