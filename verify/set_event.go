package verify

import (
	"github.com/golang-jwt/jwt/v5"
)

// readEvent fills s from its one event's payload ev and the SET's sub_id.
func (s *SET) readEvent(mc jwt.MapClaims, ev map[string]any, issuer string) *SETError {
	switch s.EventType {
	case EventSessionRevoked:
		s.Kind = SETSessionRevoked
		return s.readSessionRevoked(mc["sub_id"], ev, issuer)
	case EventVerification:
		s.Kind = SETVerification
		return s.readVerification(mc["sub_id"], ev)
	case EventStreamUpdated:
		s.Kind = SETStreamUpdated
		return s.readStreamUpdated(mc["sub_id"], ev)
	}
	s.Kind = SETUnknown
	return nil
}

// readSessionRevoked reads a CAEP session-revoked event. Its sub_id must be
// a complex subject (RFC 9493 §3.3) naming the session (format opaque), or,
// for a user-scoped event, the user (format iss_sub, of this issuer) with
// an event_timestamp bounding the tokens it revokes.
func (s *SET) readSessionRevoked(subID any, ev map[string]any, issuer string) *SETError {
	ts, ok := numericDate(ev, "event_timestamp")
	if !ok {
		return setErr(SETErrInvalidRequest, ReasonBadEvent, nil)
	}
	s.EventTime = ts
	sub, ok := subID.(map[string]any)
	if !ok || sub["format"] != "complex" {
		return setErr(SETErrInvalidRequest, ReasonBadSubject, nil)
	}
	if raw, ok := sub["session"]; ok {
		if s.SessionID, ok = opaqueID(raw); !ok {
			return setErr(SETErrInvalidRequest, ReasonBadSubject, nil)
		}
	}
	if raw, ok := sub["user"]; ok {
		u, _ := raw.(map[string]any)
		iss, _ := u["iss"].(string)
		id, _ := u["sub"].(string)
		if u["format"] != "iss_sub" || iss != issuer || id == "" {
			return setErr(SETErrInvalidRequest, ReasonBadSubject, nil)
		}
		s.UserIssuer, s.UserID = iss, id
	}
	switch {
	case s.SessionID == "" && s.UserID == "":
		return setErr(SETErrInvalidRequest, ReasonBadSubject, nil)
	case s.SessionID == "" && s.EventTime.IsZero():
		// A user-scoped event without its bound would revoke every token
		// of the user, past and future alike.
		return setErr(SETErrInvalidRequest, ReasonBadEvent, nil)
	}
	s.InitiatingEntity, _ = ev["initiating_entity"].(string)
	if ra, ok := ev["reason_admin"].(map[string]any); ok {
		s.ReasonAdmin = make(map[string]string, len(ra))
		for lang, v := range ra {
			if text, ok := v.(string); ok {
				s.ReasonAdmin[lang] = text
			}
		}
		s.Reason = s.ReasonAdmin["en"]
	}
	return nil
}

// readVerification reads an SSF verification event: state, when present,
// is a string, and sub_id, when present, the stream as an opaque subject.
func (s *SET) readVerification(subID any, ev map[string]any) *SETError {
	if raw, ok := ev["state"]; ok {
		if s.State, ok = raw.(string); !ok {
			return setErr(SETErrInvalidRequest, ReasonBadEvent, nil)
		}
	}
	return s.readStream(subID)
}

// readStreamUpdated reads an SSF stream-updated event: a known status, an
// optional string reason, and sub_id, when present, the stream.
func (s *SET) readStreamUpdated(subID any, ev map[string]any) *SETError {
	status, _ := ev["status"].(string)
	if status != StreamEnabled && status != StreamPaused && status != StreamDisabled {
		return setErr(SETErrInvalidRequest, ReasonBadEvent, nil)
	}
	s.StreamStatus = status
	s.StreamReason, _ = ev["reason"].(string)
	return s.readStream(subID)
}

// readStream reads the stream an SSF event names in its sub_id: absent, or
// an opaque subject.
func (s *SET) readStream(subID any) *SETError {
	if subID == nil {
		return nil
	}
	var ok bool
	if s.StreamID, ok = opaqueID(subID); !ok {
		return setErr(SETErrInvalidRequest, ReasonBadSubject, nil)
	}
	return nil
}

// opaqueID reads an opaque subject identifier (RFC 9493 §3.2.4): format
// "opaque" and a non-empty string id.
func opaqueID(raw any) (string, bool) {
	m, _ := raw.(map[string]any)
	id, _ := m["id"].(string)
	return id, m["format"] == "opaque" && id != ""
}
