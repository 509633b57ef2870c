package testkit

// A virtual passkey authenticator for tests that speak the API in Go
// (descope/virtualwebauthn): real P-256 keys, every flag (UV, BE, BS), the
// counter, the origin and the RP ID it claims set by the test.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"testing"

	vw "github.com/descope/virtualwebauthn"
)

// PasskeyRP is the relying party as a browser sees it under Issuer
// (http://localhost:8080): RP ID localhost, the issuer's origin.
var PasskeyRP = vw.RelyingParty{ID: "localhost", Name: "Latchkey", Origin: Issuer}

// Passkey is a virtual authenticator holding one credential of a user.
type Passkey struct {
	Auth vw.Authenticator
	Cred vw.Credential
	RP   vw.RelyingParty
}

// NewPasskey is an authenticator for the user userID (its user handle),
// with opts' flags, speaking as PasskeyRP.
func NewPasskey(userID string, opts vw.AuthenticatorOptions) *Passkey {
	opts.UserHandle = []byte(userID)
	return &Passkey{Auth: vw.NewAuthenticatorWithOptions(opts), Cred: NewCredential(), RP: PasskeyRP}
}

// NewCredential is a P-256 credential whose coordinates both have 32
// bytes. virtualwebauthn writes them without leading zero bytes (1 key in
// about 128), and go-webauthn rightly refuses such a COSE key: with its own
// keys the tests would fail now and then.
func NewCredential() vw.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			panic(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return vw.NewCredentialWithImportedKey(vw.KeyTypeEC2, der)
	}
}

// Attest is the authenticator's answer to creation options (the options
// member of an answer, as decoded JSON or any value that marshals to it):
// the PublicKeyCredential JSON a browser would send.
func (p *Passkey) Attest(t testing.TB, options any) json.RawMessage {
	t.Helper()
	opts, err := vw.ParseAttestationOptions(string(marshal(t, options)))
	if err != nil {
		t.Fatalf("passkey: creation options: %v", err)
	}
	return json.RawMessage(vw.CreateAttestationResponse(p.RP, p.Auth, p.Cred, *opts))
}

// Assert is the authenticator's assertion to request options, with its
// sign counter at counter.
func (p *Passkey) Assert(t testing.TB, options any, counter uint32) json.RawMessage {
	t.Helper()
	opts, err := vw.ParseAssertionOptions(string(marshal(t, options)))
	if err != nil {
		t.Fatalf("passkey: request options: %v", err)
	}
	p.Cred.Counter = counter
	return json.RawMessage(vw.CreateAssertionResponse(p.RP, p.Auth, p.Cred, *opts))
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("passkey: options: %v", err)
	}
	return b
}
