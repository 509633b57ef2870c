package mail_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/mail"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	good := []struct {
		url  string
		want mail.Transport
	}{
		{"smtps://u:p@smtp.example.com:465", mail.Transport{Host: "smtp.example.com", Port: 465, Security: mail.ImplicitTLS, Username: "u", Password: "p"}},
		{"smtps://u:p@smtp.example.com", mail.Transport{Host: "smtp.example.com", Port: 465, Security: mail.ImplicitTLS, Username: "u", Password: "p"}},
		{"smtp://u:p%40ss@smtp.example.com:587", mail.Transport{Host: "smtp.example.com", Port: 587, Security: mail.StartTLS, Username: "u", Password: "p@ss"}},
		{"smtp://smtp.example.com", mail.Transport{Host: "smtp.example.com", Port: 587, Security: mail.StartTLS}},
		{"smtp://relay.internal:25", mail.Transport{Host: "relay.internal", Port: 25, Security: mail.StartTLS}},
		{"smtp://localhost:1025?tls=none", mail.Transport{Host: "localhost", Port: 1025, Security: mail.NoTLS}},
		{"smtp://127.0.0.2:25?tls=none", mail.Transport{Host: "127.0.0.2", Port: 25, Security: mail.NoTLS}},
		{"smtp://[::1]:1025?tls=none", mail.Transport{Host: "::1", Port: 1025, Security: mail.NoTLS}},
		{"smtp://LOCALHOST:1025/?tls=none", mail.Transport{Host: "LOCALHOST", Port: 1025, Security: mail.NoTLS}},
	}
	for _, tc := range good {
		got, err := mail.ParseURL(tc.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, *got, tc.want)
		}
	}
	const secret = "s3cr3t-pa55"
	bad := []struct{ url, mention string }{
		{"http://u:" + secret + "@smtp.example.com", "scheme"},
		{"smtp+tls://u:" + secret + "@smtp.example.com", "scheme"},
		{"submission://u:" + secret + "@smtp.example.com:587", "scheme"},
		{"smtp://u:" + secret + "@smtp.example.com:25?tls=none", "loopback"},
		{"smtp://smtp.example.com:25?tls=none", "loopback"},
		{"smtp://10.0.0.1:25?tls=none", "loopback"},
		{"smtp://[::ffff:10.0.0.1]:25?tls=none", "loopback"},
		{"smtp://localhost.example.com:25?tls=none", "loopback"},
		{"smtp://[fe80::1%25lo]:25?tls=none", "loopback"},
		{"smtp://u:" + secret + "@localhost:1025?tls=none", "credentials"},
		{"smtp://localhost?tls=none", "port"},
		{"smtps://u:" + secret + "@localhost:465?tls=none", "tls"},
		{"smtp://u:" + secret + "@localhost:25?tls=" + secret, "tls"},
		{"smtp://u:" + secret + "@smtp.example.com:25?tls=none&x=1", "parameter"},
		{"smtp://u:" + secret + "@smtp.example.com:99999", "port"},
		{"smtp://u:" + secret + "@smtp.example.com:x", "URL"},
		{"smtp://u:" + secret + "@smtp.example.com/path", "path"},
		{"smtp://u:" + secret + "@", "host"},
		{"smtp:u:" + secret, "host"},
		{"", "host"},
		{"::" + secret, "URL"},
		// A password with an unescaped '/', '?' or '#' ends the authority early.
		{"smtp://u:1234/" + secret + "@smtp.example.com", "path"},
		{"smtp://u:1234?tls=" + secret + "@smtp.example.com", "tls"},
		{"smtp://u:1234?" + secret + "@smtp.example.com", "parameter"},
		{"smtp://u:1234#" + secret + "@smtp.example.com", "fragment"},
	}
	for _, tc := range bad {
		_, err := mail.ParseURL(tc.url)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ParseURL(%q) = %v, want it to mention %q", tc.url, err, tc.mention)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "pa55") {
			t.Errorf("ParseURL(%q): the error %q shows the password", tc.url, err)
		}
	}
}

func TestTransportStringHidesThePassword(t *testing.T) {
	t.Parallel()
	tr, err := mail.ParseURL("smtps://user:hunter2-secret@smtp.example.com:465")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{tr.String(), tr.GoString(), fmt.Sprint(tr), fmt.Sprintf("%+v %#v %v %s", *tr, *tr, tr, tr)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q shows the password", s)
		}
		if !strings.Contains(s, "smtps://user:") || !strings.Contains(s, "smtp.example.com:465") {
			t.Errorf("%q does not show the scheme, user and address", s)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "localhost.": true, "127.0.0.1": true, "127.255.0.9": true, "::1": true, "::ffff:127.0.0.1": true,
		"0.0.0.0": false, "::": false, "10.0.0.1": false, "128.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false, "fe80::1%lo": false,
	} {
		if got := mail.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestDefaultFrom(t *testing.T) {
	t.Parallel()
	for issuer, want := range map[string]string{
		"http://localhost:8080":          "Latchkey <no-reply@localhost>",
		"https://auth.example.com/base/": "Latchkey <no-reply@auth.example.com>",
		"https://auth.example.com:8443":  "Latchkey <no-reply@auth.example.com>",
		"http://127.0.0.1:8080":          "Latchkey <no-reply@127.0.0.1>",
		"http://[::1]:8080":              "Latchkey <no-reply@[::1]>",
	} {
		got, err := mail.DefaultFrom(issuer)
		if err != nil || got != want {
			t.Errorf("DefaultFrom(%q) = %q, %v; want %q", issuer, got, err, want)
		}
	}
	if got, err := mail.DefaultFrom("not a url"); err == nil {
		t.Errorf("DefaultFrom of no URL = %q, want an error", got)
	}
	for _, from := range []string{"", "no address", "Latchkey <a@b", "a@b\r\nBcc: x@y"} {
		if _, err := mail.ParseFrom(from); err == nil {
			t.Errorf("ParseFrom(%q) succeeded", from)
		}
	}
}
