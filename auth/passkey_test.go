package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	vw "github.com/descope/virtualwebauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/auth"
	"github.com/latchkey/latchkey/internal/app"
	"github.com/latchkey/latchkey/internal/testkit"
)

// The service-level tests of passkeys answer Latchkey's options with a
// virtual authenticator in Go (descope/virtualwebauthn): it signs with
// real P-256 keys and lets a test set each flag (UV, BE, BS), the counter,
// the origin and the RP ID it claims.

// rpOK is the relying party as the browser sees it under testkit.Issuer
// (http://localhost:8080): RP ID localhost, the issuer's origin.
var rpOK = testkit.PasskeyRP

type passkeyEnv struct {
	t     *testing.T
	a     *app.App
	s     *auth.Service
	clock *testkit.Clock
	log   *testkit.LogBuffer
}

func newPasskeyEnv(t *testing.T) *passkeyEnv {
	t.Helper()
	e := &passkeyEnv{t: t, clock: testkit.NewClock(), log: &testkit.LogBuffer{}}
	cfg := testkit.Config(t)
	cfg.Now = e.clock.Now
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(e.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.a, e.s = a, a.Auth
	return e
}

func (e *passkeyEnv) signUp(email string) *latchkey.User {
	e.t.Helper()
	g, err := e.s.SignUp(context.Background(), email, testkit.Password, "", auth.Client{})
	if err != nil {
		e.t.Fatal(err)
	}
	return g.User
}

// device is a virtual authenticator holding one credential of a user.
type device struct {
	auth vw.Authenticator
	cred vw.Credential
}

func newDevice(u *latchkey.User, opts vw.AuthenticatorOptions) *device {
	opts.UserHandle = []byte(u.ID)
	return &device{auth: vw.NewAuthenticatorWithOptions(opts), cred: testkit.NewCredential()}
}

// beginRegister is the first step of adding d's passkey to u, and the
// parsed options.
func (e *passkeyEnv) beginRegister(u *latchkey.User) (*auth.PasskeyRegistration, *vw.AttestationOptions) {
	e.t.Helper()
	reg, err := e.s.BeginPasskeyRegistration(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(reg.Options)
	if err != nil {
		e.t.Fatal(err)
	}
	opts, err := vw.ParseAttestationOptions(string(b))
	if err != nil {
		e.t.Fatal(err)
	}
	return reg, opts
}

// finishRegister answers reg with d as rp sees it.
func (e *passkeyEnv) finishRegister(u *latchkey.User, d *device, rp vw.RelyingParty, reg *auth.PasskeyRegistration, opts *vw.AttestationOptions) (*latchkey.Passkey, error) {
	resp := vw.CreateAttestationResponse(rp, d.auth, d.cred, *opts)
	return e.s.FinishPasskeyRegistration(context.Background(), auth.Client{IP: "192.0.2.9"}, u, reg.ChallengeID, []byte(resp), "My key")
}

// register adds d's passkey to u in one go.
func (e *passkeyEnv) register(u *latchkey.User, d *device, rp vw.RelyingParty) (*latchkey.Passkey, error) {
	e.t.Helper()
	reg, opts := e.beginRegister(u)
	return e.finishRegister(u, d, rp, reg, opts)
}

// beginSignIn is the first step of a passkey sign-in, and its options.
func (e *passkeyEnv) beginSignIn() (*auth.PasskeySignIn, *vw.AssertionOptions) {
	e.t.Helper()
	in, err := e.s.BeginPasskeySignIn(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(in.Options)
	if err != nil {
		e.t.Fatal(err)
	}
	opts, err := vw.ParseAssertionOptions(string(b))
	if err != nil {
		e.t.Fatal(err)
	}
	return in, opts
}

// assert is d's assertion to opts with its counter at counter.
func assertion(d *device, rp vw.RelyingParty, opts *vw.AssertionOptions, counter uint32) []byte {
	d.cred.Counter = counter
	return []byte(vw.CreateAssertionResponse(rp, d.auth, d.cred, *opts))
}

// signIn signs in with d, its counter at counter, in one go.
func (e *passkeyEnv) signIn(d *device, rp vw.RelyingParty, counter uint32) (*auth.PasskeyLogin, error) {
	e.t.Helper()
	in, opts := e.beginSignIn()
	return e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, assertion(d, rp, opts, counter))
}

func wantErrCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if latchkey.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func TestPasskeyRegisterAndSignIn(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("ada@example.com")
	reg, opts := e.beginRegister(u)
	o := reg.Options
	if o.RelyingParty.ID != "localhost" || o.AuthenticatorSelection.ResidentKey != "required" ||
		o.AuthenticatorSelection.UserVerification != "required" || len(o.CredentialExcludeList) != 0 ||
		len(o.Challenge) != latchkey.WebAuthnChallengeLen || !reg.ExpiresAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("creation options %+v, expires %v", o, reg.ExpiresAt)
	}
	hw := newDevice(u, vw.AuthenticatorOptions{})
	p, err := e.finishRegister(u, hw, rpOK, reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.CredentialID, hw.cred.ID) || !p.UserVerified || p.BackupEligible || p.Name != "My key" {
		t.Fatalf("registered %+v", p)
	}
	// The next registration excludes the passkey the user has.
	reg2, opts2 := e.beginRegister(u)
	if len(opts2.ExcludeCredentials) != 1 || opts2.ExcludeCredentials[0] != base64.RawURLEncoding.EncodeToString(hw.cred.ID) {
		t.Fatalf("excludeCredentials %v, want the first passkey's ID", opts2.ExcludeCredentials)
	}
	synced := newDevice(u, vw.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	if _, err := e.finishRegister(u, synced, rpOK, reg2, opts2); err != nil {
		t.Fatal(err)
	}

	in, aopts := e.beginSignIn()
	if in.Options.UserVerification != "required" || len(in.Options.AllowedCredentials) != 0 || in.Options.RelyingPartyID != "localhost" {
		t.Fatalf("request options %+v: want UV required, no allowCredentials (discoverable)", in.Options)
	}
	e.clock.Advance(time.Minute)
	login, err := e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, assertion(hw, rpOK, aopts, 1))
	if err != nil {
		t.Fatal(err)
	}
	if login.User.ID != u.ID || login.Passkey.ID != p.ID || !slices.Equal(login.AMR, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("signed in as %s with %s, amr %v", login.User.ID, login.Passkey.ID, login.AMR)
	}
	stored, err := e.a.Store.FindPasskeyByCredentialID(context.Background(), hw.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SignCount != 1 || !stored.LastUsedAt.Equal(e.clock.Now()) {
		t.Fatalf("after sign-in: count %d, last used %v", stored.SignCount, stored.LastUsedAt)
	}
	// A synced passkey is a software key; one without a counter sends 0
	// every time.
	for range 2 {
		login, err = e.signIn(synced, rpOK, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(login.AMR, []string{"swk", "user", "mfa"}) {
			t.Fatalf("synced passkey's amr %v", login.AMR)
		}
	}
}

// TestPasskeyUserVerification: without the UV flag, neither a
// registration nor a sign-in passes.
func TestPasskeyUserVerification(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("uv@example.com")
	_, err := e.register(u, newDevice(u, vw.AuthenticatorOptions{UserNotVerified: true}), rpOK)
	wantErrCode(t, err, latchkey.EVALIDATION, "registration without UV")
	if keys, _ := e.a.Store.ListPasskeys(context.Background(), u.ID); len(keys) != 0 {
		t.Fatalf("stored %d passkeys registered without UV", len(keys))
	}
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	d.auth.Options.UserNotVerified = true
	_, err = e.signIn(d, rpOK, 1)
	wantErrCode(t, err, latchkey.EINVALIDCREDENTIALS, "sign-in without UV")
	d.auth.Options.UserNotVerified = false
	if _, err := e.signIn(d, rpOK, 2); err != nil {
		t.Fatal(err)
	}
}

// TestPasskeyChallengeOnce: a challenge answers one ceremony, of its own
// kind and user, within 5 minutes.
func TestPasskeyChallengeOnce(t *testing.T) {
	e := newPasskeyEnv(t)
	u, other := e.signUp("once@example.com"), e.signUp("other@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	reg, opts := e.beginRegister(u)
	// Another user cannot finish it, and does not use it up.
	_, err := e.finishRegister(other, newDevice(other, vw.AuthenticatorOptions{}), rpOK, reg, opts)
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "another user's registration challenge")
	if _, err := e.finishRegister(u, d, rpOK, reg, opts); err != nil {
		t.Fatal(err)
	}
	_, err = e.finishRegister(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK, reg, opts)
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "a registration challenge used twice")

	in, aopts := e.beginSignIn()
	cred := assertion(d, rpOK, aopts, 1)
	if _, err := e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, cred); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, assertion(d, rpOK, aopts, 2))
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "a sign-in challenge used twice")
	// A registration challenge is no sign-in challenge.
	reg, _ = e.beginRegister(u)
	_, err = e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, reg.ChallengeID, assertion(d, rpOK, aopts, 3))
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "a registration challenge at sign-in")

	// Expiry, on the service's clock.
	in, aopts = e.beginSignIn()
	e.clock.Advance(latchkey.WebAuthnChallengeTTL)
	_, err = e.s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, assertion(d, rpOK, aopts, 4))
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "an expired sign-in challenge")
	reg, opts = e.beginRegister(u)
	e.clock.Advance(latchkey.WebAuthnChallengeTTL - time.Second)
	if _, err := e.finishRegister(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK, reg, opts); err != nil {
		t.Fatalf("a registration a second before expiry: %v", err)
	}
	reg, opts = e.beginRegister(u)
	e.clock.Advance(latchkey.WebAuthnChallengeTTL)
	_, err = e.finishRegister(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK, reg, opts)
	wantErrCode(t, err, latchkey.EINVALIDONETIME, "an expired registration challenge")
}

