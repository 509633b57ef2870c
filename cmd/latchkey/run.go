package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/app"
)

// usageError is bad usage or invalid configuration: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const usage = `usage: latchkey <command> [flags]

commands:
  serve                      run the server
  migrate                    bring the store's schema up to date
  user create --email E [--name N] [--role admin] --password-stdin
                             add a user
  user disable --email E | --id ID
                             disable a user and revoke its sessions
  user verify --email E | --id ID
                             mark a user's address verified
  user reset-mfa --email E | --id ID
                             remove a user's second factors (TOTP, passkeys) and
                             recovery codes, and revoke its sessions
  keys rotate                add a new signing key
  token inspect TOKEN        decode and verify a token against the store's keys
  audit [--type T] [--limit N]
                             print recent audit events
  mail list                  print the mail waiting in the outbox, whole text
                             included (how to read it with no SMTP)
  mail retry                 make every waiting mail due now
  receiver add --name N --audience A
                             allow a service to subscribe to the revocation
                             feed; prints its secret, once, alone on the last
                             line of standard output (the rest goes to stderr)
  receiver list              print the receivers and their stream counts
  receiver remove --name N   remove a receiver and its streams

Every command takes the settings of the configuration table it uses as
flags (LATCHKEY_ACCESS_TTL is --access-ttl); "latchkey COMMAND -h" lists
them, and "latchkey serve -h" lists them all.
`

// run is the whole program; main only wires it to the process. It returns
// the exit status: 0, 1 for a failure at run time, 2 for bad usage or
// configuration. Errors are printed on one line.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, "latchkey: "+printable(strings.ReplaceAll(err.Error(), "\n", " ")))
	var ue usageError
	var ce *app.ConfigError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return 2
	}
	return 1
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given; run latchkey help")
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, getenv, stdout, stderr)
	case "user":
		switch name, r := sub(); name {
		case "create":
			return cmdUserCreate(ctx, r, getenv, stdin, stdout, stderr)
		case "disable":
			disabled := true
			return cmdUserUpdate(ctx, "user disable", r, getenv, stdout, latchkey.UserUpdate{Disabled: &disabled},
				"disabled user %s (%s); its sessions are revoked, running servers refuse its tokens within seconds\n")
		case "verify":
			verified := true
			return cmdUserUpdate(ctx, "user verify", r, getenv, stdout, latchkey.UserUpdate{EmailVerified: &verified},
				"marked the address of user %s (%s) verified\n")
		case "reset-mfa":
			return cmdUserResetMFA(ctx, r, getenv, stdout)
		default:
			return usagef("user: unknown subcommand %q (want create, disable, verify or reset-mfa)", name)
		}
	case "keys":
		switch name, r := sub(); name {
		case "rotate":
			return cmdKeysRotate(ctx, r, getenv, stdout, stderr)
		default:
			return usagef("keys: unknown subcommand %q (want rotate)", name)
		}
	case "token":
		switch name, r := sub(); name {
		case "inspect":
			return cmdTokenInspect(ctx, r, getenv, stdout, stderr)
		default:
			return usagef("token: unknown subcommand %q (want inspect)", name)
		}
	case "audit":
		return cmdAudit(ctx, rest, getenv, stdout, stderr)
	case "mail":
		switch name, r := sub(); name {
		case "list":
			return cmdMailList(ctx, r, getenv, stdout, stderr)
		case "retry":
			return cmdMailRetry(ctx, r, getenv, stdout, stderr)
		default:
			return usagef("mail: unknown subcommand %q (want list or retry)", name)
		}
	case "receiver":
		switch name, r := sub(); name {
		case "add":
			return cmdReceiverAdd(ctx, r, getenv, stdout, stderr)
		case "list":
			return cmdReceiverList(ctx, r, getenv, stdout, stderr)
		case "remove":
			return cmdReceiverRemove(ctx, r, getenv, stdout, stderr)
		default:
			return usagef("receiver: unknown subcommand %q (want add, list or remove)", name)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q; run latchkey help", cmd)
}

// newFlags makes a command's flag set carrying every setting it takes.
// Parse errors come back as usage errors; -h prints the flags to stdout.
func newFlags(name string, getenv func(string) string) (*flag.FlagSet, func() (app.Config, error)) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error; errors get one
	// line from run instead, and only -h prints the flags (parseFlags).
	fs.Usage = func() {}
	return fs, configFlags(fs, name, getenv)
}

// parseFlags parses args, turning flag errors into usage errors. On -h it
// prints the flags to stdout and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage of latchkey %s:\n", fs.Name())
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageError{err}
	}
	return nil
}
