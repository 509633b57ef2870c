package httpapi

import (
	"net/url"
	"strconv"

	"github.com/latchkey/latchkey"
)

// page is what every list route reads from its query: a limit and a cursor.
type page struct {
	q     url.Values
	limit int
	after *latchkey.Cursor
	errs  []latchkey.FieldError
}

// limitRule is the message of a limit out of range.
var limitRule = "must be an integer from 1 to " + strconv.Itoa(latchkey.MaxPageSize)

// parsePage reads limit (1 to latchkey.MaxPageSize, default
// latchkey.DefaultPageSize) and cursor. More fields may be checked with p.q
// and p.errs before p.err is called.
func parsePage(rawQuery string) (*page, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "malformed query string")
	}
	p := &page{q: q, limit: latchkey.DefaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > latchkey.MaxPageSize {
			p.errs = append(p.errs, latchkey.FieldError{Field: "limit", Message: limitRule})
		}
		p.limit = n
	}
	return p, nil
}

// err reports the field errors gathered, then a cursor we did not make: a
// bad status or limit is a validation error, a foreign cursor a malformed
// request.
func (p *page) err() error {
	if len(p.errs) > 0 {
		return latchkey.ValidationError(p.errs...)
	}
	if v := p.q.Get("cursor"); v != "" {
		c, err := latchkey.DecodeCursor(v)
		if err != nil {
			return err
		}
		p.after = c
	}
	return nil
}

// parseListPage reads a list route's page when it has no other parameter
// to check.
func parseListPage(rawQuery string) (*page, error) {
	p, err := parsePage(rawQuery)
	if err != nil {
		return nil, err
	}
	return p, p.err()
}

// nextCursor is the JSON next_cursor: null on the last page.
func nextCursor(c *latchkey.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.Encode()
	return &s
}
