package verify_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey/verify"
)

// testReceiver is the audience of the SETs these tests mint: the
// receiver's, not the access tokens'.
const testReceiver = "https://notes.example.test"

var setKeys = verify.StaticKeys(map[string]ed25519.PublicKey{testKID: testPub})

// baseSET is a valid session-revoked SET as Latchkey mints it.
func baseSET() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer,
		"aud": testReceiver,
		"iat": testNow.Add(-time.Second).Unix(),
		"jti": "sr-session-1",
		"sub_id": map[string]any{
			"format":  "complex",
			"session": map[string]any{"format": "opaque", "id": "session-1"},
			"user":    map[string]any{"format": "iss_sub", "iss": testIssuer, "sub": "user-1"},
		},
		"events": map[string]any{verify.EventSessionRevoked: map[string]any{
			"event_timestamp":   testNow.Add(-2 * time.Second).Unix(),
			"initiating_entity": "user",
			"reason_admin":      map[string]any{"en": "signout"},
		}},
	}
}

// mintSET signs a SET with method and key after letting the caller edit
// the header (a valid SET header to begin with) and the claims.
func mintSET(t testing.TB, method jwt.SigningMethod, key any, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	t.Helper()
	c := baseSET()
	if editC != nil {
		editC(c)
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["typ"] = verify.SETType
	tok.Header["kid"] = testKID
	if editH != nil {
		editH(tok.Header)
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

func mintSETEd(t testing.TB, editH func(map[string]any), editC func(jwt.MapClaims)) string {
	t.Helper()
	return mintSET(t, jwt.SigningMethodEdDSA, testPriv, editH, editC)
}

// event edits the one event's payload.
func event(edit func(ev map[string]any)) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) {
		for _, ev := range c["events"].(map[string]any) {
			edit(ev.(map[string]any))
		}
	}
}

// subject edits sub_id.
func subject(edit func(sub map[string]any)) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) { edit(c["sub_id"].(map[string]any)) }
}

func parseSET(t testing.TB, raw string) (*verify.SET, error) {
	t.Helper()
	return verify.ParseSET(context.Background(), raw, setKeys, testIssuer, testReceiver, testNow)
}

func TestParseSETSessionRevoked(t *testing.T) {
	s, err := parseSET(t, mintSETEd(t, nil, func(c jwt.MapClaims) { c["txn"] = "txn-1" }))
	if err != nil {
		t.Fatal(err)
	}
	want := verify.SET{
		ID: "sr-session-1", Issuer: testIssuer, IssuedAt: testNow.Add(-time.Second), Txn: "txn-1",
		Kind: verify.SETSessionRevoked, EventType: verify.EventSessionRevoked,
		SessionID: "session-1", UserIssuer: testIssuer, UserID: "user-1",
		EventTime: testNow.Add(-2 * time.Second), InitiatingEntity: "user", Reason: "signout",
	}
	got := *s
	got.Audience, got.ReasonAdmin, got.Raw = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if len(s.Audience) != 1 || s.Audience[0] != testReceiver || s.ReasonAdmin["en"] != "signout" || s.Raw["jti"] != "sr-session-1" {
		t.Fatalf("audience %v, reason_admin %v, raw %v", s.Audience, s.ReasonAdmin, s.Raw)
	}
}

