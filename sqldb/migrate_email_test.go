package sqldb_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqldb"
)

// emailKeyVersion is the migration that keys emails by emailkey.Of.
const emailKeyVersion = 16

// oldUser is a row as versions before emailKeyVersion stored it.
type oldUser struct{ id, email, issuer string }

// openBeforeEmailKey opens loc migrated up to just before emailKeyVersion and
// stores users there as those versions did: email_lower = strings.ToLower.
func openBeforeEmailKey(t *testing.T, e engine, loc string, users []oldUser) *sqldb.DB {
	t.Helper()
	db := e.open(t, loc)
	must(t, db.MigrateTo(ctx, emailKeyVersion-1))
	for i, u := range users {
		lower := strings.ToLower(u.email)
		if u.issuer != "" {
			lower = "\nexternal\n" + u.issuer + "\n" + u.id
		}
		_, err := db.Writer().ExecContext(ctx,
			`INSERT INTO users (id, email, email_lower, name, role, password_hash, disabled, created_at, issuer)
			 VALUES ($1, $2, $3, '', 'user', $4, FALSE, $5, $6)`,
			u.id, u.email, lower, map[bool]string{true: "", false: "x"}[u.issuer != ""], int64(i+1), u.issuer)
		must(t, err)
	}
	return db
}

func appliedVersion(t *testing.T, db *sqldb.DB) int64 {
	t.Helper()
	var v int64
	must(t, db.Reader().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v))
	return v
}

// Existing rows get the new key; every spelling then finds them; external
// users keep their internal key.
func TestMigrateEmailKey(t *testing.T) {
	users := []oldUser{
		{"u-ascii", "Ada@Example.com", ""},
		{"u-accent", "ÉMILE@example.com", ""},
		{"u-nfd", "cafe\u0301@example.com", ""},
		{"u-sharp-s", "Straße@example.de", ""},
		{"u-long-s", "ſam@example.com", ""},
		{"u-sigma", "ΟΔΥΣΣΕΥΣ@example.gr", ""},
		{"u-zwsp", "zero\u200bwidth@example.com", ""}, // accepted before; refused for new accounts now
		{"u-cherokee", "\u13a0@example.com", ""},      // strings.ToLower made it the small letter
		{"ext-1", "", "https://front.example"},
	}
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		db := openBeforeEmailKey(t, e, loc, users)
		must(t, db.Migrate(ctx))
		for _, tc := range []struct{ id, spelling string }{
			{"u-ascii", "ada@EXAMPLE.COM"},
			{"u-accent", "émile@example.com"},
			{"u-nfd", "café@example.com"},
			{"u-nfd", "CAFE\u0301@example.com"},
			{"u-sharp-s", "strasse@example.de"},
			{"u-long-s", "sam@example.com"},
			{"u-long-s", "ＳＡＭ@example.com"},
			{"u-sigma", "οδυσσευς@example.gr"},
			{"u-sigma", "Οδυσσευς@example.gr"},
			{"u-sigma", "οδυσσευσ@example.gr"},
			{"u-zwsp", "zero\u200bwidth@example.com"},
			{"u-zwsp", "zerowidth@example.com"},
			{"u-cherokee", "\u13a0@example.com"},
			{"u-cherokee", "\uab70@example.com"},
		} {
			u, err := db.FindUserByEmail(ctx, tc.spelling)
			if err != nil || u.ID != tc.id {
				t.Errorf("FindUserByEmail(%+q) = %+v, %v; want %s", tc.spelling, u, err, tc.id)
			}
		}
		var extKey string
		must(t, db.Reader().QueryRowContext(ctx, `SELECT email_key FROM users WHERE id = 'ext-1'`).Scan(&extKey))
		if extKey != "\nexternal\nhttps://front.example\next-1" {
			t.Errorf("external user's key became %q", extKey)
		}
		// The keys are unique as before: a new spelling is taken.
		wantCode(t, db.CreateUser(ctx, &latchkey.User{Email: "SAM@example.com", PasswordHash: "y"}), latchkey.EEMAILTAKEN)
		wantCode(t, db.CreateUser(ctx, &latchkey.User{Email: "zerowidth@example.com", PasswordHash: "y"}), latchkey.EEMAILTAKEN)
		if v := appliedVersion(t, db); v < emailKeyVersion {
			t.Fatalf("schema at version %d", v)
		}
	})
}

// Users that were separate accounts and now share a key: the migration
// fails naming them, changes nothing, and succeeds once the operator has
// told them apart.
func TestMigrateEmailKeyCollision(t *testing.T) {
	users := []oldUser{
		{"u-sam", "sam@example.com", ""},
		{"u-long-s", "ſam@example.com", ""},
		{"u-fullwidth", "ＳＡＭ@example.com", ""},
		{"u-sigma-final", "σς@example.gr", ""},
		{"u-sigma", "σσ@example.gr", ""},
		{"u-nfc", "café@example.com", ""},
		{"u-nfd", "cafe\u0301@example.com", ""},
		{"u-alone", "ada@example.com", ""},
	}
	forEachEngineLoc(t, func(t *testing.T, e engine, loc string) {
		db := openBeforeEmailKey(t, e, loc, users)
		before := appliedVersion(t, db)
		err := db.Migrate(ctx)
		if err == nil {
			t.Fatal("the migration merged accounts silently")
		}
		msg := err.Error()
		for _, group := range []string{"[u-fullwidth u-long-s u-sam]", "[u-sigma u-sigma-final]", "[u-nfc u-nfd]"} {
			if !strings.Contains(msg, group) {
				t.Errorf("error %q does not name the group %s", msg, group)
			}
		}
		if strings.Contains(msg, "u-alone") || strings.Contains(msg, "example.com") {
			t.Errorf("error %q names an uninvolved user or an email", msg)
		}
		// Nothing changed: still the old schema and the old keys.
		if v := appliedVersion(t, db); v != before {
			t.Fatalf("schema at version %d after a failed migration", v)
		}
		var lower string
		must(t, db.Reader().QueryRowContext(ctx, `SELECT email_lower FROM users WHERE id = 'u-nfd'`).Scan(&lower))
		if lower != "cafe\u0301@example.com" {
			t.Fatalf("u-nfd's old key became %+q", lower)
		}

		// The operator gives the look-alikes distinct addresses, or deletes
		// an unwanted account, and starts again.
		for _, fix := range []string{
			`UPDATE users SET email = 'sam.2@example.com', email_lower = 'sam.2@example.com' WHERE id = 'u-long-s'`,
			`UPDATE users SET email = 'sam.3@example.com', email_lower = 'sam.3@example.com' WHERE id = 'u-fullwidth'`,
			`DELETE FROM users WHERE id = 'u-sigma-final'`,
			`UPDATE users SET email = 'cafe.2@example.com', email_lower = 'cafe.2@example.com' WHERE id = 'u-nfd'`,
		} {
			_, err := db.Writer().ExecContext(ctx, fix)
			must(t, err)
		}
		must(t, db.Migrate(ctx))
		for spelling, id := range map[string]string{"ſam@example.com": "u-sam", "σς@example.gr": "u-sigma", "cafe\u0301@example.com": "u-nfc", "sam.3@example.com": "u-fullwidth"} {
			if u, err := db.FindUserByEmail(ctx, spelling); err != nil || u.ID != id {
				t.Errorf("after the fix, FindUserByEmail(%+q) = %+v, %v; want %s", spelling, u, err, id)
			}
		}
	})
}
