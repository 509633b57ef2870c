package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Hard caps: the tool is bounded in time and in what it creates whatever
// its flags say.
const (
	maxDuration    = 15 * time.Minute
	maxUsers       = 1000
	maxTasks       = 100000 // per user
	maxConcurrency = 1000
	maxRate        = 100000
)

var knownScenarios = []string{"signin", "refresh", "list", "create", "mixed", "healthz"}

// config is the parsed command line.
type config struct {
	url         string
	allowRemote bool
	users       int
	tasks       int
	concurrency int
	duration    time.Duration
	rate        float64
	timeout     time.Duration
	scenarios   []string
	json        bool
	soak        bool
}

// soakDuration is how long -soak runs unless -d says otherwise.
const soakDuration = 10 * time.Minute

// usageError is bad usage: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	var scen string
	fs := newFlagSet(cfg, &scen, getenv, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if cfg.soak {
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if given["scenarios"] {
			return nil, usagef("-soak runs the mixed scenario; leave out -scenarios")
		}
		scen = "mixed"
		if !given["d"] {
			cfg.duration = soakDuration
		}
	}
	if err := cfg.checkCaps(); err != nil {
		return nil, err
	}
	var err error
	if cfg.scenarios, err = parseScenarios(scen); err != nil {
		return nil, err
	}
	if total := cfg.duration * time.Duration(len(cfg.scenarios)); total > maxDuration {
		return nil, usagef("-d %v times %d scenarios is %v, over the cap of %v", cfg.duration, len(cfg.scenarios), total, maxDuration)
	}
	u, err := checkTarget(cfg.url, cfg.allowRemote)
	if err != nil {
		return nil, usageError{err}
	}
	cfg.url = u.String()
	return cfg, nil
}

// newFlagSet defines the flags into cfg, and -scenarios into scen, which
// parseFlags reads only after -soak may have replaced it.
func newFlagSet(cfg *config, scen *string, getenv func(string) string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("latchkey-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defURL := getenv("LATCHKEY_LOAD_URL")
	if defURL == "" {
		defURL = "http://127.0.0.1:8080"
	}
	fs.StringVar(&cfg.url, "url", defURL, "base URL of the server (env LATCHKEY_LOAD_URL); loopback only unless -allow-remote")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow a target host that is not loopback")
	fs.IntVar(&cfg.users, "users", 20, fmt.Sprintf("users to sign up (at most %d)", maxUsers))
	fs.IntVar(&cfg.tasks, "tasks", 20, fmt.Sprintf("tasks to create per user (at most %d)", maxTasks))
	fs.IntVar(&cfg.concurrency, "c", 4, fmt.Sprintf("concurrent workers (at most %d)", maxConcurrency))
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, fmt.Sprintf("duration of each scenario (all of them together at most %v)", maxDuration))
	fs.Float64Var(&cfg.rate, "rate", 0, "fixed rate in requests/s (open loop, through -c workers); 0 = as fast as -c workers go")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.BoolVar(&cfg.json, "json", false, "also write the results as one JSON object on stdout, after the report (which then goes to stderr)")
	fs.StringVar(scen, "scenarios", "list", "comma-separated scenarios run one after the other: "+strings.Join(knownScenarios, ", "))
	fs.BoolVar(&cfg.soak, "soak", false, fmt.Sprintf("soak test: the mixed scenario for %v (or -d), printing the server's RSS every minute; fails on any error", soakDuration))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: latchkey-load [flags]\n\nStart the server with --auth-rate 0 first. Flags:")
		fs.PrintDefaults()
	}
	return fs
}

// checkCaps reports the first numeric flag outside its hard cap.
func (cfg *config) checkCaps() error {
	switch {
	case cfg.users < 1 || cfg.users > maxUsers:
		return usagef("-users must be 1 to %d", maxUsers)
	case cfg.tasks < 0 || cfg.tasks > maxTasks:
		return usagef("-tasks must be 0 to %d", maxTasks)
	case cfg.concurrency < 1 || cfg.concurrency > maxConcurrency:
		return usagef("-c must be 1 to %d", maxConcurrency)
	case cfg.duration <= 0 || cfg.duration > maxDuration:
		return usagef("-d must be above 0 and at most %v", maxDuration)
	case cfg.rate < 0 || cfg.rate > maxRate:
		return usagef("-rate must be 0 to %d", maxRate)
	case cfg.timeout <= 0 || cfg.timeout > 5*time.Minute:
		return usagef("-timeout must be above 0 and at most 5m")
	}
	return nil
}

// parseScenarios splits the comma-separated -scenarios, skipping empty
// entries; it refuses an unknown name and an empty list.
func parseScenarios(scen string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(scen, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(knownScenarios, s) {
			return nil, usagef("unknown scenario %q (known: %s)", s, strings.Join(knownScenarios, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, usagef("-scenarios: none given")
	}
	return out, nil
}