func TestParseSETAccepts(t *testing.T) {
	tests := []struct {
		name  string
		token string
		check func(*verify.SET) bool
	}{
		{"typ with media prefix", mintSETEd(t, func(h map[string]any) { h["typ"] = "application/secevent+jwt" }, nil), nil},
		{"typ upper case", mintSETEd(t, func(h map[string]any) { h["typ"] = "SECEVENT+JWT" }, nil), nil},
		{"aud as array", mintSETEd(t, nil, func(c jwt.MapClaims) { c["aud"] = []string{"other", testReceiver} }), nil},
		{"iat just inside the leeway", mintSETEd(t, nil, func(c jwt.MapClaims) { c["iat"] = testNow.Add(29 * time.Second).Unix() }), nil},
		{"old iat", mintSETEd(t, nil, func(c jwt.MapClaims) { c["iat"] = testNow.Add(-24 * time.Hour).Unix() }), nil},
		{"session only", mintSETEd(t, nil, subject(func(s map[string]any) { delete(s, "user") })),
			func(s *verify.SET) bool { return s.SessionID == "session-1" && s.UserID == "" }},
		{"user-scoped with event_timestamp", mintSETEd(t, nil, subject(func(s map[string]any) { delete(s, "session") })),
			func(s *verify.SET) bool {
				return s.SessionID == "" && s.UserID == "user-1" && s.EventTime.Equal(testNow.Add(-2*time.Second))
			}},
		{"no event_timestamp with a session", mintSETEd(t, nil, event(func(ev map[string]any) { delete(ev, "event_timestamp") })),
			func(s *verify.SET) bool { return s.EventTime.IsZero() && s.SessionID == "session-1" }},
		// Commentary of the wrong shape does not stop a revocation.
		{"reason_admin a string", mintSETEd(t, nil, event(func(ev map[string]any) { ev["reason_admin"] = "signout" })),
			func(s *verify.SET) bool { return s.SessionID == "session-1" && s.Reason == "" }},
		{"initiating_entity a number", mintSETEd(t, nil, event(func(ev map[string]any) { ev["initiating_entity"] = 1 })),
			func(s *verify.SET) bool { return s.SessionID == "session-1" && s.InitiatingEntity == "" }},
		{"extra subject members", mintSETEd(t, nil, subject(func(s map[string]any) { s["tenant"] = map[string]any{"format": "opaque", "id": "t"} })), nil},
		{"unknown event type", mintSETEd(t, nil, func(c jwt.MapClaims) {
			c["events"] = map[string]any{"https://example.test/event/other": map[string]any{"x": 1}}
			delete(c, "sub_id")
		}), func(s *verify.SET) bool {
			return s.Kind == verify.SETUnknown && s.EventType == "https://example.test/event/other"
		}},
		{"verification with state", mintSETEd(t, nil, verification("st-1", true)),
			func(s *verify.SET) bool {
				return s.Kind == verify.SETVerification && s.State == "st-1" && s.StreamID == "stream-1"
			}},
		{"stream-updated paused", mintSETEd(t, nil, streamUpdated(map[string]any{"status": "paused", "reason": "maintenance"})),
			func(s *verify.SET) bool {
				return s.Kind == verify.SETStreamUpdated && s.StreamStatus == verify.StreamPaused && s.StreamReason == "maintenance" && s.StreamID == "stream-1"
			}},
		{"stream-updated enabled without reason", mintSETEd(t, nil, streamUpdated(map[string]any{"status": "enabled"})),
			func(s *verify.SET) bool { return s.StreamStatus == verify.StreamEnabled && s.StreamReason == "" }},
		{"verification without state or sub_id", mintSETEd(t, nil, verification("", false)),
			func(s *verify.SET) bool { return s.Kind == verify.SETVerification && s.State == "" && s.StreamID == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSET(t, tc.token)
			if err != nil {
				t.Fatalf("ParseSET: %v (%v)", err, errors.Unwrap(err))
			}
			if tc.check == nil && s.Kind != verify.SETSessionRevoked || tc.check != nil && !tc.check(s) {
				t.Fatalf("parsed %+v", s)
			}
		})
	}
}

// verification makes the SET a verification event, with state when not
// empty and the stream's opaque sub_id when withSub.
func verification(state string, withSub bool) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) {
		ev := map[string]any{}
		if state != "" {
			ev["state"] = state
		}
		c["events"] = map[string]any{verify.EventVerification: ev}
		c["jti"] = "v-1"
		delete(c, "sub_id")
		if withSub {
			c["sub_id"] = map[string]any{"format": "opaque", "id": "stream-1"}
		}
	}
}

// streamUpdated makes the SET a stream-updated event with payload ev,
// about stream-1.
func streamUpdated(ev map[string]any) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) {
		c["events"] = map[string]any{verify.EventStreamUpdated: ev}
		c["sub_id"] = map[string]any{"format": "opaque", "id": "stream-1"}
	}
}

