package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/emailkey"
)

// rekeyEmails is migration 16's Go step: every local user's email_key,
// until then strings.ToLower(email), becomes emailkey.Of(email). Users of
// an external issuer keep their internal key. When two users would get one
// key (say "sam@x" and "ſam@x", separate accounts until now), it fails
// naming their ids, and the migration's transaction changes nothing: which
// account is the real one is the operator's call, never merged silently
// (docs/design.md, "Emails").
func rekeyEmails(ctx context.Context, tx *sql.Tx) error {
	type change struct{ id, key string }
	var changes []change
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM users WHERE issuer = '' ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, email, old string
		if err := rows.Scan(&id, &email, &old); err != nil {
			rows.Close()
			return err
		}
		if key := emailkey.Of(email); key != old {
			changes = append(changes, change{id, key})
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	// Park the changing rows on keys no address has (a validated address
	// has no newline), so that a row may take a key that another changing
	// row gives up.
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_key = $1 WHERE id = $2`, "\nrekey\n"+c.id, c.id); err != nil {
			return err
		}
	}
	clash := map[string][]string{} // key -> the ids holding or wanting it
	for _, c := range changes {
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email_key = $1`, c.key).Scan(&holder)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `UPDATE users SET email_key = $1 WHERE id = $2`, c.key, c.id)
		case err == nil:
			if clash[c.key] == nil {
				clash[c.key] = []string{holder}
			}
			clash[c.key] = append(clash[c.key], c.id)
		}
		if err != nil {
			return err
		}
	}
	return clashError(clash)
}

// clashError names the users that would share a key, group by group.
func clashError(clash map[string][]string) error {
	if len(clash) == 0 {
		return nil
	}
	var groups []string
	for _, ids := range clash {
		slices.Sort(ids)
		groups = append(groups, "["+strings.Join(ids, " ")+"]")
	}
	slices.Sort(groups)
	return fmt.Errorf("emails of different users are now one account, in %d group(s) of user ids: %s; "+
		"nothing was changed: give each group's users distinct emails, or remove the accounts that are not wanted, "+
		"then migrate again (docs/design.md, \"Emails\")", len(groups), strings.Join(groups, ", "))
}
