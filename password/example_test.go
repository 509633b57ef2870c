package password_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/password"
)

func Example() {
	h := password.New(password.DefaultParams, 0) // gate of GOMAXPROCS
	h.SetMaxWait(2 * time.Second)                // then ErrBusy: answer 503
	ctx := context.Background()

	phc, err := h.Hash(ctx, "correct horse battery staple")
	if errors.Is(err, password.ErrBusy) {
		return
	}
	fmt.Println(phc[:31])

	ok, _ := h.Verify(ctx, "correct horse battery staple", phc)
	fmt.Println(ok, h.NeedsRehash(phc))

	// An unknown account costs what a wrong password costs.
	_ = h.VerifyDummy(ctx, "guess")
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1$
	// true false
}
