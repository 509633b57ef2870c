package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// DefaultRealm is the WWW-Authenticate realm when none is configured.
const DefaultRealm = "latchkey"

// BearerToken extracts the token from an "Authorization: Bearer X" header
// (RFC 6750 §2.1; the scheme is case-insensitive), the only place a token
// is taken from. A missing header or another scheme is missing_token: no
// bearer credentials came. That holds when a token comes another way
// (RFC 6750 §3.1): with an "access_token" query parameter it is
// missing_token/query_token, whose description says URLs do not carry
// tokens, and a token in a form body is never even read, since reading
// the body here would take it from the handler. An access_token query
// parameter beside a Bearer header is refused as invalid_token/query_token,
// because URLs end up in access logs, browser history and Referer headers.
// The parameter's name is matched in any case, percent-encoded or not, and
// pairs are split at ";" as well as "&", since some servers and proxies do.
// A Bearer header without a token, a token containing spaces, or several
// Authorization headers are invalid_token/malformed.
func BearerToken(r *http.Request) (string, error) {
	inQuery := r.URL != nil && queryNamesToken(r.URL.RawQuery)
	values := r.Header.Values("Authorization")
	if len(values) == 0 || len(values) == 1 && !isBearer(values[0]) {
		if inQuery {
			return "", &Error{Code: CodeMissingToken, Reason: ReasonQueryToken}
		}
		return "", &Error{Code: CodeMissingToken, Reason: ReasonMissing}
	}
	if inQuery {
		return "", invalid(ReasonQueryToken, nil)
	}
	if len(values) > 1 {
		// Proxies and frameworks disagree on which one wins; refuse to guess.
		return "", invalid(ReasonMalformed, nil)
	}
	_, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	token := strings.TrimLeft(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", invalid(ReasonMalformed, nil)
	}
	return token, nil
}

// isBearer reports whether an Authorization value names the Bearer scheme.
func isBearer(h string) bool {
	scheme, _, _ := strings.Cut(strings.TrimSpace(h), " ")
	return strings.EqualFold(scheme, "Bearer")
}

// queryNamesToken reports whether a raw query has a parameter named
// access_token: in any case, percent-encoded or not, with space around
// it, and with pairs split at "&" or ";". It errs towards finding one,
// since a false find only refuses a request that could have passed.
func queryNamesToken(raw string) bool {
	for raw != "" {
		var pair string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			pair, raw = raw[:i], raw[i+1:]
		} else {
			pair, raw = raw, ""
		}
		name, _, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(name, "%+") {
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
		}
		if strings.EqualFold(strings.TrimSpace(name), "access_token") {
			return true
		}
	}
	return false
}

// MiddlewareOptions tunes Middleware.
type MiddlewareOptions struct {
	// Realm names the protection space in WWW-Authenticate; default
	// DefaultRealm.
	Realm string
	// OnError, when set, sees every rejection before the 401 is written,
	// for metrics and audit; err.Reason is meant as a label.
	OnError func(r *http.Request, err *Error)
}

// Middleware verifies the request's bearer token with v and passes the
// claims to the next handler in the request context (see
// ClaimsFromContext). A request without a valid token never reaches the
// next handler: it gets a 401 from WriteError.
func Middleware(v *Verifier, opts MiddlewareOptions) func(http.Handler) http.Handler {
	if v == nil {
		// At wiring time, not on the first request.
		panic("verify: Middleware with nil Verifier")
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := BearerToken(r)
			var c *Claims
			if err == nil {
				c, err = v.Verify(r.Context(), token)
			}
			if err != nil {
				e := asError(err)
				if opts.OnError != nil {
					opts.OnError(r, e)
				}
				WriteError(w, realm, e)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
		})
	}
}

type claimsKey struct{}

