package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

const (
	setIssuer   = "https://auth.example.test"
	setAudience = "https://notes.example.test"
)

// setNow is a time the rings' first key has long been active at.
var setNow = time.Now().Add(time.Minute).Truncate(time.Second)

// setRing opens a ring over store with its clock at setNow.
func setRing(t *testing.T, store latchkey.Store) *KeyRing {
	t.Helper()
	ring, err := OpenKeyRing(context.Background(), store, testSealer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ring.now = func() time.Time { return setNow }
	if err := ring.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ring
}

func newSETSigner(t *testing.T, ring *KeyRing) *SETSigner {
	t.Helper()
	s, err := NewSETSigner(setIssuer, ring, func() time.Time { return setNow })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var signout = Revocation{SessionID: "s-1", UserID: "u-1", Reason: latchkey.ReasonSignout, RevokedAt: setNow.Add(-time.Second)}

// segment decodes a compact JWS's header (0) or payload (1).
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonOf normalises v through JSON, to compare with a decoded segment.
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSessionRevokedSET: the golden SET of issue 15, minted here and read
// back by verify.ParseSET with the ring's keys.
func TestSessionRevokedSET(t *testing.T) {
	ring := setRing(t, openStore(t))
	s := newSETSigner(t, ring)
	rev := signout
	rev.Txn = "txn-1"
	tok, err := s.SessionRevoked(setAudience, rev)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := ring.signer()
	if h := segment(t, tok, 0); !reflect.DeepEqual(h, map[string]any{"alg": "EdDSA", "kid": kid, "typ": "secevent+jwt"}) {
		t.Fatalf("header %v", h)
	}
	golden := jsonOf(t, map[string]any{
		"iss": setIssuer,
		"aud": setAudience,
		"iat": setNow.Add(-time.Second).Unix(), // the revocation's time
		"jti": SessionRevokedID("s-1", setAudience),
		"txn": "txn-1",
		"sub_id": map[string]any{
			"format":  "complex",
			"session": map[string]any{"format": "opaque", "id": "s-1"},
			"user":    map[string]any{"format": "iss_sub", "iss": setIssuer, "sub": "u-1"},
		},
		"events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{
			"event_timestamp":   setNow.Add(-time.Second).Unix(),
			"initiating_entity": "user",
			"reason_admin":      map[string]any{"en": "signout"},
		}},
	})
	if got := segment(t, tok, 1); !reflect.DeepEqual(got, golden) {
		t.Fatalf("claims\n got %v\nwant %v", got, golden)
	}

	set, err := verify.ParseSET(context.Background(), tok, ring.Key, setIssuer, setAudience, setNow)
	if err != nil {
		t.Fatal(err)
	}
	if set.Kind != verify.SETSessionRevoked || set.ID != SessionRevokedID("s-1", setAudience) || set.SessionID != "s-1" || set.UserID != "u-1" ||
		set.UserIssuer != setIssuer || !set.EventTime.Equal(rev.RevokedAt) || set.InitiatingEntity != latchkey.EntityUser ||
		set.Reason != latchkey.ReasonSignout || set.Txn != "txn-1" || !set.IssuedAt.Equal(rev.RevokedAt) {
		t.Fatalf("parsed %+v", set)
	}
	// Another receiver's audience is refused.
	if _, err := verify.ParseSET(context.Background(), tok, ring.Key, setIssuer, "latchkey", setNow); err == nil {
		t.Fatal("SET accepted for another audience")
	}
}

// TestSETInitiatingEntity: the event's initiating_entity follows the
// session's reason; no reason is "system", without reason_admin.
func TestSETInitiatingEntity(t *testing.T) {
	s := newSETSigner(t, setRing(t, openStore(t)))
	for reason, want := range map[string]string{
		latchkey.ReasonUserDisabled:  latchkey.EntityAdmin,
		latchkey.ReasonRefreshReuse:  latchkey.EntityPolicy,
		latchkey.ReasonSessionLimit:  latchkey.EntityPolicy,
		latchkey.ReasonPasswordReset: latchkey.EntityUser,
		"":                           latchkey.EntitySystem,
	} {
		rev := signout
		rev.Reason = reason
		tok, err := s.SessionRevoked(setAudience, rev)
		if err != nil {
			t.Fatal(err)
		}
		ev := segment(t, tok, 1)["events"].(map[string]any)[verify.EventSessionRevoked].(map[string]any)
		if ev["initiating_entity"] != want {
			t.Errorf("reason %q: initiating_entity %v, want %s", reason, ev["initiating_entity"], want)
		}
		if ra, ok := ev["reason_admin"]; reason == "" && ok || reason != "" && !reflect.DeepEqual(ra, map[string]any{"en": reason}) {
			t.Errorf("reason %q: reason_admin %v", reason, ra)
		}
	}
}