// TestPasskeyOriginAndRPID: an answer made for another origin or another
// RP ID is refused, at registration and at sign-in.
func TestPasskeyOriginAndRPID(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("origin@example.com")
	evilOrigin := rpOK
	evilOrigin.Origin = "https://evil.example"
	evilRP := rpOK
	evilRP.ID = "evil.example"
	for _, rp := range []vw.RelyingParty{evilOrigin, evilRP} {
		_, err := e.register(u, newDevice(u, vw.AuthenticatorOptions{}), rp)
		wantErrCode(t, err, latchkey.EVALIDATION, "registration for "+rp.ID+" at "+rp.Origin)
	}
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	for i, rp := range []vw.RelyingParty{evilOrigin, evilRP} {
		_, err := e.signIn(d, rp, uint32(i+1))
		wantErrCode(t, err, latchkey.EINVALIDCREDENTIALS, "sign-in for "+rp.ID+" at "+rp.Origin)
	}
	if _, err := e.signIn(d, rpOK, 3); err != nil {
		t.Fatal(err)
	}
}

// TestPasskeyCounterBackwards: a sign counter that does not move forward
// is refused and audited; the stored counter stays.
func TestPasskeyCounterBackwards(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("clone@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signIn(d, rpOK, 5); err != nil {
		t.Fatal(err)
	}
	for _, c := range []uint32{3, 5, 0} {
		_, err := e.signIn(d, rpOK, c)
		wantErrCode(t, err, latchkey.EINVALIDCREDENTIALS, "counter 5 -> "+string(rune('0'+c)))
	}
	if got := strings.Count(e.log.String(), "reason=passkey_counter"); got != 3 {
		t.Fatalf("%d passkey_counter audit lines, want 3; log:\n%s", got, e.log)
	}
	if !strings.Contains(e.log.String(), "type=signin_failed") || !strings.Contains(e.log.String(), "user_id="+u.ID) {
		t.Fatalf("the audit lines do not name the failure and the user:\n%s", e.log)
	}
	stored, err := e.a.Store.FindPasskeyByCredentialID(context.Background(), d.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SignCount != 5 {
		t.Fatalf("stored counter %d after refused assertions, want 5", stored.SignCount)
	}
	if _, err := e.signIn(d, rpOK, 6); err != nil {
		t.Fatal(err)
	}
}

// TestPasskeyCap: the 11th passkey is refused, when its ceremony begins
// and, when ten were added meanwhile, when it ends.
func TestPasskeyCap(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("many@example.com")
	for i := 0; i < latchkey.MaxPasskeys-1; i++ {
		if _, err := e.register(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK); err != nil {
			t.Fatalf("passkey %d: %v", i+1, err)
		}
	}
	reg10, opts10 := e.beginRegister(u)
	reg11, opts11 := e.beginRegister(u)
	if _, err := e.finishRegister(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK, reg10, opts10); err != nil {
		t.Fatal(err)
	}
	_, err := e.finishRegister(u, newDevice(u, vw.AuthenticatorOptions{}), rpOK, reg11, opts11)
	wantErrCode(t, err, latchkey.EINVALID, "the 11th passkey")
	_, err = e.s.BeginPasskeyRegistration(context.Background(), u)
	wantErrCode(t, err, latchkey.EINVALID, "beginning an 11th passkey")
	if keys, _ := e.a.Store.ListPasskeys(context.Background(), u.ID); len(keys) != latchkey.MaxPasskeys {
		t.Fatalf("%d passkeys stored, want %d", len(keys), latchkey.MaxPasskeys)
	}
}

// TestPasskeyOtherUsersHandle: an assertion whose user handle names
// another user than the passkey's is refused.
func TestPasskeyOtherUsersHandle(t *testing.T) {
	e := newPasskeyEnv(t)
	u, other := e.signUp("owner@example.com"), e.signUp("victim@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	d.auth.Options.UserHandle = []byte(other.ID)
	_, err := e.signIn(d, rpOK, 1)
	wantErrCode(t, err, latchkey.EINVALIDCREDENTIALS, "another user's handle")
}

// TestPasskeyNames: a name is trimmed, defaulted, and held to the
// text-field rules; renaming checks the same.
func TestPasskeyNames(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("names@example.com")
	reg, opts := e.beginRegister(u)
	resp := vw.CreateAttestationResponse(rpOK, newDevice(u, vw.AuthenticatorOptions{}).auth, testkit.NewCredential(), *opts)
	_, err := e.s.FinishPasskeyRegistration(context.Background(), auth.Client{}, u, reg.ChallengeID, []byte(resp), "bad\u202ename")
	wantErrCode(t, err, latchkey.EVALIDATION, "a name with a bidi control")
	// A refused name does not use the challenge up.
	p, err := e.s.FinishPasskeyRegistration(context.Background(), auth.Client{}, u, reg.ChallengeID, []byte(resp), "  ")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != auth.DefaultPasskeyName {
		t.Fatalf("blank name stored as %q", p.Name)
	}
	_, err = e.s.RenamePasskey(context.Background(), u.ID, p.ID, strings.Repeat("x", auth.MaxPasskeyNameLen+1))
	wantErrCode(t, err, latchkey.EVALIDATION, "a long name")
	if got, err := e.s.RenamePasskey(context.Background(), u.ID, p.ID, " Work laptop "); err != nil || got.Name != "Work laptop" {
		t.Fatalf("rename: %+v, %v", got, err)
	}
	keys, _ := e.a.Store.ListPasskeys(context.Background(), u.ID)
	if len(keys) != 1 || keys[0].Name != "Work laptop" {
		t.Fatalf("after rename: %+v", keys)
	}
}

func TestNewWebAuthn(t *testing.T) {
	w, err := auth.NewWebAuthn("https://Auth.Example.com:8443/base", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.Config.RPID != "auth.example.com" || !slices.Equal(w.Config.RPOrigins, []string{"https://Auth.Example.com:8443"}) {
		t.Fatalf("defaults: RP ID %q, origins %v", w.Config.RPID, w.Config.RPOrigins)
	}
	if _, err := auth.NewWebAuthn("https://auth.example.com", "example.com", []string{"https://app.example.com", "https://example.com"}); err != nil {
		t.Fatalf("origins on the RP ID and a subdomain: %v", err)
	}
	if _, err := auth.NewWebAuthn("http://127.0.0.1:8080", "", nil); !errors.Is(err, auth.ErrRPIDFromIP) {
		t.Fatalf("an IP issuer: %v, want ErrRPIDFromIP", err)
	}
	if _, err := auth.NewWebAuthn("http://127.0.0.1:8080", "localhost", []string{"http://localhost:8080"}); err != nil {
		t.Fatalf("an IP issuer with an RP ID set: %v", err)
	}
	for _, bad := range [][]string{{"https://example.org"}, {"https://notexample.com"}, {"https://example.com.evil.test"}} {
		if _, err := auth.NewWebAuthn("https://auth.example.com", "example.com", bad); err == nil {
			t.Errorf("origin %v off the RP ID example.com accepted", bad)
		}
	}
}

// TestPasskeysOff: with no relying party (an issuer on an IP address and
// no RP ID), every ceremony is refused, and says why.
func TestPasskeysOff(t *testing.T) {
	cfg := testkit.Config(t)
	cfg.Issuer = "http://127.0.0.1:8080"
	a := testkit.NewApp(t, cfg)
	if a.Auth.WebAuthn != nil {
		t.Fatal("passkeys are on with an IP issuer and no RP ID")
	}
	_, err := a.Auth.BeginPasskeySignIn(context.Background())
	wantErrCode(t, err, latchkey.EFORBIDDEN, "passkeys off")
}

// TestPasskeyDisabledUser: a disabled user's passkey verifies (and its
// counter moves) but signs nobody in; an unknown credential is refused.
func TestPasskeyDisabledUser(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("gone@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	disabled := true
	if _, err := e.s.UpdateUser(context.Background(), "", u.ID, latchkey.UserUpdate{Disabled: &disabled}, auth.Client{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.signIn(d, rpOK, 1)
	wantErrCode(t, err, latchkey.EACCOUNTDISABLED, "a disabled user's passkey")
	stranger := newDevice(u, vw.AuthenticatorOptions{})
	_, err = e.signIn(stranger, rpOK, 1)
	wantErrCode(t, err, latchkey.EINVALIDCREDENTIALS, "an unknown credential")
}

// failingLookup is a store whose passkey lookup fails as an unreachable
// database does.
type failingLookup struct{ latchkey.Store }

func (failingLookup) FindPasskeyByCredentialID(context.Context, []byte) (*latchkey.Passkey, error) {
	return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "the database is unavailable")
}

// TestPasskeyStoreDown: a store that fails while looking up the passkey is
// that failure (a 503 to retry), not a refused assertion.
func TestPasskeyStoreDown(t *testing.T) {
	e := newPasskeyEnv(t)
	u := e.signUp("down@example.com")
	d := newDevice(u, vw.AuthenticatorOptions{})
	if _, err := e.register(u, d, rpOK); err != nil {
		t.Fatal(err)
	}
	s := *e.s
	s.Store = failingLookup{e.s.Store}
	in, opts := e.beginSignIn()
	_, err := s.FinishPasskeySignIn(context.Background(), auth.Client{}, in.ChallengeID, assertion(d, rpOK, opts, 1))
	wantErrCode(t, err, latchkey.EUNAVAILABLE, "the store down")
}
