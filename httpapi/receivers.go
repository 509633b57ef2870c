package httpapi

// The receivers of the revocation feed (issue 15), for admins: the same
// as `latchkey receiver add/list/remove` on the host.

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

// receiverJSON is a receiver as admins see it: never its secret or hash.
type receiverJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Audience  string    `json:"audience"`
	CreatedAt time.Time `json:"created_at"`
	Streams   int       `json:"streams"`
}

func toReceiverJSON(r *latchkey.Receiver) receiverJSON {
	return receiverJSON{ID: r.ID, Name: r.Name, Audience: r.Audience, CreatedAt: r.CreatedAt, Streams: r.Streams}
}

// handleAdminAddReceiver registers a receiver and answers its secret, once.
func (s *server) handleAdminAddReceiver() http.Handler {
	type request struct {
		Name     string `json:"name"`
		Audience string `json:"audience"`
	}
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[request](w, r, false)
		if err != nil {
			return err
		}
		rc, secret, err := s.Auth.AddReceiver(r.Context(), claims(r).Subject, in.Name, in.Audience, s.client(r))
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusCreated, struct {
			Receiver receiverJSON `json:"receiver"`
			Secret   string       `json:"secret"`
		}{toReceiverJSON(rc), secret})
		return nil
	})
}

// handleAdminListReceivers lists the receivers by name.
func (s *server) handleAdminListReceivers() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		rs, err := s.Auth.Receivers(r.Context())
		if err != nil {
			return err
		}
		out := make([]receiverJSON, 0, len(rs))
		for _, rc := range rs {
			out = append(out, toReceiverJSON(rc))
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, struct {
			Receivers []receiverJSON `json:"receivers"`
		}{out})
		return nil
	})
}

// handleAdminRemoveReceiver removes a receiver, by name, with its streams.
func (s *server) handleAdminRemoveReceiver() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.Auth.RemoveReceiver(r.Context(), claims(r).Subject, r.PathValue("name"), s.client(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
