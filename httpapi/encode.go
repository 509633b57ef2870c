package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/verify"
)

// maxBody caps every request body.
const maxBody = 1 << 20

// statusClientClosed marks a request the client abandoned (nginx's 499).
const statusClientClosed = 499

// realm names the protection space in every WWW-Authenticate challenge.
const realm = verify.DefaultRealm

// encode writes v as JSON with status.
func encode[T any](w http.ResponseWriter, status int, v T) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var (
	errTooLarge = &latchkey.Error{Code: latchkey.EINVALID, Message: "request body over 1 MiB"}
	errEmpty    = latchkey.Errorf(latchkey.EINVALID, "request body is empty")
)

// strictJSON are the options of every request body's decoding, each set
// explicitly although most are github.com/go-json-experiment/json's
// defaults: member names match a field only when spelt exactly (no case
// folding), unknown members and duplicate names are errors, and so is
// invalid UTF-8, raw or as an escaped lone surrogate ("\ud800"), which
// encoding/json would silently turn into U+FFFD.
var strictJSON = jsonv2.JoinOptions(
	jsonv2.RejectUnknownMembers(true),
	jsonv2.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// decode reads a JSON body into a T, strictly: at most 1 MiB, exactly one
// JSON value (no trailing data), decoded with strictJSON. When allowEmpty
// is set an empty body yields the zero T. Its errors never echo a value of
// the body.
func decode[T any](w http.ResponseWriter, r *http.Request, allowEmpty bool) (T, error) {
	return decodeWith[T](w, r, allowEmpty, strictJSON)
}

// lenientJSON is strictJSON but for unknown members, which it ignores: the
// SSF routes' bodies, which a receiver may extend (SSF 1.0 leaves unknown
// members to the transmitter, and other transmitters ignore them).
var lenientJSON = jsonv2.JoinOptions(strictJSON, jsonv2.RejectUnknownMembers(false))

// decodeWith is decode with the decoding options opts.
func decodeWith[T any](w http.ResponseWriter, r *http.Request, allowEmpty bool, opts jsonv2.Options) (T, error) {
	var v T
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, errTooLarge
		}
		return v, latchkey.Errorf(latchkey.EINVALID, "could not read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return v, nil
		}
		return v, errEmpty
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body), opts)
	if err := jsonv2.UnmarshalDecode(dec, &v); err != nil {
		var zero T // v may be half filled
		return zero, latchkey.Errorf(latchkey.EINVALID, "%s", jsonProblem(err))
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		var zero T
		return zero, latchkey.Errorf(latchkey.EINVALID, "unexpected data after the JSON value")
	}
	return v, nil
}

// jsonProblem describes a decoding error without echoing the body back:
// the decoder's own messages quote the input, so only a field name is
// taken from them, and only a short printable one.
func jsonProblem(err error) string {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		switch msg := syn.Err.Error(); {
		case syn.Err == jsontext.ErrDuplicateName:
			return "duplicate field" + fieldName(syn.JSONPointer, true)
		case msg == "invalid UTF-8": // jsonwire.ErrInvalidUTF8, not exported
			return "request body is not valid UTF-8"
		case strings.HasPrefix(msg, "invalid escape sequence"), strings.HasPrefix(msg, "invalid surrogate pair"):
			return "invalid escape sequence in a string (a lone surrogate is one)"
		}
	case errors.As(err, &sem):
		switch {
		case sem.Err == jsonv2.ErrUnknownName:
			return "unknown field" + fieldName(sem.JSONPointer, true)
		case sem.JSONPointer != "":
			return "wrong type for field" + fieldName(sem.JSONPointer, false)
		}
		return "wrong JSON type"
	}
	return "malformed JSON"
}

// fieldName is " name" for the member p points at (quoted when quote is
// set), or "" when the name is long or holds anything not printable: a
// member name is text of the body too.
func fieldName(p jsontext.Pointer, quote bool) string {
	name := p.LastToken()
	if name == "" || len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ""
	}
	if quote {
		return " " + strconv.Quote(name)
	}
	return " " + name
}

// problem is an RFC 9457 problem document with the contract's extensions.
type problem struct {
	Type   string                `json:"type"`
	Title  string                `json:"title"`
	Status int                   `json:"status"`
	Code   string                `json:"code"`
	Detail string                `json:"detail,omitempty"`
	Errors []latchkey.FieldError `json:"errors,omitempty"`
}

