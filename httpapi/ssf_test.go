package httpapi_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/token"
	"github.com/latchkey/latchkey/verify"
)

// addReceiver registers a receiver through the admin API and returns its
// secret.
func (h *harness) addReceiver(root grant, name, audience string) string {
	h.t.Helper()
	r := h.Do(req{Method: "POST", Path: "/api/admin/receivers", Bearer: root.AccessToken, Body: map[string]string{"name": name, "audience": audience}})
	r.WantStatus(h.t, 201)
	secret := r.JSON(h.t)["secret"].(string)
	h.Secrets = append(h.Secrets, secret)
	return secret
}

type ssfPoll struct {
	Sets          map[string]string `json:"sets"`
	MoreAvailable bool              `json:"moreAvailable"`
}

func (h *harness) poll(secret, stream string, body any) ssfPoll {
	h.t.Helper()
	r := h.Do(req{Method: "POST", Path: "/ssf/poll/" + stream, Bearer: secret, Body: body})
	r.WantStatus(h.t, 200)
	var p ssfPoll
	r.Decode(h.t, &p)
	return p
}

// sessionsOf parses a poll's SETs as a receiver of audience would and
// returns the revoked sessions, checking each jti.
func (h *harness) sessionsOf(p ssfPoll, audience string) []string {
	h.t.Helper()
	var sids []string
	for jti, raw := range p.Sets {
		set, err := verify.ParseSET(context.Background(), raw, h.App.Ring.Key, testIssuer, audience, time.Time{})
		if err != nil {
			h.t.Fatalf("SET %s: %v", jti, err)
		}
		if set.ID != jti || set.Kind != verify.SETSessionRevoked || jti != token.SessionRevokedID(set.SessionID, audience) {
			h.t.Fatalf("SET %s: %+v", jti, set)
		}
		sids = append(sids, set.SessionID)
	}
	return sids
}

