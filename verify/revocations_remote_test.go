package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// fakeSSF is a small RFC 8936 transmitter on 127.0.0.1: discovery, stream
// create and delete, and a long poll that sends every unacknowledged SET
// again until it is acknowledged or reported.
type fakeSSF struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	aud    string
	hold   time.Duration
	fail   atomic.Bool // answer every SSF call 500
	wake   chan struct{}

	mu       sync.Mutex
	pending  []string          // jtis in order
	sets     map[string]string // jti → SET
	acked    map[string]bool
	reported map[string]string // jti → err
	streams  map[string]bool
	created  int
	deleted  []string
	quick    []bool         // each poll's returnImmediately
	sent     map[string]int // jti → deliveries
}

func newFakeSSF(t *testing.T) *fakeSSF {
	f := &fakeSSF{
		t: t, secret: "receiver-secret", aud: "https://notes.example.test", hold: 200 * time.Millisecond,
		wake: make(chan struct{}, 1), sets: map[string]string{}, acked: map[string]bool{},
		reported: map[string]string{}, streams: map[string]bool{}, sent: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/ssf-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"issuer":                        f.srv.URL,
			"configuration_endpoint":        f.srv.URL + "/ssf/streams",
			"delivery_methods_supported":    []string{verify.DeliveryPoll},
			"latchkey_revocation_retention": 990,
		})
	})
	mux.HandleFunc("POST /ssf/streams", f.authed(f.create))
	mux.HandleFunc("DELETE /ssf/streams", f.authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		id := r.URL.Query().Get("stream_id")
		f.deleted = append(f.deleted, id)
		delete(f.streams, id)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("POST /ssf/poll/{id}", f.authed(f.poll))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSSF) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h(w, r)
	}
}

func (f *fakeSSF) create(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.created++
	id := fmt.Sprint("stream-", f.created)
	f.streams[id] = true
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"stream_id": id, "iss": f.srv.URL, "aud": f.aud,
		"delivery": map[string]string{"method": verify.DeliveryPoll, "endpoint_url": f.srv.URL + "/ssf/poll/" + id},
	})
}