// statusOf maps application error codes to HTTP statuses, in one place.
var statusOf = map[string]int{
	latchkey.EINVALID:            http.StatusBadRequest,
	latchkey.EVALIDATION:         http.StatusBadRequest,
	latchkey.EMISSINGTOKEN:       http.StatusUnauthorized,
	latchkey.EINVALIDTOKEN:       http.StatusUnauthorized,
	latchkey.ETOKENEXPIRED:       http.StatusUnauthorized,
	latchkey.ETOKENREVOKED:       http.StatusUnauthorized,
	latchkey.EINVALIDCREDENTIALS: http.StatusUnauthorized,
	latchkey.EMFAREQUIRED:        http.StatusUnauthorized,
	latchkey.EFORBIDDEN:          http.StatusForbidden,
	latchkey.EACCOUNTDISABLED:    http.StatusForbidden,
	latchkey.EEMAILNOTVERIFIED:   http.StatusForbidden,
	latchkey.EINVALIDONETIME:     http.StatusBadRequest,
	latchkey.EADMINMFA:           http.StatusForbidden,
	latchkey.ENOTFOUND:           http.StatusNotFound,
	latchkey.EMISDIRECTED:        http.StatusMisdirectedRequest,
	latchkey.EEMAILTAKEN:         http.StatusConflict,
	latchkey.ECONFLICT:           http.StatusConflict,
	latchkey.ERATELIMITED:        http.StatusTooManyRequests,
	latchkey.EUNAVAILABLE:        http.StatusServiceUnavailable,
	latchkey.EINTERNAL:           http.StatusInternalServerError,
}

// wireCode names the internal codes that the contract calls by another
// code with another status (statusOf): a one-time link's invalid_token is
// 400, an admin's mfa_required 403.
var wireCode = map[string]string{
	latchkey.EINVALIDONETIME: latchkey.EINVALIDTOKEN,
	latchkey.EADMINMFA:       latchkey.EMFAREQUIRED,
}

// errUnmapped stands in for an application error whose code has no status:
// it is answered as internal, without its message.
var errUnmapped = errors.New("error code without an HTTP status")

// writeError answers err as problem+json. Anything that is not an
// application error is logged and answered as a bare 500, and so is an
// application error whose code statusOf does not know (logged with its
// code): a missing entry must never reach WriteHeader as status 0.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client hung up: nobody reads this answer, and it is no
		// server error. 499 is the usual mark for it in logs and metrics.
		w.WriteHeader(statusClientClosed)
		return
	}
	code := latchkey.ErrorCode(err)
	status, mapped := statusOf[code]
	switch {
	case !mapped:
		log.Error("error code without a status", "code", code, "method", r.Method, "path", r.URL.Path, "err", err)
		code, status, err = latchkey.EINTERNAL, http.StatusInternalServerError, errUnmapped
	case code == latchkey.EINTERNAL:
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case code == latchkey.EUNAVAILABLE:
		// A database outage wraps its cause around the application error:
		// the log gets the cause, the client only the code.
		if _, bare := err.(*latchkey.Error); !bare {
			log.Warn("unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	if err == errTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	if wire, ok := wireCode[code]; ok {
		code = wire
	}
	p := problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: latchkey.ErrorMessage(err),
	}
	var e *latchkey.Error
	if errors.As(err, &e) {
		p.Errors = e.Fields
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", verify.Challenge(realm, code, p.Detail))
	}
	switch {
	case e != nil && e.RetryAfter > 0:
		h.Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	var x *extraError
	if errors.As(err, &x) {
		_ = json.NewEncoder(w).Encode(x.document(p))
		return
	}
	_ = json.NewEncoder(w).Encode(p)
}

// extraError is an application error whose problem document has members
// beyond the contract's own: mfa_required's mfa_token, methods and
// expires_in. Members never replace the standard ones.
type extraError struct {
	err     error
	members map[string]any
}

func (e *extraError) Error() string { return e.err.Error() }
func (e *extraError) Unwrap() error { return e.err }

// document is p with e's members added.
func (e *extraError) document(p problem) map[string]any {
	doc := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code}
	if p.Detail != "" {
		doc["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		doc["errors"] = p.Errors
	}
	for k, v := range e.members {
		if _, taken := doc[k]; !taken {
			doc[k] = v
		}
	}
	return doc
}

// apiHandler is a handler that returns its failure rather than writing it.
// It returns an error only before it has written anything.
type apiHandler func(http.ResponseWriter, *http.Request) error

// handler adapts fn to http.Handler: the error fn returns is answered with
// writeError, so no handler can write an error and then go on.
func (s *server) handler(fn apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			writeError(w, r, s.Logger, err)
		}
	})
}