// wantSETError asserts err is a *verify.SETError with code, reason and
// retry, and that its text does not quote the token.
func wantSETError(t *testing.T, err error, token, code, reason string, retry bool) {
	t.Helper()
	var e *verify.SETError
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not *verify.SETError, want %s/%s", err, err, code, reason)
	}
	if e.Code != code || e.Reason != reason || e.Retry != retry {
		t.Fatalf("got %s/%s retry %v (%v), want %s/%s retry %v", e.Code, e.Reason, e.Retry, e.Unwrap(), code, reason, retry)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
			t.Errorf("error text quotes the token: %q", err.Error())
		}
	}
	if e.Description() == "invalid SET" && reason != verify.ReasonInvalid {
		t.Errorf("reason %s has no description of its own", reason)
	}
}

// setRefusals are the SETs ParseSET must refuse, with the setErrs code.
func setRefusals(t *testing.T) []struct {
	name, token, code, reason string
	retry                     bool
} {
	valid := mintSETEd(t, nil, nil)
	parts := strings.Split(valid, ".")
	req, key := verify.SETErrInvalidRequest, verify.SETErrInvalidKey
	delClaim := func(name string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, name) } }
	setClaim := func(name string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[name] = v } }
	hdr := func(h map[string]any) string { return b64json(t, h) + "." + parts[1] + "." + parts[2] }
	return []struct {
		name, token, code, reason string
		retry                     bool
	}{
		// Size and form.
		{"empty", "", req, verify.ReasonMalformed, false},
		{"oversized", strings.Repeat("a", verify.DefaultMaxSize+1), req, verify.ReasonOversized, false},
		{"not compact", valid + "\n", req, verify.ReasonMalformed, false},
		{"two segments", parts[0] + "." + parts[1], req, verify.ReasonMalformed, false},
		// Algorithm.
		{"alg none", mintSET(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil), key, verify.ReasonBadAlg, false},
		{"alg HS256 with the public key bytes", mintSET(t, jwt.SigningMethodHS256, []byte(testPub), nil, nil), key, verify.ReasonBadAlg, false},
		{"alg HS256 with a secret", mintSET(t, jwt.SigningMethodHS256, testSecret, nil, nil), key, verify.ReasonBadAlg, false},
		{"alg RS256", mintSET(t, jwt.SigningMethodRS256, rsaKey(), nil, nil), key, verify.ReasonBadAlg, false},
		{"alg missing", hdr(map[string]any{"typ": verify.SETType, "kid": testKID}), key, verify.ReasonBadAlg, false},
		// Header.
		{"typ at+jwt", mintSETEd(t, func(h map[string]any) { h["typ"] = "at+jwt" }, nil), req, verify.ReasonBadTyp, false},
		{"typ JWT", mintSETEd(t, func(h map[string]any) { h["typ"] = "JWT" }, nil), req, verify.ReasonBadTyp, false},
		{"typ missing", mintSETEd(t, func(h map[string]any) { delete(h, "typ") }, nil), req, verify.ReasonBadTyp, false},
		{"typ not a string", mintSETEd(t, func(h map[string]any) { h["typ"] = []string{verify.SETType} }, nil), req, verify.ReasonBadTyp, false},
		{"crit", mintSETEd(t, func(h map[string]any) { h["crit"] = []string{"exp"} }, nil), req, verify.ReasonCrit, false},
		{"kid not a string", mintSETEd(t, func(h map[string]any) { h["kid"] = 1 }, nil), req, verify.ReasonMalformed, false},
		// Keys: an unknown kid is retried, not reported.
		{"unknown kid", mintSETEd(t, func(h map[string]any) { h["kid"] = "k2" }, nil), key, verify.ReasonUnknownKID, true},
		{"missing kid, which no refetch can find", mintSETEd(t, func(h map[string]any) { delete(h, "kid") }, nil), key, verify.ReasonUnknownKID, false},
		// Signature.
		{"signed by another key", mintSET(t, jwt.SigningMethodEdDSA, attackerPriv, nil, nil), key, verify.ReasonBadSignature, false},
		{"tampered", tamper(t, valid, setClaim("jti", "sr-other")), key, verify.ReasonBadSignature, false},
		// Claims.
		{"wrong iss", mintSETEd(t, nil, setClaim("iss", "https://evil.example")), verify.SETErrInvalidIssuer, verify.ReasonBadIssuer, false},
		{"missing iss", mintSETEd(t, nil, delClaim("iss")), verify.SETErrInvalidIssuer, verify.ReasonBadIssuer, false},
		{"wrong aud", mintSETEd(t, nil, setClaim("aud", testAudience)), verify.SETErrInvalidAudience, verify.ReasonBadAudience, false},
		{"missing aud", mintSETEd(t, nil, delClaim("aud")), verify.SETErrInvalidAudience, verify.ReasonBadAudience, false},
		{"aud not a string", mintSETEd(t, nil, setClaim("aud", 7)), verify.SETErrInvalidAudience, verify.ReasonBadAudience, false},
		{"missing iat", mintSETEd(t, nil, delClaim("iat")), req, verify.ReasonMissingIAT, false},
		{"iat not a number", mintSETEd(t, nil, setClaim("iat", "1")), req, verify.ReasonMalformed, false},
		{"iat past the year 9999", mintSETEd(t, nil, setClaim("iat", 1e300)), req, verify.ReasonMalformed, false},
		{"iat negative", mintSETEd(t, nil, setClaim("iat", -1)), req, verify.ReasonMalformed, false},
		{"future iat", mintSETEd(t, nil, setClaim("iat", testNow.Add(31*time.Second).Unix())), req, verify.ReasonNotYetValid, false},
		{"missing jti", mintSETEd(t, nil, delClaim("jti")), req, verify.ReasonMissingJTI, false},
		{"empty jti", mintSETEd(t, nil, setClaim("jti", "")), req, verify.ReasonMissingJTI, false},
		{"jti not a string", mintSETEd(t, nil, setClaim("jti", 1)), req, verify.ReasonMalformed, false},
		{"exp present", mintSETEd(t, nil, setClaim("exp", testNow.Add(time.Hour).Unix())), req, verify.ReasonExpPresent, false},
		{"sub present", mintSETEd(t, nil, setClaim("sub", "user-1")), req, verify.ReasonSubPresent, false},
		// Events.
		{"zero events", mintSETEd(t, nil, setClaim("events", map[string]any{})), req, verify.ReasonEventCount, false},
		{"no events", mintSETEd(t, nil, delClaim("events")), req, verify.ReasonEventCount, false},
		{"events an array", mintSETEd(t, nil, setClaim("events", []any{verify.EventSessionRevoked})), req, verify.ReasonEventCount, false},
		{"two events", mintSETEd(t, nil, func(c jwt.MapClaims) {
			c["events"].(map[string]any)[verify.EventVerification] = map[string]any{}
		}), req, verify.ReasonEventCount, false},
		{"event payload not an object", mintSETEd(t, nil, setClaim("events", map[string]any{verify.EventSessionRevoked: "x"})), req, verify.ReasonBadEvent, false},
		// Session-revoked subject and payload.
		{"no sub_id", mintSETEd(t, nil, delClaim("sub_id")), req, verify.ReasonBadSubject, false},
		{"opaque sub_id", mintSETEd(t, nil, setClaim("sub_id", map[string]any{"format": "opaque", "id": "session-1"})), req, verify.ReasonBadSubject, false},
		{"complex without session or user", mintSETEd(t, nil, setClaim("sub_id", map[string]any{"format": "complex"})), req, verify.ReasonBadSubject, false},
		{"session id empty", mintSETEd(t, nil, subject(func(s map[string]any) { s["session"] = map[string]any{"format": "opaque", "id": ""} })), req, verify.ReasonBadSubject, false},
		{"session not opaque", mintSETEd(t, nil, subject(func(s map[string]any) { s["session"] = map[string]any{"format": "email", "id": "x"} })), req, verify.ReasonBadSubject, false},
		{"session id a number", mintSETEd(t, nil, subject(func(s map[string]any) { s["session"] = map[string]any{"format": "opaque", "id": 1} })), req, verify.ReasonBadSubject, false},
		{"user of another issuer", mintSETEd(t, nil, subject(func(s map[string]any) {
			s["user"] = map[string]any{"format": "iss_sub", "iss": "https://evil.example", "sub": "user-1"}
		})), req, verify.ReasonBadSubject, false},
		{"user not iss_sub", mintSETEd(t, nil, subject(func(s map[string]any) { s["user"] = map[string]any{"format": "opaque", "id": "user-1"} })), req, verify.ReasonBadSubject, false},
		{"user-scoped without event_timestamp", mintSETEd(t, nil, func(c jwt.MapClaims) {
			subject(func(s map[string]any) { delete(s, "session") })(c)
			event(func(ev map[string]any) { delete(ev, "event_timestamp") })(c)
		}), req, verify.ReasonBadEvent, false},
		{"event_timestamp a string", mintSETEd(t, nil, event(func(ev map[string]any) { ev["event_timestamp"] = "1" })), req, verify.ReasonBadEvent, false},
		{"event_timestamp past the year 9999", mintSETEd(t, nil, event(func(ev map[string]any) { ev["event_timestamp"] = 1e19 })), req, verify.ReasonBadEvent, false},
		{"event_timestamp negative", mintSETEd(t, nil, event(func(ev map[string]any) { ev["event_timestamp"] = -5 })), req, verify.ReasonBadEvent, false},
		// Verification.
		{"verification state a number", mintSETEd(t, nil, func(c jwt.MapClaims) {
			verification("", true)(c)
			c["events"] = map[string]any{verify.EventVerification: map[string]any{"state": 1}}
		}), req, verify.ReasonBadEvent, false},
		{"verification sub_id complex", mintSETEd(t, nil, func(c jwt.MapClaims) {
			verification("s", true)(c)
			c["sub_id"] = baseSET()["sub_id"]
		}), req, verify.ReasonBadSubject, false},
		// Stream-updated.
		{"stream-updated unknown status", mintSETEd(t, nil, streamUpdated(map[string]any{"status": "stopped"})), req, verify.ReasonBadEvent, false},
		{"stream-updated without status", mintSETEd(t, nil, streamUpdated(map[string]any{})), req, verify.ReasonBadEvent, false},
		{"stream-updated complex sub_id", mintSETEd(t, nil, func(c jwt.MapClaims) {
			streamUpdated(map[string]any{"status": "paused"})(c)
			c["sub_id"] = baseSET()["sub_id"]
		}), req, verify.ReasonBadSubject, false},
	}
}

