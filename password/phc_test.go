package password

import (
	"errors"
	"testing"
)

// FuzzParsePHC: parsing an arbitrary stored string never panics, and what it
// accepts is within bounds and is exactly the canonical encoding.
func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=4194304,t=1000,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$argon2id$v=19$m=064,t=1,p=1$$",
		"",
		"$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, phc string) {
		p, salt, key, err := parsePHC(phc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := p.validate(); err != nil {
			t.Fatalf("accepted out-of-bounds params: %v", err)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("params %+v disagree with salt %d, key %d bytes", p, len(salt), len(key))
		}
		if enc := encodePHC(p, salt, key); enc != phc {
			t.Fatalf("accepted %q, whose canonical form is %q", phc, enc)
		}
	})
}