// TestSETDeterministicID: every mint of one revocation for one receiver,
// on any instance sharing the store's keys, at any time, is the same bytes
// (the jti is the session's and the receiver's, iat the revocation's, and
// Ed25519 signatures are deterministic); another session or another
// receiver gets another jti, which SessionOfJTI takes back to the session.
func TestSETDeterministicID(t *testing.T) {
	store := openStore(t)
	a, b := newSETSigner(t, setRing(t, store)), newSETSigner(t, setRing(t, store))
	a1, err := a.SessionRevoked(setAudience, signout)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := a.SessionRevoked(setAudience, signout)
	b1, _ := b.SessionRevoked(setAudience, signout)
	later := *b
	later.now = func() time.Time { return setNow.Add(time.Minute) }
	b2, _ := later.SessionRevoked(setAudience, signout)
	if a1 != a2 || a1 != b1 || b2 != b1 {
		t.Fatal("mints of one revocation for one receiver differ")
	}
	jti := segment(t, a1, 1)["jti"].(string)
	if jti != SessionRevokedID("s-1", setAudience) {
		t.Fatalf("jti %q", jti)
	}
	if got := segment(t, a1, 1)["iat"]; got != float64(signout.RevokedAt.Unix()) {
		t.Fatalf("iat %v, want the revocation's time %d", got, signout.RevokedAt.Unix())
	}
	other := signout
	other.SessionID = "s-2"
	o, _ := a.SessionRevoked(setAudience, other)
	elsewhere, _ := a.SessionRevoked("https://other.example", signout)
	if segment(t, o, 1)["jti"] == jti || segment(t, elsewhere, 1)["jti"] == jti {
		t.Fatal("two sessions, or two receivers, share a jti")
	}
	if sid, ok := SessionOfJTI(jti, setAudience); !ok || sid != "s-1" {
		t.Fatalf("SessionOfJTI(%q) = %q, %v", jti, sid, ok)
	}
	uuidSID := "01a23cd8-0ff0-753a-b583-0dd2023b6761"
	if sid, ok := SessionOfJTI(SessionRevokedID(uuidSID, setAudience), setAudience); !ok || sid != uuidSID {
		t.Fatalf("a UUID session back: %q, %v", sid, ok)
	}
	for _, bad := range []string{segment(t, elsewhere, 1)["jti"].(string), "sr-s-1", "s-1", "sr-." + "x", "", "sr-s-1.AAAAAAAAAAA"} {
		if sid, ok := SessionOfJTI(bad, setAudience); ok {
			t.Errorf("SessionOfJTI(%q) = %q, true", bad, sid)
		}
	}
}