func TestParseSETRejects(t *testing.T) {
	for _, tc := range setRefusals(t) {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSET(t, tc.token)
			if s != nil {
				t.Fatalf("accepted: %+v", s)
			}
			wantSETError(t, err, tc.token, tc.code, tc.reason, tc.retry)
		})
	}
}

// TestParseSETKeyUnavailable: keys that cannot be read are the receiver's
// fault, so the SET is retried.
func TestParseSETKeyUnavailable(t *testing.T) {
	failing := func(context.Context, string, string) (any, error) { return nil, errors.New("jwks down") }
	tok := mintSETEd(t, nil, nil)
	_, err := verify.ParseSET(context.Background(), tok, failing, testIssuer, testReceiver, testNow)
	wantSETError(t, err, tok, verify.SETErrInvalidKey, verify.ReasonKeyUnavailable, true)
	secret := verify.HMACSecret(testSecret)
	_, err = verify.ParseSET(context.Background(), tok, secret, testIssuer, testReceiver, testNow)
	wantSETError(t, err, tok, verify.SETErrInvalidKey, verify.ReasonBadKey, false)
	// Keys that would serve an HMAC secret (an HS256 issuer's) never make
	// an HS256 SET acceptable: the alg is refused before any key is asked.
	hs := mintSET(t, jwt.SigningMethodHS256, testSecret, nil, nil)
	_, err = verify.ParseSET(context.Background(), hs, secret, testIssuer, testReceiver, testNow)
	wantSETError(t, err, hs, verify.SETErrInvalidKey, verify.ReasonBadAlg, false)
	for _, args := range [][2]string{{"", testReceiver}, {testIssuer, ""}} {
		if _, err := verify.ParseSET(context.Background(), tok, setKeys, args[0], args[1], testNow); err == nil || errors.As(err, new(*verify.SETError)) {
			t.Errorf("issuer %q audience %q: %v, want a plain error", args[0], args[1], err)
		}
	}
	if _, err := verify.ParseSET(context.Background(), tok, nil, testIssuer, testReceiver, testNow); err == nil {
		t.Error("nil keys accepted")
	}
}

