package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0 // done
	exitFailure = 1 // something failed while running
	exitUsage   = 2 // bad flags, arguments or configuration
	exitHalted  = 3 // the deletion guard held the removals, deletes and disables
)

// env is what a command runs with: its output streams and its logger.
type env struct {
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// command is one subcommand of xtsync.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

// commands lists the subcommands in the order the usage text shows them.
func commands() []command {
	return []command{
		{"serve", "run the webhook, subscriptions, queue workers and scheduled reconcile until interrupted", runServe},
		{"reconcile", "sync every scoped group now: plan, check the deletion threshold, apply", runReconcile},
		{"sync", "sync one group of the scope now (--group ID)", runSync},
		{"approve", "show what the deletion guard holds, and apply it with --yes", runApprove},
		{"explain", "tell what xtsync knows and would do about one user (--user MAIL|ID)", runExplain},
		{"check", "try the configuration: sign-in, Graph permissions, scoped groups, public_url; writes nothing", runCheck},
		{"console", "serve the web console of the AWS deployment on a loopback address (serve has it on server.admin_listen)", runConsole},
		{"status", "show the synced groups, subscriptions, pending and parked work", runStatus},
		{"audit", "list the applied actions (--group, --since)", runAudit},
		{"unsubscribe", "turn change notifications off: delete xtsync's subscriptions, and keep them off", runUnsubscribe},
		{"subscribe", "turn change notifications on again after unsubscribe", runSubscribe},
		{"emulator", "run the local Microsoft Graph emulator (HTTPS, several tenants) until interrupted", runEmulator},
		{"demo", "start the emulator with the sample tenants and show what it serves", runDemo},
		{"version", "print the version", runVersion},
	}
}

// run is the whole CLI: it parses the global flags, dispatches to a
// subcommand and returns the process exit code. The global flags may also
// come after the subcommand (xtsync reconcile --log-level debug).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("xtsync", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, with the program's name
	fs.Usage = func() {}
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "xtsync: %v (see 'xtsync -h')\n", err)
		return exitUsage
	}
	if *version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	if fs.NArg() == 0 {
		printUsage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	rest, after, err := globalLogLevel(rest)
	if err != nil {
		fmt.Fprintf(stderr, "xtsync %s: %v\n", name, err)
		return exitUsage
	}
	if after != "" {
		*logLevel = after
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "xtsync: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return exitUsage
	}
	if name == "help" {
		if len(rest) == 0 {
			printUsage(stdout, fs)
			return exitOK
		}
		// help CMD is CMD -h.
		name, rest = rest[0], []string{"-h"}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "xtsync: unknown command %q (see 'xtsync -h')\n", name)
		return exitUsage
	}
	e := env{
		stdout: stdout,
		stderr: stderr,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	return exitCode(stderr, name, cmd.run(ctx, e, rest))
}

// globalLogLevel takes --log-level (-log-level, with its value after = or
// as the next argument) out of a subcommand's arguments, up to a "--",
// and returns the rest and the last value given ("" when none).
func globalLogLevel(args []string) (rest []string, level string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), level, nil
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "log-level" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, "", usagef("flag needs an argument: --log-level (debug, info, warn or error)")
			}
			i++
			value = args[i]
		}
		level = value
	}
	return rest, level, nil
}

// exitCode reports err on stderr and maps it to an exit code.
func exitCode(stderr io.Writer, name string, err error) int {
	var ue *usageError
	var he *haltError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &he):
		fmt.Fprintf(stderr, "xtsync %s: %v\n", name, err)
		return exitHalted
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "xtsync %s: %v\n", name, ue.err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "xtsync %s: %v\n", name, err)
		return exitFailure
	}
}

func printUsage(w io.Writer, global *flag.FlagSet) {
	var b strings.Builder
	b.WriteString("xtsync mirrors Microsoft Entra security groups of a source tenant into a target tenant.\n\n")
	b.WriteString("Usage:\n  xtsync [--log-level LEVEL] <command> [flags]\n  xtsync --version\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s  %s\n", c.name, c.summary)
	}
	b.WriteString("  help       print this text; help CMD prints the flags of CMD\n\nGlobal flags (before or after the command):\n")
	fmt.Fprint(w, b.String())
	global.SetOutput(w)
	global.PrintDefaults()
	global.SetOutput(io.Discard)
	fmt.Fprint(w, "\nRun 'xtsync <command> -h' for the flags of a command.\n")
}