func (f *fakeSSF) poll(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ack               []string                     `json:"ack"`
		SetErrs           map[string]map[string]string `json:"setErrs"`
		MaxEvents         int                          `json:"maxEvents"`
		ReturnImmediately bool                         `json:"returnImmediately"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Ack == nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if !f.streams[r.PathValue("id")] {
		f.mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.quick = append(f.quick, req.ReturnImmediately)
	for _, jti := range req.Ack {
		f.acked[jti] = true
	}
	for jti, e := range req.SetErrs {
		f.reported[jti] = e["err"]
	}
	f.pending = f.open()
	empty := len(f.pending) == 0
	f.mu.Unlock()
	if empty && !req.ReturnImmediately {
		t := time.NewTimer(f.hold)
		select {
		case <-t.C:
		case <-f.wake:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = f.open()
	sets := map[string]string{}
	for _, jti := range f.pending {
		if len(sets) == req.MaxEvents {
			break
		}
		sets[jti] = f.sets[jti]
		f.sent[jti]++
	}
	writeJSON(w, 200, map[string]any{"sets": sets, "moreAvailable": len(f.pending) > len(sets)})
}

// open is the pending SETs neither acknowledged nor reported; f.mu held.
func (f *fakeSSF) open() []string {
	var out []string
	for _, jti := range f.pending {
		if _, rep := f.reported[jti]; !rep && !f.acked[jti] {
			out = append(out, jti)
		}
	}
	return out
}

// queue adds a SET to every stream's feed and wakes a held poll.
func (f *fakeSSF) queue(jti, set string) {
	f.mu.Lock()
	f.pending = append(f.pending, jti)
	f.sets[jti] = set
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// revoke queues a session-revoked SET for sid, with edits.
func (f *fakeSSF) revoke(sid string, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	jti := "sr-" + sid
	f.queue(jti, f.mintSET(jti, sid, editH, editC))
	return jti
}

func (f *fakeSSF) mintSET(jti, sid string, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	now := time.Now()
	return mintSETEd(f.t, editH, func(c jwt.MapClaims) {
		c["iss"], c["aud"], c["iat"], c["jti"] = f.srv.URL, f.aud, now.Unix(), jti
		c["sub_id"].(map[string]any)["session"] = map[string]any{"format": "opaque", "id": sid}
		c["sub_id"].(map[string]any)["user"] = map[string]any{"format": "iss_sub", "iss": f.srv.URL, "sub": "user-1"}
		for _, ev := range c["events"].(map[string]any) {
			ev.(map[string]any)["event_timestamp"] = now.Unix()
		}
		if editC != nil {
			editC(c)
		}
	})
}

func (f *fakeSSF) state(read func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	read()
}

// errCount is an OnError that counts.
type errCount struct{ n atomic.Int64 }

func (e *errCount) on(error) { e.n.Add(1) }

func startRemote(t *testing.T, f *fakeSSF, opts verify.RevocationsOptions) (*verify.RevocationSet, func(), *errCount) {
	t.Helper()
	errs := &errCount{}
	if opts.Credential == "" {
		opts.Credential = f.secret
	}
	opts.Keys = setKeys
	if opts.OnError == nil {
		opts.OnError = errs.on
	}
	set, stop, err := verify.RemoteRevocations(context.Background(), f.srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return set, stop, errs
}

// waitFor polls cond until it holds, failing after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRemoteRevocationsBacklog: a new stream's backlog, over several pages,
// is held before RemoteRevocations returns, then acknowledged.
func TestRemoteRevocationsBacklog(t *testing.T) {
	f := newFakeSSF(t)
	const n = 1100 // three pages of maxEvents 500
	for i := range n {
		f.revoke(fmt.Sprint("s-", i), nil, nil)
	}
	set, _, errs := startRemote(t, f, verify.RevocationsOptions{})
	st := set.Stats()
	if st.Sessions != n || !st.Current || !st.Synced {
		t.Fatalf("stats after start %+v, want %d sessions and current", st, n)
	}
	waitFor(t, "every SET acknowledged", func() (done bool) {
		f.state(func() { done = len(f.acked) == n })
		return done
	})
	f.state(func() {
		if len(f.quick) < 3 || !f.quick[0] || !f.quick[1] || !f.quick[2] {
			t.Errorf("the backlog was not drained with returnImmediately: %v", f.quick)
		}
	})
	if errs.n.Load() != 0 {
		t.Errorf("%d errors reported", errs.n.Load())
	}
}

// TestRemoteRevocationsLive: a revocation sent while the verifier long
// polls refuses the session's token, cached or not, at once.
func TestRemoteRevocationsLive(t *testing.T) {
	f := newFakeSSF(t)
	var revoked atomic.Int64
	set, _, _ := startRemote(t, f, verify.RevocationsOptions{
		OnRevoke: func(string, time.Time) { revoked.Add(1) },
	})
	if !set.Current() {
		t.Fatal("not current after an empty backlog")
	}
	cfg := benchConfig(edConfig())
	cfg.CacheSize = 10
	cfg.Revocations = set
	v := newVerifier(t, cfg)
	tok := mint(t, jwt.SigningMethodEdDSA, testPriv, nil, func(c jwt.MapClaims) {
		c["sid"], c["iat"], c["exp"] = "live-1", time.Now().Add(-5*time.Minute).Unix(), time.Now().Add(10*time.Minute).Unix()
	})
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the poll be held
	start := time.Now()
	f.revoke("live-1", nil, nil)
	waitFor(t, "the token refused", func() bool {
		_, err := v.Verify(context.Background(), tok)
		var e *verify.Error
		return errors.As(err, &e) && e.Reason == verify.ReasonRevoked
	})
	t.Logf("revocation reached the verifier after %v", time.Since(start))
	if revoked.Load() != 1 {
		t.Errorf("OnRevoke saw %d revocations, want 1", revoked.Load())
	}
}

// TestRemoteRevocationsBadSETs: refused SETs are reported with their
// setErrs code and never applied; an unknown kid is left for one
// delivery, then reported.
func TestRemoteRevocationsBadSETs(t *testing.T) {
	f := newFakeSSF(t)
	bad := map[string]string{
		f.revoke("with-exp", nil, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(time.Hour).Unix() }):                verify.SETErrInvalidRequest,
		f.revoke("with-sub", nil, func(c jwt.MapClaims) { c["sub"] = "user-1" }):                                        verify.SETErrInvalidRequest,
		f.revoke("other-aud", nil, func(c jwt.MapClaims) { c["aud"] = "https://other.example.test" }):                   verify.SETErrInvalidAudience,
		f.revoke("other-iss", nil, func(c jwt.MapClaims) { c["iss"] = "https://evil.example.test" }):                    verify.SETErrInvalidIssuer,
		f.revoke("access-typ", func(h map[string]any) { h["typ"] = "at+jwt" }, nil):                                     verify.SETErrInvalidRequest,
		f.revoke("unknown-kid", func(h map[string]any) { h["kid"] = "k-unknown" }, nil):                                 verify.SETErrInvalidKey,
		f.revoke("two-events", nil, func(c jwt.MapClaims) { c["events"].(map[string]any)["urn:x"] = map[string]any{} }): verify.SETErrInvalidRequest,
	}
	good := f.revoke("good", nil, nil)
	f.queue("mismatched-jti", f.mintSET("another-jti", "mismatch", nil, nil))
	bad["mismatched-jti"] = verify.SETErrInvalidRequest
	set, _, errs := startRemote(t, f, verify.RevocationsOptions{})
	waitFor(t, "every bad SET reported", func() (done bool) {
		f.state(func() { done = len(f.reported) == len(bad) && f.acked[good] })
		return done
	})
	f.state(func() {
		for jti, code := range bad {
			if f.reported[jti] != code {
				t.Errorf("%s reported as %q, want %q", jti, f.reported[jti], code)
			}
			if f.acked[jti] {
				t.Errorf("%s acknowledged", jti)
			}
		}
		if n := f.sent["sr-unknown-kid"]; n != 2 {
			t.Errorf("the SET with an unknown kid was sent %d times, want 2 (left once, then reported)", n)
		}
		if n := f.sent["sr-with-exp"]; n != 1 {
			t.Errorf("a bad SET was sent %d times, want 1 (reported at once)", n)
		}
	})
	st := set.Stats()
	if st.Sessions != 1 || st.Rejected != uint64(len(bad)) {
		t.Errorf("stats %+v, want 1 session and %d rejected", st, len(bad))
	}
	if errs.n.Load() != int64(len(bad)) {
		t.Errorf("OnError saw %d errors, want %d", errs.n.Load(), len(bad))
	}
}

// TestRemoteRevocationsOutage: while the transmitter fails the set goes
// stale after MaxStale, OnError hears once, and the feed recovers alone.
func TestRemoteRevocationsOutage(t *testing.T) {
	f := newFakeSSF(t)
	set, _, errs := startRemote(t, f, verify.RevocationsOptions{MaxStale: 400 * time.Millisecond})
	if !set.Current() {
		t.Fatal("not current at start")
	}
	f.fail.Store(true)
	waitFor(t, "stale", func() bool { return !set.Current() })
	time.Sleep(300 * time.Millisecond) // several failed retries
	if n := errs.n.Load(); n != 1 {
		t.Errorf("OnError saw %d errors in one outage, want 1", n)
	}
	f.fail.Store(false)
	f.revoke("after-outage", nil, nil)
	waitFor(t, "current again", func() bool { return set.Current() && set.Stats().Sessions == 1 })
	// A second outage is reported again.
	f.fail.Store(true)
	waitFor(t, "the second outage reported", func() bool { return errs.n.Load() == 2 })
	f.fail.Store(false)
}

// TestRemoteRevocationsStreamGone: a stream the transmitter deleted is
// created again, and its seeded backlog taken.
func TestRemoteRevocationsStreamGone(t *testing.T) {
	f := newFakeSSF(t)
	set, _, _ := startRemote(t, f, verify.RevocationsOptions{})
	f.state(func() { clear(f.streams) })
	f.revoke("while-gone", nil, nil)
	waitFor(t, "a new stream and its backlog", func() bool { return set.Stats().Sessions == 1 })
	f.state(func() {
		if f.created != 2 {
			t.Errorf("%d streams created, want 2", f.created)
		}
	})
}

// TestRemoteRevocationsPaused: a stream-updated SET saying paused makes
// the set stale although polls keep answering; enabled restores it.
func TestRemoteRevocationsPaused(t *testing.T) {
	f := newFakeSSF(t)
	set, _, _ := startRemote(t, f, verify.RevocationsOptions{})
	status := func(jti, s string) {
		f.queue(jti, f.mintSET(jti, "x", nil, func(c jwt.MapClaims) {
			c["sub_id"] = map[string]any{"format": "opaque", "id": "stream-1"}
			c["events"] = map[string]any{verify.EventStreamUpdated: map[string]any{"status": s}}
		}))
	}
	status("paused-1", verify.StreamPaused)
	waitFor(t, "stale while paused", func() bool { return !set.Current() })
	time.Sleep(3 * f.hold) // polls go on answering
	if set.Current() {
		t.Fatal("current while paused")
	}
	status("enabled-1", verify.StreamEnabled)
	waitFor(t, "current once enabled", func() bool { return set.Current() })
}

func TestRemoteRevocationsStop(t *testing.T) {
	f := newFakeSSF(t)
	set, stop, _ := startRemote(t, f, verify.RevocationsOptions{})
	stop()
	if set.Current() {
		t.Error("current after stop")
	}
	f.state(func() {
		if len(f.deleted) != 1 || f.deleted[0] != "stream-1" {
			t.Errorf("deleted %v, want [stream-1]", f.deleted)
		}
	})
	stop() // once only
}

func TestRemoteRevocationsRefusals(t *testing.T) {
	f := newFakeSSF(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, issuer string
		opts         verify.RevocationsOptions
	}{
		{"plain http off loopback", "http://auth.example.test", verify.RevocationsOptions{Credential: "x", Keys: setKeys}},
		{"no credential", f.srv.URL, verify.RevocationsOptions{Keys: setKeys}},
		{"no keys", f.srv.URL, verify.RevocationsOptions{Credential: "x"}},
	} {
		if _, _, err := verify.RemoteRevocations(ctx, c.issuer, c.opts); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	// A wrong secret is not an error at start, but the set never syncs.
	errs := &errCount{}
	set, stop, err := verify.RemoteRevocations(ctx, f.srv.URL, verify.RevocationsOptions{
		Credential: "wrong", Keys: setKeys, FirstSync: 300 * time.Millisecond, OnError: errs.on,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if set.Current() || errs.n.Load() != 1 {
		t.Errorf("wrong secret: current %v, %d errors", set.Current(), errs.n.Load())
	}
	if s := fmt.Sprint(set.Stats()); strings.Contains(s, "wrong") {
		t.Errorf("stats show the secret: %s", s)
	}
}

// TestRemoteRevocationsRetention: Retain comes from the discovery
// document's latchkey_revocation_retention (990 s here), so a token living
// 16 minutes (960 s + 30 s leeway) passes, which the default 16 min would
// refuse; Retain set explicitly wins.
func TestRemoteRevocationsRetention(t *testing.T) {
	f := newFakeSSF(t)
	tok := mint(t, jwt.SigningMethodEdDSA, testPriv, nil, func(c jwt.MapClaims) {
		c["iat"], c["exp"] = time.Now().Unix(), time.Now().Add(16*time.Minute).Unix()
	})
	for _, c := range []struct {
		retain time.Duration
		ok     bool
	}{{0, true}, {verify.DefaultRevocationRetain, false}} {
		set, _, _ := startRemote(t, f, verify.RevocationsOptions{Retain: c.retain})
		cfg := benchConfig(edConfig())
		cfg.Revocations = set
		_, err := newVerifier(t, cfg).Verify(context.Background(), tok)
		if c.ok && err != nil {
			t.Errorf("Retain %v: %v", c.retain, err)
		}
		if !c.ok {
			wantError(t, err, tok, verify.CodeTokenExpired, verify.ReasonRevocationsStale)
		}
	}
}
