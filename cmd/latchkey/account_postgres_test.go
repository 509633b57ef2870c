package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/internal/testkit"
	lkmail "github.com/latchkey/latchkey/mail"
)

// TestE2EPostgresAccountFlows: two instances on one PostgreSQL database,
// both sending the outbox's mail to one real SMTP server. A reset token
// mailed after a forgot on A resets through B, and A refuses the user's
// earlier access token within 2 s; an email change asked on A is
// confirmed through B by code (A then refuses the user's other session,
// not the confirming one), and its wrong password, reuse and dead code
// are refused; two users who asked for the same new address confirm
// at once, one on each instance: one gets it, the other 409 email_taken,
// and its token stays live (409 again, not invalid_token). Every mail,
// a burst through both instances included, arrives once, although both
// instances' senders claim from one outbox.
func TestE2EPostgresAccountFlows(t *testing.T) {
	t.Parallel()
	url := pgtest.Shared(t).URL(t)
	srv := smtptest.Start(t, smtptest.Options{})
	env := childEnv("LATCHKEY_SECRET_KEY="+pgSecret, "LATCHKEY_SMTP_URL="+srv.URL())
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database-url", url}
	pa, pb := spawn(t, t.TempDir(), env, args...), spawn(t, t.TempDir(), env, args...)
	pa.waitReady(t)
	pb.waitReady(t)
	var sec secrets
	sec.watch(t, pa.log, pb.log)
	ca, cb := testkit.NewClient(t, pa.base, nil), testkit.NewClient(t, pb.base, nil)
	const pw, newPW = "postgres-account-password", "postgres-reset-password"
	sec.add(pw, newPW)

	// Reset: forgot on A, the token used on B.
	const ann = "ann@example.com"
	first := sec.grant(ca.SignUp(ann, pw, "Ann"))
	ca.Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": ann}).WantStatus(t, http.StatusAccepted)
	token, _ := sec.tokenMail(t, waitMsg(t, srv, ann, lkmail.SubjectReset, 1, mailWait))
	ca.Call("GET", "/api/auth/me", first.AccessToken, nil).WantStatus(t, http.StatusOK)
	cb.Call("POST", "/api/auth/password/reset", "", map[string]string{"token": token, "new_password": newPW}).
		WantStatus(t, http.StatusNoContent)
	start := time.Now()
	t.Logf("a reset on B revoked A's access token %v after its answer", refusedWithin(t, ca, "reset on B", first.AccessToken, start))
	ca.Call("POST", "/api/auth/password/reset", "", map[string]string{"token": token, "new_password": pw}).
		Problem(t, http.StatusBadRequest, "invalid_token")
	g := sec.grant(ca.SignIn(ann, newPW))
	other := sec.grant(ca.SignIn(ann, newPW))
	waitMsg(t, srv, ann, lkmail.SubjectPasswordChange, 1, mailWait)

	// Email change: asked on A, confirmed on B by code.
	const annNew = "ann.new@example.com"
	ca.Call("POST", "/api/auth/email/change", g.AccessToken, map[string]string{"new_email": annNew, "current_password": pw}).
		Problem(t, http.StatusBadRequest, "validation_failed")
	ca.Call("POST", "/api/auth/email/change", g.AccessToken, map[string]string{"new_email": annNew, "current_password": newPW}).
		WantStatus(t, http.StatusAccepted)
	_, code := sec.tokenMail(t, waitMsg(t, srv, annNew, lkmail.SubjectEmailChange, 1, mailWait))
	notice := waitMsg(t, srv, ann, lkmail.SubjectEmailChanging, 1, mailWait)
	if notice.Link() != "" || strings.Contains(notice.Text, annNew) {
		t.Errorf("the old address's notice carries a link %q or names the new address:\n%s", notice.Link(), notice.Text)
	}
	cb.Call("POST", "/api/auth/email/change/confirm", g.AccessToken, map[string]string{"code": wrongCode(code)}).
		Problem(t, http.StatusBadRequest, "invalid_token")
	if u := userOf(t, cb.Call("POST", "/api/auth/email/change/confirm", g.AccessToken, map[string]string{"code": code})); u.Email != annNew || !*u.EmailVerified {
		t.Fatalf("confirm answered %+v", u)
	}
	start = time.Now()
	t.Logf("an email change confirmed on B revoked the other session on A %v after its answer", refusedWithin(t, ca, "confirm on B", other.AccessToken, start))
	ca.Call("GET", "/api/auth/me", g.AccessToken, nil).WantStatus(t, http.StatusOK) // the confirming session stays
	ca.Call("POST", "/api/auth/email/change/confirm", g.AccessToken, map[string]string{"code": code}).
		Problem(t, http.StatusBadRequest, "invalid_token")
	sec.grant(cb.SignIn(annNew, newPW))
	ca.Call("POST", "/api/auth/signin", "", map[string]string{"email": ann, "password": newPW}).
		Problem(t, http.StatusUnauthorized, "invalid_credentials")

	// Two users ask for one address; they confirm at once, on A and B.
	const shared = "shared@example.com"
	bob := sec.grant(ca.SignUp("bob@example.com", pw, "Bob"))
	cat := sec.grant(cb.SignUp("cat@example.com", pw, "Cat"))
	ca.Call("POST", "/api/auth/email/change", bob.AccessToken, map[string]string{"new_email": shared, "current_password": pw}).
		WantStatus(t, http.StatusAccepted)
	bobMail := waitMsg(t, srv, shared, lkmail.SubjectEmailChange, 1, mailWait)
	bobToken, _ := sec.tokenMail(t, bobMail)
	cb.Call("POST", "/api/auth/email/change", cat.AccessToken, map[string]string{"new_email": shared, "current_password": pw}).
		WantStatus(t, http.StatusAccepted)
	catMail := waitMsg(t, srv, shared, lkmail.SubjectEmailChange, 2, mailWait)
	if catMail.Text == bobMail.Text {
		t.Fatal("Bob's confirmation mail was delivered twice")
	}
	catToken, _ := sec.tokenMail(t, catMail)

	var results [2]testkit.Response
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, try := range []struct {
		c             *testkit.Client
		bearer, token string
	}{{testkit.NewClient(t, pa.base, nil), bob.AccessToken, bobToken}, {testkit.NewClient(t, pb.base, nil), cat.AccessToken, catToken}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i] = try.c.Call("POST", "/api/auth/email/change/confirm", try.bearer, map[string]string{"token": try.token})
		}()
	}
	close(gate)
	wg.Wait()
	won, lost := 0, 1
	if results[0].Status != http.StatusOK {
		won, lost = 1, 0
	}
	if u := userOf(t, results[won]); u.Email != shared {
		t.Errorf("the winner's confirm answered %+v", u)
	}
	results[lost].Problem(t, http.StatusConflict, "email_taken")
	loser := []struct {
		c             *testkit.Client
		bearer, token string
	}{{ca, bob.AccessToken, bobToken}, {cb, cat.AccessToken, catToken}}[lost]
	loser.c.Call("POST", "/api/auth/email/change/confirm", loser.bearer, map[string]string{"token": loser.token}).
		Problem(t, http.StatusConflict, "email_taken")
	t.Logf("email_taken race: %s won", []string{"bob on A", "cat on B"}[won])

	// A burst of mail through both instances.
	const n = 6
	for i := range n {
		sec.grant([]*testkit.Client{ca, cb}[i%2].SignUp(fmt.Sprintf("burst%d@example.com", i), pw, ""))
	}
	for i := range n {
		[]*testkit.Client{cb, ca}[i%2].Call("POST", "/api/auth/password/forgot", "", map[string]string{"email": fmt.Sprintf("burst%d@example.com", i)}).
			WantStatus(t, http.StatusAccepted)
	}
	for i := range n {
		waitMsg(t, srv, fmt.Sprintf("burst%d@example.com", i), lkmail.SubjectReset, 1, mailWait)
		waitMsg(t, srv, fmt.Sprintf("burst%d@example.com", i), lkmail.SubjectVerify, 1, mailWait)
	}

	// Every mail once: the two senders never both sent one.
	waitMsg(t, srv, "bob@example.com", lkmail.SubjectEmailChanging, 1, mailWait)
	waitMsg(t, srv, "cat@example.com", lkmail.SubjectEmailChanging, 1, mailWait)
	waitMsg(t, srv, "cat@example.com", lkmail.SubjectVerify, 1, mailWait)
	time.Sleep(1500 * time.Millisecond) // more than a sender's interval
	all := srv.Messages()
	seen := map[string]bool{}
	for _, m := range all {
		k := m.To + "\x00" + m.Subject + "\x00" + m.Text
		if seen[k] {
			t.Errorf("%q to %s delivered twice", m.Subject, m.To)
		}
		seen[k] = true
	}
	// ann: verify, reset, password changed, being changed; ann.new:
	// confirm; bob and cat: verify, being changed; shared: two confirms;
	// each burst address: verify, reset.
	if want := 11 + 2*n; len(all) != want {
		t.Errorf("%d mails delivered, want %d: %s", len(all), want, describe(all))
	}
}

// wrongCode is another 6-digit code than code.
func wrongCode(code string) string {
	b := []byte(code)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}
