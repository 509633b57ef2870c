package smtptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"

	lkmail "github.com/latchkey/latchkey/mail"
)

// Message is one received mail, parsed.
type Message struct {
	EnvelopeFrom string   // MAIL FROM
	EnvelopeTo   []string // RCPT TO
	TLS          bool     // whether it came over an encrypted connection
	Header       mail.Header
	From         string // the From header, decoded
	To           string // the To header's address
	Subject      string // decoded
	ContentType  string // the top-level media type, such as multipart/alternative
	Text         string // the text/plain part, decoded
	HTML         string // the text/html part, decoded
	Raw          []byte
}

// Code is the only six-digit number of the text part, as a person would
// read it (mail.FindCodes); "" when there is none or more than one.
func (m *Message) Code() string {
	codes := lkmail.FindCodes(m.Text)
	if len(codes) != 1 {
		return ""
	}
	return codes[0]
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+/#/[a-z-]+\?token=[A-Za-z0-9_-]+`)

// Link is the first link with a one-time token in the text part, "" when
// there is none.
func (m *Message) Link() string { return linkRE.FindString(m.Text) }

var wordDecoder = mime.WordDecoder{}

func parse(raw []byte) (*Message, error) {
	pm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &Message{Header: pm.Header, Raw: raw}
	if m.Subject, err = wordDecoder.DecodeHeader(pm.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if m.From, err = wordDecoder.DecodeHeader(pm.Header.Get("From")); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if to, err := mail.ParseAddress(pm.Header.Get("To")); err == nil {
		m.To = to.Address
	} else {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := m.parts(pm.Header.Get("Content-Type"), pm.Header.Get("Content-Transfer-Encoding"), pm.Body); err != nil {
		return nil, err
	}
	return m, nil
}

// parts walks a MIME body and keeps its text/plain and text/html parts.
func (m *Message) parts(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if m.ContentType == "" {
		m.ContentType = mt
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.parts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s part: %w", mt, err)
	}
	switch mt {
	case "text/plain":
		m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
	case "text/html":
		m.HTML = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies wrap with.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