// WithClaims returns ctx carrying c; Middleware uses it, and tests of
// handlers can too, without minting tokens.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims stored by WithClaims, and false when
// there are none (the handler was reached without Middleware).
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// RequireRole lets a request through only when the claims that Middleware
// put in its context carry role; any other role, none, or no claims at all
// (Middleware did not run first) gets a 403 problem+json with code
// forbidden. Chain it inside Middleware:
//
//	mux.Handle("GET /admin/", auth(verify.RequireRole("admin")(h)))
//
// It panics on an empty role, which would let role-less tokens pass.
func RequireRole(role string) func(http.Handler) http.Handler {
	if role == "" {
		panic("verify: RequireRole with an empty role")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, ok := ClaimsFromContext(r.Context()); !ok || c.Role != role {
				writeForbidden(w, "role not allowed")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireMFA lets a request through only when the token's sign-in used a
// second factor (Claims.HasMFA: "mfa" in amr); otherwise, and when there
// are no claims, it answers a 403 problem+json with code forbidden whose
// detail begins "mfa_required". Chain it inside Middleware.
func RequireMFA(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := ClaimsFromContext(r.Context()); !ok || !c.HasMFA() {
			writeForbidden(w, "mfa_required: sign in with a second factor")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireSubject lets a request through only when the path wildcard named
// pathParam (read with r.PathValue, so the route is a ServeMux pattern such
// as "GET /api/{user_id}/tasks") equals the token's subject: a user reaches
// only their own resources, admins included. Otherwise, and when there are
// no claims or no such wildcard, it answers a 403 problem+json with code
// forbidden. Chain it inside Middleware. It panics on an empty pathParam.
func RequireSubject(pathParam string) func(http.Handler) http.Handler {
	if pathParam == "" {
		panic("verify: RequireSubject with an empty path parameter")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFromContext(r.Context())
			if !ok || c.Subject == "" || r.PathValue(pathParam) != c.Subject {
				writeForbidden(w, "not allowed for this user")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeForbidden is the contract's 403: problem+json, code forbidden, and no
// WWW-Authenticate, since new credentials would not help.
func writeForbidden(w http.ResponseWriter, detail string) {
	body, _ := json.Marshal(problem{
		Type:   "about:blank",
		Title:  http.StatusText(http.StatusForbidden),
		Status: http.StatusForbidden,
		Code:   CodeForbidden,
		Detail: detail,
	})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	w.Write(append(body, '\n'))
}

// problem is the contract's RFC 9457 body; the field order is the
// contract's example.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// WriteError writes the contract's 401 for err: an application/problem+json
// body with err's code and fixed description, Cache-Control: no-store, and
// WWW-Authenticate per RFC 6750 §3 — without an error attribute for
// missing_token (no credentials came, so there is nothing to call invalid),
// with error="invalid_token" and the description otherwise. An err that is
// not an *Error is answered as invalid_token without revealing its text.
// An empty realm means DefaultRealm.
func WriteError(w http.ResponseWriter, realm string, err error) {
	e := asError(err)
	if realm == "" {
		realm = DefaultRealm
	}
	code := e.Code
	if code == "" {
		code = CodeInvalidToken
	}
	detail := e.Description()
	challenge := Challenge(realm, code, detail)
	body, _ := json.Marshal(problem{
		Type:   "about:blank",
		Title:  http.StatusText(http.StatusUnauthorized),
		Status: http.StatusUnauthorized,
		Code:   code,
		Detail: detail,
	})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("WWW-Authenticate", challenge)
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(append(body, '\n'))
}

// asError returns err as an *Error, wrapping anything else as
// invalid_token/invalid so callers always have a code and a reason.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	return invalid(ReasonInvalid, err)
}

// Challenge is the WWW-Authenticate value of a 401 (RFC 6750 §3) with one
// of the contract's codes: `Bearer realm="..."` alone when no token came
// (missing_token, or a failure that is not about a token, such as wrong
// credentials), and with error="invalid_token" and the description when a
// token came and failed. An empty realm means DefaultRealm.
func Challenge(realm, code, description string) string {
	if realm == "" {
		realm = DefaultRealm
	}
	c := `Bearer realm="` + quote(realm) + `"`
	switch code {
	case CodeInvalidToken, CodeTokenExpired, CodeTokenRevoked:
		c += `, error="invalid_token", error_description="` + descriptionChars(description) + `"`
	}
	return c
}

// quote escapes s for an HTTP quoted-string (RFC 9110 §5.6.4) and drops
// control and non-ASCII bytes, which a header value cannot safely carry.
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			// dropped
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// descriptionChars keeps what RFC 6750 §3 allows in error_description:
// printable ASCII but '"' and '\' (which may not even be escaped there).
func descriptionChars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