// TestSSFFeed: discovery; a receiver's stream seeded with the revocations
// in the window; SETs sent again until acknowledged; a held poll answered
// by a revocation; the stream's own receiver only; every wrong request.
func TestSSFFeed(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		h.App.Feed.Hold = time.Second
		cfg := h.Do(req{Method: "GET", Path: "/.well-known/ssf-configuration"})
		cfg.WantStatus(t, 200)
		c := cfg.JSON(t)
		if c["spec_version"] != "1_0" || c["issuer"] != testIssuer || c["configuration_endpoint"] != testIssuer+"/ssf/streams" ||
			c["jwks_uri"] != testIssuer+"/.well-known/jwks.json" || c["latchkey_revocation_retention"].(float64) < (15*time.Minute+30*time.Second).Seconds() {
			t.Fatalf("configuration %v", c)
		}

		root := h.admin("root@example.com")
		const aud = "https://notes.example"
		secret := h.addReceiver(root, "notes", aud)
		other := h.addReceiver(root, "billing", "https://billing.example")

		// Revoked before the stream exists: the stream gets it first.
		early := h.signUp("early@example.com")
		h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: early.AccessToken}).WantStatus(t, 204)

		create := func(secret string, body any) response {
			return h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret, Body: body})
		}
		create("", nil).Problem(t, 401, "missing_token")
		create("lkr_not-a-secret", nil).Problem(t, 401, "invalid_token")
		wantField(t, create(secret, map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8935", "endpoint_url": "https://notes.example/events"}}), "delivery.method")
		wantField(t, create(secret, map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8936", "endpoint_url": "https://x"}}), "delivery.endpoint_url")
		r := create(secret, map[string]any{"description": "notes-api pod 1", "something_new": true})
		r.WantStatus(t, 201)
		st := r.JSON(t)
		id := st["stream_id"].(string)
		if st["aud"] != aud || st["iss"] != testIssuer || st["delivery"].(map[string]any)["endpoint_url"] != testIssuer+"/ssf/poll/"+id ||
			st["delivery"].(map[string]any)["method"] != "urn:ietf:rfc:8936" || len(st["events_delivered"].([]any)) != 1 {
			t.Fatalf("stream %v", st)
		}

		p := h.poll(secret, id, map[string]any{"returnImmediately": true})
		if sids := h.sessionsOf(p, aud); len(sids) != 1 || sids[0] != early.SessionID {
			t.Fatalf("the new stream's first poll: %v, want the earlier sign-out", sids)
		}
		jti := token.SessionRevokedID(early.SessionID, aud)
		// Not acknowledged: sent again. Acknowledged: gone, in this very answer.
		if p := h.poll(secret, id, map[string]any{"returnImmediately": true}); p.Sets[jti] == "" {
			t.Fatal("an unacknowledged SET was not sent again")
		}
		if p := h.poll(secret, id, map[string]any{"ack": []string{jti, "sr-unknown.AAAAAAAAAAA"}, "returnImmediately": true}); len(p.Sets) != 0 {
			t.Fatalf("acknowledged SETs came back: %v", p.Sets)
		}

		// A held poll answers as soon as a session is revoked.
		late := h.signUp("late@example.com")
		got := make(chan ssfPoll, 1)
		start := time.Now()
		go func() {
			r := h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: secret, Body: map[string]any{}})
			var p ssfPoll
			r.Decode(t, &p)
			got <- p
		}()
		time.Sleep(200 * time.Millisecond)
		h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: late.AccessToken}).WantStatus(t, 204)
		p = <-got
		if sids := h.sessionsOf(p, aud); len(sids) != 1 || sids[0] != late.SessionID {
			t.Fatalf("the held poll answered %v, want the sign-out", sids)
		}
		t.Logf("held poll answered %v after it began", time.Since(start))

		// Idle: held, then an empty answer; maxEvents 0 is an ack alone.
		h.poll(secret, id, map[string]any{"ack": []string{token.SessionRevokedID(late.SessionID, aud)}, "maxEvents": 0})
		start = time.Now()
		if p := h.poll(secret, id, nil); len(p.Sets) != 0 || time.Since(start) < 900*time.Millisecond {
			t.Fatalf("idle poll: %v after %v", p.Sets, time.Since(start))
		}
		h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: secret, Body: map[string]any{"maxEvents": -1}}).Problem(t, 400, "validation_failed")

		// Another receiver sees none of it.
		h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: other, Body: map[string]any{"returnImmediately": true}}).Problem(t, 404, "not_found")
		h.Do(req{Method: "GET", Path: "/ssf/streams?stream_id=" + id, Bearer: other}).Problem(t, 404, "not_found")
		h.Do(req{Method: "DELETE", Path: "/ssf/streams?stream_id=" + id, Bearer: other}).Problem(t, 404, "not_found")
		if list := h.Do(req{Method: "GET", Path: "/ssf/streams", Bearer: other}); list.Status != 200 || strings.TrimSpace(string(list.Body)) != "[]" {
			t.Fatalf("another receiver's list: %d %s", list.Status, list.Body)
		}
		h.Do(req{Method: "GET", Path: "/ssf/streams?stream_id=" + id, Bearer: secret}).WantStatus(t, 200)
		var list []map[string]any
		h.Do(req{Method: "GET", Path: "/ssf/streams", Bearer: secret}).Decode(t, &list)
		if len(list) != 1 || list[0]["stream_id"] != id {
			t.Fatalf("the receiver's streams: %v", list)
		}

		// Deleted: gone for its receiver too.
		h.Do(req{Method: "DELETE", Path: "/ssf/streams", Bearer: secret}).Problem(t, 400, "validation_failed")
		h.Do(req{Method: "DELETE", Path: "/ssf/streams?stream_id=" + id, Bearer: secret}).WantStatus(t, 204)
		h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: secret, Body: map[string]any{"returnImmediately": true}}).Problem(t, 404, "not_found")

		// A removed receiver's secret is refused everywhere.
		h.Do(req{Method: "DELETE", Path: "/api/admin/receivers/notes", Bearer: root.AccessToken}).WantStatus(t, 204)
		create(secret, nil).Problem(t, 401, "invalid_token")
	})
}

