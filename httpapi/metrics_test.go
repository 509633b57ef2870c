package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testkit"
)

// TestMetricsLoopbackOnly: with no listener of their own, the metrics are
// served on the API's listener to clients on this machine only, judged by
// their real address. Behind a trusted proxy that is the forwarded one:
// a request the proxy on this host relays for a remote client is not
// loopback, and neither is one that came without X-Forwarded-For. Anyone
// else gets the 404 of an unknown path.
func TestMetricsLoopbackOnly(t *testing.T) {
	direct := newHarness(t, options{})
	direct.Do(req{Method: "GET", Path: "/metrics"}).WantStatus(t, http.StatusOK)
	// Without a trusted proxy the header is no one's word.
	direct.Do(req{Method: "GET", Path: "/metrics", Header: map[string]string{"X-Forwarded-For": "203.0.113.7"}}).WantStatus(t, http.StatusOK)

	// A client on another machine, reaching the server directly.
	r := httptest.NewRequest("GET", testIssuer+"/metrics", nil)
	r.RemoteAddr = "192.0.2.1:4000"
	w := httptest.NewRecorder()
	direct.App.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"not_found"`) || strings.Contains(w.Body.String(), "latchkey_") {
		t.Errorf("GET /metrics from 192.0.2.1: %d %s, want 404 not_found", w.Code, w.Body)
	}

	proxied := newHarness(t, options{proxy: true})
	for _, tc := range []struct {
		xff  string // "" sends none
		want int
	}{
		{"203.0.113.7", http.StatusNotFound},                 // relayed for a remote client
		{"127.0.0.1, 203.0.113.7", http.StatusNotFound},      // a forged entry on the left
		{"2001:db8::1", http.StatusNotFound},                 // a remote IPv6 client
		{"[::1]:80, 198.51.100.2:5678", http.StatusNotFound}, // ports are read, not skipped to the proxy
		{"unknown", http.StatusNotFound},                     // no address at all
		{"", http.StatusNotFound},                            // every request is to come through the proxy
		{"127.0.0.1", http.StatusOK},                         // relayed for a client on this machine
		{"203.0.113.7, [::1]:4000", http.StatusOK},
	} {
		hdr := map[string]string{}
		if tc.xff != "" {
			hdr["X-Forwarded-For"] = tc.xff
		}
		resp := proxied.Do(req{Method: "GET", Path: "/metrics", Header: hdr})
		if tc.want == http.StatusNotFound {
			resp.Problem(t, http.StatusNotFound, "not_found")
			if strings.Contains(string(resp.Body), "latchkey_") {
				t.Errorf("X-Forwarded-For %q: the 404 holds metrics", tc.xff)
			}
			continue
		}
		resp.WantStatus(t, tc.want)
	}
}

// TestMetricsOwnListener: with LATCHKEY_METRICS_ADDR the metrics are
// served there alone, and the API's listener answers /metrics as any
// unknown path. The metrics listener checks Host as the API does.
func TestMetricsOwnListener(t *testing.T) {
	h := newHarness(t, options{metricsAddr: "127.0.0.1:0"})
	h.Do(req{Method: "GET", Path: "/metrics"}).Problem(t, http.StatusNotFound, "not_found")
	h.Do(req{Method: "GET", Path: "/healthz"}).WantStatus(t, http.StatusOK)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.App.ServeMetrics(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve metrics: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the metrics listener did not stop")
		}
	})
	m := testkit.NewClient(t, "http://"+ln.Addr().String(), nil)
	resp := m.Do(req{Method: "GET", Path: "/metrics"})
	resp.WantStatus(t, http.StatusOK)
	if !strings.Contains(string(resp.Body), `latchkey_http_requests_total{route="GET /metrics",status="404"} 1`) {
		t.Errorf("the metrics listener does not show the API listener's counts:\n%s", resp.Body)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the metrics listener sends no security headers")
	}
	for _, p := range []string{"/api/auth/jwks", "/", "/healthz", "/metrics/x"} {
		m.Do(req{Method: "GET", Path: p}).Problem(t, http.StatusNotFound, "not_found")
	}
	m.Do(req{Method: "POST", Path: "/metrics"}).Problem(t, http.StatusNotFound, "not_found")
	m.Do(req{Method: "GET", Path: "/metrics", Host: "attacker.example"}).Problem(t, http.StatusMisdirectedRequest, "misdirected_request")
	m.Do(req{Method: "GET", Path: "/metrics", Host: "localhost:9090"}).WantStatus(t, http.StatusOK)
}
