package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/app"
)

// cmdMailList prints every mail waiting in the outbox, retrying ones
// included, with its whole text part: with no SMTP configured it is how
// an operator reads a reset link or a code. Every line goes through
// printable, since a mail holds what users typed (a name, an address).
func cmdMailList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	db, err := openForMail(ctx, "mail list", args, getenv, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := db.ListMail(ctx)
	if err != nil {
		return fmt.Errorf("mail list: %w", err)
	}
	if len(ms) == 0 {
		fmt.Fprintln(stdout, "no mail waiting in the outbox")
		return nil
	}
	for i, m := range ms {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "Mail:    %s\nTo:      %s\nSubject: %s\nCreated: %s\n",
			printable(m.ID), printable(m.To), printable(m.Subject), m.CreatedAt.Format(time.RFC3339))
		if m.Attempts > 0 {
			fmt.Fprintf(stdout, "Status:  %d failed attempts, next at %s: %s\n",
				m.Attempts, m.NextAt.Format(time.RFC3339), printable(m.LastError))
		}
		fmt.Fprintln(stdout)
		for line := range strings.Lines(m.Text) {
			fmt.Fprintln(stdout, "  "+printable(strings.TrimRight(line, "\r\n")))
		}
	}
	return nil
}

// cmdMailRetry makes every waiting mail due now: a running server sends it
// within a second.
func cmdMailRetry(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	db, err := openForMail(ctx, "mail retry", args, getenv, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.RetryMail(ctx)
	if err != nil {
		return fmt.Errorf("mail retry: %w", err)
	}
	fmt.Fprintf(stdout, "%d mails due now; a running server with LATCHKEY_SMTP_URL sends them\n", n)
	return nil
}

// openForMail parses a mail command's flags and opens the existing store.
func openForMail(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer) (*app.Store, error) {
	cfg, rest, err := configured(name, args, getenv, stdout, nil)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("%s: unexpected argument %q", name, rest[0])
	}
	cfg.MustExist = true
	return app.OpenStore(ctx, &cfg)
}