// TestSSFStreamCap: the 65th stream of one receiver is 409 conflict;
// another receiver is not affected.
func TestSSFStreamCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	secret := h.addReceiver(root, "many", "https://many.example")
	for range latchkey.MaxStreamsPerReceiver {
		h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret}).WantStatus(t, 201)
	}
	h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret}).Problem(t, 409, "conflict")
	h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: h.addReceiver(root, "few", "https://few.example")}).WantStatus(t, 201)
}

// TestRemoteRevocationsAgainstLatchkey: verify.RemoteRevocations, as a
// service using verify runs it, against the real transmitter: a token of
// a session signed out at Latchkey is refused by the service within a
// second, and one revoked before the service started is refused from its
// first check.
func TestRemoteRevocationsAgainstLatchkey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	secret := h.addReceiver(root, "svc", "https://svc.example")
	before := h.signUp("before@example.com")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: before.AccessToken}).WantStatus(t, 204)
	after := h.signUp("after@example.com")

	// The issuer's URLs lead to this server's port.
	addr := strings.TrimPrefix(h.URL, "http://")
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys, stopKeys, err := verify.RemoteJWKS(ctx, testIssuer+"/.well-known/jwks.json", verify.JWKSOptions{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	defer stopKeys()
	revs, stop, err := verify.RemoteRevocations(ctx, testIssuer, verify.RevocationsOptions{Credential: secret, Keys: keys, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	v, err := verify.New(verify.Config{Issuer: testIssuer, Audience: testAudience, Keys: keys, Revocations: revs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, before.AccessToken); !isCode(err, verify.CodeTokenRevoked) {
		t.Fatalf("a token revoked before the service started: %v", err)
	}
	if _, err := v.Verify(ctx, after.AccessToken); err != nil {
		t.Fatalf("a live token: %v", err)
	}
	start := time.Now()
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: after.AccessToken}).WantStatus(t, 204)
	for {
		_, err := v.Verify(ctx, after.AccessToken)
		if isCode(err, verify.CodeTokenRevoked) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the service still accepts a signed-out token after 1 s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the sign-out reached the service in %v", time.Since(start))
}

func isCode(err error, code string) bool {
	var e *verify.Error
	return errors.As(err, &e) && e.Code == code
}

// TestSSFNewestPollWins: a second poll of a stream ends the one held
// before it at once, empty (a verifier that reconnects does not wait
// behind its own dead connection), and is itself held until a revocation.
func TestSSFNewestPollWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.App.Feed.Hold = 5 * time.Second
	root := h.admin("root@example.com")
	secret := h.addReceiver(root, "svc", "https://svc.example")
	id := h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret}).JSON(t)["stream_id"].(string)
	// Drain what the window holds (the admin's sign-up revoked nothing,
	// but stay independent of it).
	for p := h.poll(secret, id, map[string]any{"returnImmediately": true}); len(p.Sets) > 0; p = h.poll(secret, id, map[string]any{"returnImmediately": true}) {
		var ack []string
		for jti := range p.Sets {
			ack = append(ack, jti)
		}
		h.poll(secret, id, map[string]any{"ack": ack, "maxEvents": 0})
	}
	type result struct {
		p    ssfPoll
		took time.Duration
	}
	held := func() <-chan result {
		out := make(chan result, 1)
		start := time.Now()
		go func() {
			r := h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: secret, Body: map[string]any{}})
			var p ssfPoll
			r.Decode(t, &p)
			out <- result{p, time.Since(start)}
		}()
		return out
	}
	first := held()
	time.Sleep(300 * time.Millisecond)
	second := held()
	r := <-first
	if len(r.p.Sets) != 0 || r.took > 2*time.Second {
		t.Fatalf("the older poll: %d SETs after %v, want none, at once when the newer came", len(r.p.Sets), r.took)
	}
	u := h.signUp("u@example.com")
	h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: u.AccessToken}).WantStatus(t, 204)
	if r := <-second; len(r.p.Sets) != 1 || r.took > 3*time.Second {
		t.Fatalf("the newer poll: %d SETs after %v, want the sign-out's", len(r.p.Sets), r.took)
	}
}

