package verify

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// CheckJWKSURL reports whether RemoteJWKS would accept raw: an https URL,
// or plain http to a loopback host. A configuration can check it up front.
func CheckJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("verify: JWKS URL: %w", err)
	}
	return checkJWKSURL(u)
}

// checkJWKSURL enforces https, or http to a loopback host.
func checkJWKSURL(u *url.URL) error {
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("verify: JWKS URL %q has no host", u.Redacted())
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("verify: JWKS URL %q must use https (plain http only to a loopback host)", u.Redacted())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// jwksClient copies c (or a zero client), capping the body and holding
// every redirect to the URL rule.
func jwksClient(c *http.Client, timeout time.Duration) *http.Client {
	var cl http.Client
	if c != nil {
		cl = *c
	}
	if cl.Timeout == 0 || cl.Timeout > timeout {
		cl.Timeout = timeout
	}
	base := cl.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cl.Transport = cappedTransport{base}
	next := cl.CheckRedirect
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("verify: JWKS: too many redirects")
		}
		if err := checkJWKSURL(req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cl
}

// cappedTransport makes a response body fail after MaxJWKSSize bytes, so
// that a hostile or broken endpoint cannot make the decoder buffer without
// end.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.Body != nil {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: MaxJWKSSize}
	}
	return resp, err
}

var errJWKSTooLarge = fmt.Errorf("verify: JWKS body over %d bytes", MaxJWKSSize)

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errJWKSTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
