package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

var setCodes = map[string]bool{
	verify.SETErrInvalidRequest:  true,
	verify.SETErrInvalidKey:      true,
	verify.SETErrInvalidIssuer:   true,
	verify.SETErrInvalidAudience: true,
}

// signPayload signs payload, as given, under a valid SET header: the
// signature is good whatever the claims are, so the claim rules alone
// decide.
func signPayload(payload string) string {
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k1","typ":"secevent+jwt"}`)) +
		"." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(testPriv, []byte(input)))
}

// FuzzParseSET feeds ParseSET arbitrary strings as SETs, and arbitrary
// claims signed with the right key. It must never panic and return exactly
// one of a SET and an error; the error must be a *SETError with an RFC
// 8935 code, retried only for a key it could not find, and its text must
// depend on code and reason only. An accepted SET must meet every rule:
// issuer, audience, jti, iat not in the future, no exp or sub, one event,
// and for session-revoked a session or a user with its event time.
func FuzzParseSET(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "..", "eyJ.eyJ.", "\x00.\xff."} {
		f.Add(s, "")
	}
	f.Add(mintSETEd(f, nil, nil), `{"iss":"`+testIssuer+`"}`)
	f.Add(mintSETEd(f, nil, verification("st", true)), `{"events":{}}`)
	f.Add(mintSETEd(f, nil, streamUpdated(map[string]any{"status": "paused"})), `{"events":{"`+verify.EventStreamUpdated+`":{"status":"disabled"}}}`)
	f.Add(mintSETEd(f, func(h map[string]any) { h["kid"] = "k9" }, nil), `null`)
	f.Add(mintSETEd(f, func(h map[string]any) { h["crit"] = []string{} }, nil), `[]`)
	f.Add(mintEd(f, nil, func(c jwt.MapClaims) { c["aud"] = testReceiver }), `{"events":{"x":{}},"jti":"j","iat":1,"iss":"`+testIssuer+`","aud":"`+testReceiver+`"}`)
	for _, edit := range []func(jwt.MapClaims){
		nil,
		subject(func(s map[string]any) { delete(s, "session") }),
		func(c jwt.MapClaims) { c["exp"] = 1 },
		func(c jwt.MapClaims) { c["aud"] = []any{testReceiver, 1} },
	} {
		c := baseSET()
		if edit != nil {
			edit(c)
		}
		b, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("", string(b))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw, payload string) {
		for _, tok := range []string{raw, signPayload(payload)} {
			s, err := verify.ParseSET(ctx, tok, setKeys, testIssuer, testReceiver, testNow)
			if (s == nil) == (err == nil) {
				t.Fatalf("SET %v and error %v", s, err)
			}
			if err != nil {
				checkSETError(t, err)
				continue
			}
			checkSET(t, s)
		}
	})
}

func checkSETError(t *testing.T, err error) {
	t.Helper()
	var e *verify.SETError
	if !errors.As(err, &e) || e != err {
		t.Fatalf("error %T %v", err, err)
	}
	if !setCodes[e.Code] || e.Reason == "" || strings.ContainsAny(e.Reason, " \"") {
		t.Fatalf("code %q reason %q", e.Code, e.Reason)
	}
	if e.Retry && (e.Code != verify.SETErrInvalidKey || e.Reason != verify.ReasonUnknownKID && e.Reason != verify.ReasonKeyUnavailable) {
		t.Fatalf("retry for %s/%s", e.Code, e.Reason)
	}
	if e.Error() != (&verify.SETError{Code: e.Code, Reason: e.Reason}).Error() {
		t.Fatalf("error text depends on more than code and reason: %q", e.Error())
	}
}

func checkSET(t *testing.T, s *verify.SET) {
	t.Helper()
	_, exp := s.Raw["exp"]
	_, sub := s.Raw["sub"]
	events, _ := s.Raw["events"].(map[string]any)
	switch {
	case s.Issuer != testIssuer || s.Raw["iss"] != testIssuer:
		t.Fatalf("issuer %q", s.Issuer)
	case !slices.Contains(s.Audience, testReceiver):
		t.Fatalf("audience %v", s.Audience)
	case s.ID == "" || s.IssuedAt.Before(time.Unix(0, 0)) || s.IssuedAt.After(testNow.Add(verify.DefaultLeeway)):
		t.Fatalf("jti %q iat %v", s.ID, s.IssuedAt)
	case exp || sub || len(events) != 1 || events[s.EventType] == nil:
		t.Fatalf("claims %v", s.Raw)
	}
	switch s.Kind {
	case verify.SETSessionRevoked:
		if s.EventType != verify.EventSessionRevoked || s.SessionID == "" && (s.UserID == "" || s.EventTime.IsZero()) ||
			s.UserID != "" && s.UserIssuer != testIssuer || !s.EventTime.IsZero() && (s.EventTime.Before(time.Unix(0, 0)) || s.EventTime.Year() > 9999) {
			t.Fatalf("session-revoked %+v", s)
		}
	case verify.SETVerification:
		if s.EventType != verify.EventVerification || s.SessionID != "" || s.UserID != "" {
			t.Fatalf("verification %+v", s)
		}
	case verify.SETStreamUpdated:
		if s.EventType != verify.EventStreamUpdated || s.StreamStatus != verify.StreamEnabled &&
			s.StreamStatus != verify.StreamPaused && s.StreamStatus != verify.StreamDisabled {
			t.Fatalf("stream-updated %+v", s)
		}
	case verify.SETUnknown:
		if s.EventType == verify.EventSessionRevoked || s.EventType == verify.EventVerification || s.EventType == verify.EventStreamUpdated {
			t.Fatalf("known event as unknown: %+v", s)
		}
	default:
		t.Fatalf("kind %q", s.Kind)
	}
}