// TestSSFStatusAndVerification: a paused stream holds its SETs until it is
// enabled again; a verification request is answered 204 and its SET,
// echoing state, arrives in the next polls until acknowledged, within 5 s
// even while a poll is held; a second request within 10 s is 429.
func TestSSFStatusAndVerification(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		h.App.Feed.Hold = 3 * time.Second
		root := h.admin("root@example.com")
		const aud = "https://svc.example"
		secret := h.addReceiver(root, "svc", aud)
		other := h.addReceiver(root, "other", "https://other.example")
		id := h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret}).JSON(t)["stream_id"].(string)
		status := func(bearer string, body any) response {
			return h.Do(req{Method: "POST", Path: "/ssf/streams/status", Bearer: bearer, Body: body})
		}
		if got := h.Do(req{Method: "GET", Path: "/ssf/streams/status?stream_id=" + id, Bearer: secret}).JSON(t); got["status"] != "enabled" || got["stream_id"] != id {
			t.Fatalf("status %v", got)
		}
		h.Do(req{Method: "GET", Path: "/ssf/streams/status?stream_id=" + id, Bearer: other}).Problem(t, 404, "not_found")
		h.Do(req{Method: "GET", Path: "/ssf/streams/status", Bearer: secret}).Problem(t, 400, "validation_failed")
		wantField(t, status(secret, map[string]string{"stream_id": id, "status": "asleep"}), "status")
		status(other, map[string]string{"stream_id": id, "status": "paused"}).Problem(t, 404, "not_found")
		if got := status(secret, map[string]string{"stream_id": id, "status": "paused", "reason": "maintenance"}).JSON(t); got["status"] != "paused" || got["reason"] != "maintenance" {
			t.Fatalf("paused: %v", got)
		}
		u := h.signUp("u@example.com")
		h.Do(req{Method: "POST", Path: "/api/auth/signout", Bearer: u.AccessToken}).WantStatus(t, 204)
		if p := h.poll(secret, id, map[string]any{"returnImmediately": true}); len(p.Sets) != 0 {
			t.Fatalf("a paused stream delivered %d SETs", len(p.Sets))
		}
		status(secret, map[string]string{"stream_id": id, "status": "enabled"}).WantStatus(t, 200)
		p := h.poll(secret, id, map[string]any{"returnImmediately": true})
		if sids := h.sessionsOf(p, aud); len(sids) != 1 || sids[0] != u.SessionID {
			t.Fatalf("enabled again: %v, want the sign-out held while paused", sids)
		}
		h.poll(secret, id, map[string]any{"ack": []string{token.SessionRevokedID(u.SessionID, aud)}, "maxEvents": 0})

		// Verification, while a poll is held.
		verifyReq := func(bearer string, body any) response {
			return h.Do(req{Method: "POST", Path: "/ssf/verify", Bearer: bearer, Body: body})
		}
		verifyReq(other, map[string]string{"stream_id": id}).Problem(t, 404, "not_found")
		wantField(t, verifyReq(secret, map[string]string{}), "stream_id")
		held := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			h.Do(req{Method: "POST", Path: "/ssf/poll/" + id, Bearer: secret, Body: map[string]any{}})
			held <- time.Since(start)
		}()
		time.Sleep(200 * time.Millisecond)
		verifyReq(secret, map[string]string{"stream_id": id, "state": "c3RhdGU"}).WantStatus(t, 204)
		asked := time.Now()
		if took := <-held; took > 2*time.Second {
			t.Errorf("the held poll went on %v after a verification request", took)
		}
		var jti string
		for jti == "" {
			if time.Since(asked) > 5*time.Second {
				t.Fatal("no verification SET within 5 s")
			}
			for k, raw := range h.poll(secret, id, map[string]any{"returnImmediately": true}).Sets {
				set, err := verify.ParseSET(context.Background(), raw, h.App.Ring.Key, testIssuer, aud, time.Time{})
				if err != nil || set.Kind != verify.SETVerification || set.State != "c3RhdGU" || set.StreamID != id || set.ID != k {
					t.Fatalf("verification SET %+v, %v", set, err)
				}
				jti = k
			}
		}
		if p := h.poll(secret, id, map[string]any{"returnImmediately": true}); p.Sets[jti] == "" {
			t.Fatal("an unacknowledged verification SET was not sent again")
		}
		if p := h.poll(secret, id, map[string]any{"ack": []string{jti}, "returnImmediately": true}); len(p.Sets) != 0 {
			t.Fatalf("acknowledged, the verification SET came back: %v", p.Sets)
		}
		r := verifyReq(secret, map[string]string{"stream_id": id})
		r.Problem(t, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	})
}

