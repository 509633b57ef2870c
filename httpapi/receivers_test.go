package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestAdminReceivers: an admin adds a receiver of the revocation feed and
// gets its secret once (the store keeps only its hash), lists receivers
// without secrets, and removes one by name, which kills its secret; each
// change is audited with the admin. Every way a request can be wrong has
// its answer.
func TestAdminReceivers(t *testing.T) {
	t.Parallel()
	forEachEngine(t, options{}, func(t *testing.T, h *harness) {
		root := h.admin("root@example.com")
		user := h.signUp("user@example.com")
		add := func(bearer string, body any) response {
			return h.Do(req{Method: "POST", Path: "/api/admin/receivers", Bearer: bearer, Body: body})
		}
		const name = "notes api (eu)"
		r := add(root.AccessToken, map[string]string{"name": name, "audience": "https://notes.example"})
		r.WantStatus(t, 201)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("the answer with the secret is cacheable: %q", r.Header.Get("Cache-Control"))
		}
		var added struct {
			Receiver struct {
				ID, Name, Audience string
				Streams            int
			}
			Secret string
		}
		r.Decode(t, &added)
		h.Secrets = append(h.Secrets, added.Secret)
		if !strings.HasPrefix(added.Secret, latchkey.ReceiverSecretPrefix) || len(added.Secret) != len(latchkey.ReceiverSecretPrefix)+43 {
			t.Fatalf("secret %q is not lkr_ and 32 bytes in base64url", added.Secret)
		}
		if added.Receiver.Name != name || added.Receiver.Audience != "https://notes.example" || added.Receiver.Streams != 0 {
			t.Fatalf("receiver %+v", added.Receiver)
		}
		stored, err := h.store.FindReceiverBySecretHash(context.Background(), latchkey.HashReceiverSecret(added.Secret))
		if err != nil || stored.ID != added.Receiver.ID {
			t.Fatalf("the secret's hash finds %+v, %v", stored, err)
		}

		list := h.Do(req{Method: "GET", Path: "/api/admin/receivers", Bearer: root.AccessToken})
		list.WantStatus(t, 200)
		if strings.Contains(string(list.Body), added.Secret) || strings.Contains(string(list.Body), "secret") {
			t.Fatalf("the list shows a secret: %s", list.Body)
		}
		if got := list.JSON(t)["receivers"].([]any); len(got) != 1 || got[0].(map[string]any)["name"] != name {
			t.Fatalf("receivers %v", got)
		}

		// Wrong requests.
		add(root.AccessToken, map[string]string{"name": name, "audience": "https://other.example"}).Problem(t, 409, "conflict")
		wantField(t, add(root.AccessToken, map[string]string{"name": " padded", "audience": "a"}), "name")
		wantField(t, add(root.AccessToken, map[string]string{"name": "tab\there", "audience": "a"}), "name")
		wantField(t, add(root.AccessToken, map[string]string{"name": strings.Repeat("n", 101), "audience": "a"}), "name")
		wantField(t, add(root.AccessToken, map[string]string{"name": "ok"}), "audience")
		wantField(t, add(root.AccessToken, map[string]string{"name": "ok", "audience": "a\nb"}), "audience")
		add(root.AccessToken, map[string]string{"name": "ok", "audience": "a", "secret": "mine"}).Problem(t, 400, "invalid_request")
		add(user.AccessToken, map[string]string{"name": "ok", "audience": "a"}).Problem(t, 403, "forbidden")
		add("", map[string]string{"name": "ok", "audience": "a"}).Problem(t, 401, "missing_token")
		h.Do(req{Method: "GET", Path: "/api/admin/receivers", Bearer: user.AccessToken}).Problem(t, 403, "forbidden")
		h.Do(req{Method: "DELETE", Path: "/api/admin/receivers/x", Bearer: user.AccessToken}).Problem(t, 403, "forbidden")
		h.Do(req{Method: "DELETE", Path: "/api/admin/receivers/no-such-receiver", Bearer: root.AccessToken}).Problem(t, 404, "not_found")

		// Removed by its name, percent-encoded: its secret is dead.
		h.Do(req{Method: "DELETE", Path: "/api/admin/receivers/" + url.PathEscape(name), Bearer: root.AccessToken}).WantStatus(t, 204)
		if _, err := h.store.FindReceiverBySecretHash(context.Background(), latchkey.HashReceiverSecret(added.Secret)); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			t.Fatalf("a removed receiver's secret still finds it: %v", err)
		}
		h.waitReasons(latchkey.AuditReceiverAdded, map[string]int{"receiver=" + name: 1})
		h.waitReasons(latchkey.AuditReceiverRemoved, map[string]int{"receiver=" + name: 1})
		events, _, err := h.store.ListAudit(context.Background(), latchkey.AuditFilter{Limit: 10, Type: latchkey.AuditReceiverAdded})
		if err != nil || len(events) != 1 || events[0].ActorID != root.User.ID {
			t.Fatalf("receiver_added events %+v, %v: want one, the admin as actor", events, err)
		}
	})
}
