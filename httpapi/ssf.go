package httpapi

// The revocation feed (issue 15): Latchkey's OpenID Shared Signals
// transmitter. Discovery is public; every other call authenticates a
// receiver by its secret (Authorization: Bearer, RFC 6750), and a
// receiver sees its own streams only.

import (
	"errors"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/ssf"
	"github.com/latchkey/latchkey/verify"
)

var errNoFeed = latchkey.Errorf(latchkey.ENOTFOUND,
	"no revocation feed: it needs EdDSA signing keys (LATCHKEY_JWT_ALG=EdDSA)")

// handleSSFConfiguration serves the transmitter's metadata.
func (s *server) handleSSFConfiguration() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if s.Feed == nil {
			return errNoFeed
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		encode(w, http.StatusOK, s.Feed.Configuration())
		return nil
	})
}

// receiverHandler is a handler of a receiver's call.
type receiverHandler func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error

// withReceiver authenticates the receiver of an SSF call before anything
// else (its body, its stream): 401 without a secret or with one Latchkey
// does not know.
func (s *server) withReceiver(next receiverHandler) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if s.Feed == nil {
			return errNoFeed
		}
		secret, err := verify.BearerToken(r)
		if err != nil {
			var ve *verify.Error
			if errors.As(err, &ve) {
				return latchkey.Errorf(ve.Code, "a receiver's secret is required: Authorization: Bearer SECRET")
			}
			return err
		}
		rc, err := s.Feed.Authenticate(r.Context(), secret)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return next(w, r, rc)
	})
}

// handleCreateStream creates a poll-delivery stream.
func (s *server) handleCreateStream() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		in, err := decodeWith[ssf.StreamRequest](w, r, true, lenientJSON)
		if err != nil {
			return err
		}
		st, err := s.Feed.CreateStream(r.Context(), rc, in)
		if err != nil {
			return err
		}
		encode(w, http.StatusCreated, st)
		return nil
	})
}

// handleGetStreams answers the stream named by ?stream_id=, or the list of
// the receiver's streams without it.
func (s *server) handleGetStreams() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		if id, ok := streamIDParam(r); ok {
			st, err := s.Feed.Stream(r.Context(), rc, id)
			if err != nil {
				return err
			}
			encode(w, http.StatusOK, st)
			return nil
		}
		list, err := s.Feed.Streams(r.Context(), rc)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, list)
		return nil
	})
}

// handleDeleteStream deletes the stream named by ?stream_id=.
func (s *server) handleDeleteStream() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		id, _ := streamIDParam(r)
		if err := s.Feed.DeleteStream(r.Context(), rc, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// streamIDParam is the stream_id query parameter, and whether it came.
func streamIDParam(r *http.Request) (string, bool) {
	q := r.URL.Query()
	return q.Get("stream_id"), q.Has("stream_id")
}

// handlePoll is RFC 8936 poll delivery: acknowledge, then the pending
// SETs, held up to ssf.DefaultHold when there are none.
func (s *server) handlePoll() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		in, err := decodeWith[ssf.PollRequest](w, r, true, lenientJSON)
		if err != nil {
			return err
		}
		ans, err := s.Feed.Poll(r.Context(), rc, r.PathValue("id"), in)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, ans)
		return nil
	})
}

// handleGetStreamStatus answers the status of the stream ?stream_id=.
func (s *server) handleGetStreamStatus() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		id, _ := streamIDParam(r)
		st, err := s.Feed.StreamStatus(r.Context(), rc, id)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, st)
		return nil
	})
}

// handleSetStreamStatus sets a stream's status: enabled, paused or
// disabled.
func (s *server) handleSetStreamStatus() http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		in, err := decodeWith[ssf.Status](w, r, false, lenientJSON)
		if err != nil {
			return err
		}
		st, err := s.Feed.SetStreamStatus(r.Context(), rc, in)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, st)
		return nil
	})
}

// handleVerifyStream asks for a verification SET on a stream: 204, and
// the SET, echoing state, in the stream's next poll answer.
func (s *server) handleVerifyStream() http.Handler {
	type request struct {
		StreamID string `json:"stream_id"`
		State    string `json:"state"`
	}
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		in, err := decodeWith[request](w, r, false, lenientJSON)
		if err != nil {
			return err
		}
		if err := s.Feed.VerifyStream(r.Context(), rc, in.StreamID, in.State); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleUpdateStream is PATCH (replace false) or PUT (true) of a stream.
func (s *server) handleUpdateStream(replace bool) http.Handler {
	return s.withReceiver(func(w http.ResponseWriter, r *http.Request, rc *latchkey.Receiver) error {
		in, err := decodeWith[ssf.StreamUpdate](w, r, false, lenientJSON)
		if err != nil {
			return err
		}
		st, err := s.Feed.UpdateStream(r.Context(), rc, in, replace)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, st)
		return nil
	})
}