// TestSSFUpdateStream: PATCH changes what it names and keeps the rest; PUT
// resets what it leaves out; a transmitter-supplied member sent back must
// match (400 naming it); another receiver's stream is 404.
func TestSSFUpdateStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	root := h.admin("root@example.com")
	secret := h.addReceiver(root, "svc", "https://svc.example")
	other := h.addReceiver(root, "other", "https://other.example")
	st := h.Do(req{Method: "POST", Path: "/ssf/streams", Bearer: secret, Body: map[string]any{"description": "pod 1"}}).JSON(t)
	id := st["stream_id"].(string)
	upd := func(method, bearer string, body map[string]any) response {
		body["stream_id"] = id
		return h.Do(req{Method: method, Path: "/ssf/streams", Bearer: bearer, Body: body})
	}
	caep := "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	got := upd("PATCH", secret, map[string]any{"events_requested": []string{"urn:example:unknown"}, "iss": testIssuer, "aud": "https://svc.example"}).JSON(t)
	if got["description"] != "pod 1" || len(got["events_delivered"].([]any)) != 0 {
		t.Fatalf("PATCH: %v (description kept, nothing delivered)", got)
	}
	got = upd("PUT", secret, map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8936", "endpoint_url": st["delivery"].(map[string]any)["endpoint_url"].(string)}}).JSON(t)
	if got["description"] != nil || len(got["events_delivered"].([]any)) != 1 || got["events_delivered"].([]any)[0] != caep {
		t.Fatalf("PUT: %v (description gone, every event again)", got)
	}
	wantField(t, upd("PATCH", secret, map[string]any{"aud": "https://elsewhere.example"}), "aud")
	wantField(t, upd("PATCH", secret, map[string]any{"iss": "https://evil.example"}), "iss")
	wantField(t, upd("PATCH", secret, map[string]any{"events_delivered": []string{}}), "events_delivered")
	wantField(t, upd("PATCH", secret, map[string]any{"inactivity_timeout": 1}), "inactivity_timeout")
	wantField(t, upd("PATCH", secret, map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8936", "endpoint_url": "https://x"}}), "delivery.endpoint_url")
	wantField(t, upd("PUT", secret, map[string]any{"delivery": map[string]string{"method": "urn:ietf:rfc:8935"}}), "delivery.method")
	upd("PATCH", other, map[string]any{"description": "mine"}).Problem(t, 404, "not_found")
	wantField(t, h.Do(req{Method: "PATCH", Path: "/ssf/streams", Bearer: secret, Body: map[string]any{"description": "x"}}), "stream_id")
}