// TestParseSETClock: the zero time is the real clock, not a clock in the
// year 1 before which every SET would be in the future.
func TestParseSETClock(t *testing.T) {
	tok := mintSETEd(t, nil, func(c jwt.MapClaims) { c["iat"] = time.Now().Unix() })
	if _, err := verify.ParseSET(context.Background(), tok, setKeys, testIssuer, testReceiver, time.Time{}); err != nil {
		t.Fatal(err)
	}
	future := mintSETEd(t, nil, func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })
	_, err := verify.ParseSET(context.Background(), future, setKeys, testIssuer, testReceiver, time.Time{})
	wantSETError(t, err, future, verify.SETErrInvalidRequest, verify.ReasonNotYetValid, false)
}

// TestTokenConfusion: an access token is refused as a SET, and a SET as an
// access token, whatever the verifier's type options (RFC 8725 §3.11).
func TestTokenConfusion(t *testing.T) {
	access := mintEd(t, nil, func(c jwt.MapClaims) { c["aud"] = testReceiver })
	_, err := parseSET(t, access)
	wantSETError(t, err, access, verify.SETErrInvalidRequest, verify.ReasonBadTyp, false)
	// An access token relabelled as a SET still has exp and sub.
	relabelled := mint(t, jwt.SigningMethodEdDSA, testPriv, func(h map[string]any) { h["typ"] = verify.SETType }, func(c jwt.MapClaims) {
		c["aud"] = testReceiver
	})
	_, err = parseSET(t, relabelled)
	wantSETError(t, err, relabelled, verify.SETErrInvalidRequest, verify.ReasonExpPresent, false)
	noExp := mint(t, jwt.SigningMethodEdDSA, testPriv, func(h map[string]any) { h["typ"] = verify.SETType }, func(c jwt.MapClaims) {
		c["aud"] = testReceiver
		delete(c, "exp")
	})
	_, err = parseSET(t, noExp)
	wantSETError(t, err, noExp, verify.SETErrInvalidRequest, verify.ReasonSubPresent, false)

	set := mintSETEd(t, nil, func(c jwt.MapClaims) { c["aud"] = testAudience })
	untyped := mintSETEd(t, func(h map[string]any) { delete(h, "typ") }, func(c jwt.MapClaims) { c["aud"] = testAudience })
	plain := edConfig()
	noType := edConfig()
	noType.AllowNoType = true
	setType := edConfig()
	setType.Type = verify.SETType
	for _, tc := range []struct {
		name   string
		cfg    verify.Config
		token  string
		reason string
	}{
		{"default config", plain, set, verify.ReasonBadTyp},
		{"AllowNoType", noType, set, verify.ReasonBadTyp},
		{"AllowNoType, typ stripped", noType, untyped, verify.ReasonMissingExp},
		{"Type secevent+jwt", setType, set, verify.ReasonMissingExp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newVerifier(t, tc.cfg).Verify(context.Background(), tc.token)
			wantError(t, err, tc.token, verify.CodeInvalidToken, tc.reason)
		})
	}
}

// TestSETErrorText: the text is fixed by code and reason.
func TestSETErrorText(t *testing.T) {
	e := &verify.SETError{Code: verify.SETErrInvalidKey, Reason: verify.ReasonUnknownKID, Err: errors.New("kid k9 secret")}
	if got := e.Error(); got != "verify: SET invalid_key (unknown_kid): unknown signing key" {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(e, e.Err) {
		t.Fatal("Unwrap lost the cause")
	}
}