func TestVerificationSET(t *testing.T) {
	ring := setRing(t, openStore(t))
	s := newSETSigner(t, ring)
	tok, err := s.Verification(setAudience, "stream-1", "st-1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := segment(t, tok, 1)
	if !reflect.DeepEqual(c["sub_id"], map[string]any{"format": "opaque", "id": "stream-1"}) ||
		!reflect.DeepEqual(c["events"], map[string]any{verify.EventVerification: map[string]any{"state": "st-1"}}) {
		t.Fatalf("claims %v", c)
	}
	for _, absent := range []string{"exp", "sub", "txn"} {
		if _, ok := c[absent]; ok {
			t.Errorf("verification SET has %s", absent)
		}
	}
	set, err := verify.ParseSET(context.Background(), tok, ring.Key, setIssuer, setAudience, setNow)
	if err != nil {
		t.Fatal(err)
	}
	if set.Kind != verify.SETVerification || set.State != "st-1" || set.StreamID != "stream-1" || set.ID == "" {
		t.Fatalf("parsed %+v", set)
	}
	again, _ := s.Verification(setAudience, "stream-1", "st-1", "")
	if segment(t, again, 1)["jti"] == c["jti"] {
		t.Fatal("two verification SETs share a jti")
	}
	if given, _ := s.Verification(setAudience, "stream-1", "st-1", "sv-given"); segment(t, given, 1)["jti"] != "sv-given" {
		t.Fatal("a given jti was not used")
	}
	noState, _ := s.Verification(setAudience, "stream-1", "", "")
	if ev := segment(t, noState, 1)["events"].(map[string]any)[verify.EventVerification]; !reflect.DeepEqual(ev, map[string]any{}) {
		t.Fatalf("event without state: %v", ev)
	}
}

func TestStreamUpdatedSET(t *testing.T) {
	ring := setRing(t, openStore(t))
	s := newSETSigner(t, ring)
	tok, err := s.StreamUpdated(setAudience, "stream-1", verify.StreamPaused, "maintenance")
	if err != nil {
		t.Fatal(err)
	}
	if ev := segment(t, tok, 1)["events"]; !reflect.DeepEqual(ev, map[string]any{
		verify.EventStreamUpdated: map[string]any{"status": "paused", "reason": "maintenance"},
	}) {
		t.Fatalf("events %v", ev)
	}
	set, err := verify.ParseSET(context.Background(), tok, ring.Key, setIssuer, setAudience, setNow)
	if err != nil {
		t.Fatal(err)
	}
	if set.Kind != verify.SETStreamUpdated || set.StreamStatus != verify.StreamPaused || set.StreamReason != "maintenance" || set.StreamID != "stream-1" {
		t.Fatalf("parsed %+v", set)
	}
	for _, bad := range [][3]string{{"", "stream-1", "paused"}, {setAudience, "", "paused"}, {setAudience, "stream-1", "stopped"}} {
		if _, err := s.StreamUpdated(bad[0], bad[1], bad[2], ""); err == nil {
			t.Errorf("%v minted", bad)
		}
	}
}

// TestSETConfusion: Latchkey's SETs are refused as access tokens, and its
// access tokens as SETs, with the same keys, issuer and audience.
func TestSETConfusion(t *testing.T) {
	ring := setRing(t, openStore(t))
	s := newSETSigner(t, ring)
	set, err := s.SessionRevoked(setAudience, signout)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.Config{Issuer: setIssuer, Audience: setAudience, Keys: ring.Key, AllowNoType: true})
	if err != nil {
		t.Fatal(err)
	}
	var e *verify.Error
	if _, err := v.Verify(context.Background(), set); !errors.As(err, &e) || e.Reason != verify.ReasonBadTyp {
		t.Fatalf("SET as an access token: %v", err)
	}
	is := &Issuer{Issuer: setIssuer, Audience: setAudience, TTL: time.Minute, Ring: ring, Now: func() time.Time { return setNow }}
	access, err := is.Issue(&latchkey.User{ID: "u-1", Role: latchkey.RoleUser}, "s-1", pwd)
	if err != nil {
		t.Fatal(err)
	}
	var se *verify.SETError
	if _, err := verify.ParseSET(context.Background(), access, ring.Key, setIssuer, setAudience, setNow); !errors.As(err, &se) || se.Reason != verify.ReasonBadTyp {
		t.Fatalf("access token as a SET: %v", err)
	}
}

func TestSETSignerRefuses(t *testing.T) {
	if _, err := NewSETSigner(setIssuer, nil, nil); !errors.Is(err, ErrSETsNeedKeyRing) {
		t.Fatalf("without a ring (HS256 mode): %v", err)
	}
	ring := setRing(t, openStore(t))
	if _, err := NewSETSigner("", ring, nil); err == nil {
		t.Fatal("no issuer accepted")
	}
	s := newSETSigner(t, ring)
	for _, r := range []Revocation{
		{UserID: "u", RevokedAt: setNow},
		{SessionID: "s", RevokedAt: setNow},
		{SessionID: "s", UserID: "u"},
	} {
		if _, err := s.SessionRevoked(setAudience, r); err == nil {
			t.Errorf("%+v minted", r)
		}
	}
	if _, err := s.SessionRevoked("", signout); err == nil {
		t.Error("no audience minted")
	}
	if _, err := s.Verification(setAudience, "", "x", ""); err == nil {
		t.Error("verification without a stream minted")
	}
}
