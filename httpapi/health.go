package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *server) handleReadyz() http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready.Ping(ctx); err != nil {
			s.Logger.Warn("readiness check failed", "err", err)
			return latchkey.Errorf(latchkey.EUNAVAILABLE, "store unavailable")
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	})
}
