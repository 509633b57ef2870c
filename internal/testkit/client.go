package testkit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Client calls one server's routes and fails the test on transport errors.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
	// FailOnServerError makes every 5xx answer (but /readyz's) fail the
	// test: where no outage is staged, a 5xx is a bug.
	FailOnServerError bool
	granted           func(tokens ...string) // records tokens as secrets
}

// NewClient is a client for the server at base (http://127.0.0.1:PORT),
// with its own connections, closed at the end of the test.
func NewClient(t testing.TB, base string, transport *http.Transport) *Client {
	if transport == nil {
		transport = &http.Transport{}
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: transport}
	t.Cleanup(hc.CloseIdleConnections)
	return &Client{T: t, Base: base, HTTP: hc, granted: func(...string) {}}
}

// Request is one request. A Body that is a string or []byte is sent as it
// is; any other non-nil Body is sent as JSON.
type Request struct {
	Method, Path string
	Body         any
	Bearer       string
	Header       map[string]string
	Cookie       *http.Cookie
	// Host, when set, is sent as the Host header instead of the
	// address dialled (as a browser does after DNS rebinding).
	Host string
}

// Response is an answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	What   string // "METHOD URL", for messages
}

// Do sends r and reads the answer.
func (c *Client) Do(r Request) Response {
	c.T.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.T.Fatalf("marshal request body: %v", err)
		}
		body = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, c.Base+r.Path, body)
	if err != nil {
		c.T.Fatalf("new request %s %s: %v", r.Method, r.Path, err)
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.Cookie != nil {
		req.AddCookie(r.Cookie)
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	if c.FailOnServerError && resp.StatusCode >= 500 && r.Path != "/readyz" {
		c.T.Errorf("%s %s: server error %d: %s", r.Method, r.Path, resp.StatusCode, b)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b, What: r.Method + " " + c.Base + r.Path}
}

// Call is Do for the common case: a JSON body (or none), a bearer token
// (or none), and header name, value pairs.
func (c *Client) Call(method, path, bearer string, body any, hdr ...string) Response {
	c.T.Helper()
	r := Request{Method: method, Path: path, Bearer: bearer, Body: body, Header: map[string]string{}}
	if body != nil {
		r.Header["Content-Type"] = "application/json"
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header[hdr[i]] = hdr[i+1]
	}
	return c.Do(r)
}

// SignUp signs up a user and returns the grant.
func (c *Client) SignUp(email, pw, name string) Grant {
	c.T.Helper()
	return c.Grant(c.Call("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": pw, "name": name}), http.StatusCreated)
}

// SignIn signs a user in and returns the grant.
func (c *Client) SignIn(email, pw string) Grant {
	c.T.Helper()
	return c.Grant(c.Call("POST", "/api/auth/signin", "", map[string]string{"email": email, "password": pw}), http.StatusOK)
}

// Refresh presents a refresh token in the body.
func (c *Client) Refresh(refreshToken string) Response {
	c.T.Helper()
	return c.Call("POST", "/api/auth/refresh", "", map[string]string{"refresh_token": refreshToken})
}

// Grant checks that r is a token response with status and returns it; its
// tokens become secrets that the log must not show.
func (c *Client) Grant(r Response, status int) Grant {
	c.T.Helper()
	g := r.Grant(c.T, status)
	c.granted(g.AccessToken, g.RefreshToken)
	return g
}

// User is a user as the API shows it.
type User struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"`
	Role          string    `json:"role"`
	CreatedAt     time.Time `json:"created_at"`
}

// Grant is a token response.
type Grant struct {
	User             User   `json:"user"`
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	SessionID        string `json:"session_id"`
}

// Task is a task as the API shows it.
type Task struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Completed   bool   `json:"completed"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

// JSONPart decodes segment i (0 header, 1 claims) of a compact JWS.
func JSONPart(t testing.TB, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token segment %d: %v", i, err)
	}
	return m
}
