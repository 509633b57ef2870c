package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestE2EHTTPS: with a certificate the server speaks TLS 1.2+ only, sends
// HSTS and sets the refresh cookie as __Host-latchkey_refresh (Secure, Path=/).
func TestE2EHTTPS(t *testing.T) {
	t.Parallel()
	certPath, keyPath, pool := testkit.TestCert(t)
	dbPath := filepath.Join(t.TempDir(), "lk.db")
	p := serveBin(t, dbPath, "--tls-cert", certPath, "--tls-key", keyPath, "--issuer", "https://127.0.0.1")
	if strings.Contains(p.log.String(), "speaks plain HTTP") {
		t.Error("TLS server warned about plain HTTP")
	}
	base := strings.Replace(p.base, "http://", "https://", 1)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(map[string]string{"email": "tls@example.com", "password": "tls test password"})
	resp, err := client.Post(base+"/api/auth/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signup over TLS: %d", resp.StatusCode)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q", hsts)
	}
	var secure bool
	for _, c := range resp.Cookies() {
		secure = secure || (c.Name == "__Host-latchkey_refresh" && c.Secure && c.Path == "/")
	}
	if !secure {
		t.Errorf("refresh cookie not Secure: %v", resp.Header.Values("Set-Cookie"))
	}
	// TLS 1.1 is refused.
	old := &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), old); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// Plain HTTP to the TLS port gets no API answer.
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(p.base + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
}

// TestE2EHTTPSIssuerWarning: an https issuer on a plain-HTTP server with no
// trusted proxy gets a warning at start.
func TestE2EHTTPSIssuerWarning(t *testing.T) {
	t.Parallel()
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--issuer", "https://auth.example.com")
	if !strings.Contains(p.log.String(), "speaks plain HTTP") {
		t.Errorf("no plain-HTTP warning:\n%s", p.log.String())
	}
	q := serveBin(t, filepath.Join(t.TempDir(), "lk.db"), "--issuer", "https://auth.example.com", "--trust-proxy", "true")
	if strings.Contains(q.log.String(), "speaks plain HTTP") {
		t.Error("warned although a proxy is trusted")
	}
}

// TestE2ESlowHeadersCutOff: a client dribbling its headers a byte at a time
// (slowloris) is disconnected by the header timeout instead of holding a
// connection forever.
func TestE2ESlowHeadersCutOff(t *testing.T) {
	t.Parallel()
	p := serveBin(t, filepath.Join(t.TempDir(), "lk.db"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		// The server's only answer is to close the connection (perhaps
		// after a 408); reading returns when it does.
		io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	head := "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + strings.Repeat("a", 100)
	for i := 0; i < len(head); i++ {
		select {
		case took := <-closed:
			t.Logf("slow client cut off after %v", took)
			if took > 8*time.Second {
				t.Errorf("cut off after %v, want about the 5 s header timeout", took)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := conn.Write([]byte{head[i]}); err != nil {
			t.Logf("slow client cut off after %v (write: %v)", time.Since(start), err)
			return
		}
	}
	t.Fatalf("the server still listened to a client sending one byte per 200 ms after %v", time.Since(start))
}
