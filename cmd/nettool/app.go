package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"sort"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe/output"
)

// appEnv is what one run of nettool works with. Commands take their streams
// and environment from it, never from package os, so tests can run them
// in-process.
type appEnv struct {
	ctx    context.Context // cancelled by Ctrl-C
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	args   []string // the command line as given

	printer *output.Printer // made by printerFor, flushed when the command ends
	promErr error           // -o prom=FILE could not be written
}

// cmdSpec builds one command for a run. Each command file registers its own
// in init, so the commands live apart and the app stays one list.
type cmdSpec struct {
	order int
	build func(e *appEnv) *cli.Command
}

var (
	commandSpecs []cmdSpec // top-level commands
	serveSpecs   []cmdSpec // subcommands of `nettool serve`
)

func registerCommand(order int, build func(e *appEnv) *cli.Command) {
	commandSpecs = append(commandSpecs, cmdSpec{order, build})
}

func registerServe(order int, build func(e *appEnv) *cli.Command) {
	serveSpecs = append(serveSpecs, cmdSpec{order, build})
}

func buildCommands(e *appEnv, specs []cmdSpec) []*cli.Command {
	sorted := append([]cmdSpec(nil), specs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].order < sorted[j].order })
	cmds := make([]*cli.Command, 0, len(sorted))
	for _, s := range sorted {
		cmds = append(cmds, s.build(e))
	}
	return cmds
}

func init() {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version and exit"}
}

// envPrefix starts every flag's environment variable. A command's flags are
// NETTOOL_<COMMAND>_<FLAG> (--timeout of resolve is NETTOOL_RESOLVE_TIMEOUT,
// --zone of serve dns NETTOOL_SERVE_DNS_ZONE), so a variable set for one
// command never changes another; the output flags are also NETTOOL_<FLAG>
// for every command (NETTOOL_OUTPUT, NETTOOL_NO_COLOR), the command's own
// variable winning.
const envPrefix = "NETTOOL_"

// newApp builds the CLI for one run of args. When args name a command that
// needs no other (not help, docs or completion, which describe them all),
// the app holds that command alone: urfave prepares every command it holds
// (flag categories, help names) and nettool gives each flag its variable,
// which is most of the start-up work a short run like a single lookup does.
func newApp(e *appEnv, args []string) *cli.App {
	cmds := buildCommands(e, commandSpecs)
	if c := soleCommand(cmds, args); c != nil {
		cmds = []*cli.Command{c}
	}
	app := &cli.App{
		Name:                 "nettool",
		Usage:                "network diagnostics: DNS, ping, TCP, HTTP and your addresses, for people and scripts",
		Version:              versionString(),
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		ExitErrHandler:       func(*cli.Context, error) {},
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitCodeHelp +
			"\nENVIRONMENT:\n   Every flag of a command can also be set as NETTOOL_<COMMAND>_<FLAG> (--timeout of resolve is\n" +
			"   NETTOOL_RESOLVE_TIMEOUT); the output flags also as NETTOOL_OUTPUT, NETTOOL_JSON, NETTOOL_NO_COLOR\n" +
			"   and NETTOOL_QUIET. A flag on the command line wins. NO_COLOR turns colour off.\n",
		Commands: cmds,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("unknown command %q (see nettool --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErrorf("%v (see nettool --help)", err)
		},
	}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, "nettool", versionString())
	}
	for _, cmd := range app.Commands {
		prepare(e, cmd, "")
	}
	return app
}

// soleCommand returns the command args run when it can run alone: args name
// it first, before any flag of the app's own, and it is not one of the
// commands that describe the whole app.
func soleCommand(cmds []*cli.Command, args []string) *cli.Command {
	if len(args) < 2 || isFlagToken(args[1]) || args[len(args)-1] == completionFlag {
		return nil
	}
	c := findCommand(cmds, args[1])
	if c == nil || c.Name == "docs" || c.Name == "completion" {
		return nil
	}
	return c
}

// prepare walks a command tree: leaves get the shared output flags, usage
// errors on stderr with exit 2, errors prefixed with the command's path and
// env vars for every flag.
func prepare(e *appEnv, cmd *cli.Command, parent string) {
	path := strings.TrimSpace(parent + " " + cmd.Name)
	cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return &cmdError{path: path, err: usageErrorf("%v (see nettool %s --help)", err, path)}
	}
	if len(cmd.Subcommands) > 0 || cmd.Action == nil {
		for _, sub := range cmd.Subcommands {
			prepare(e, sub, path)
		}
		if cmd.Action == nil {
			cmd.Action = func(c *cli.Context) error {
				if c.NArg() > 0 {
					return &cmdError{path: path, err: usageErrorf("unknown command %q (see nettool %s --help)", c.Args().First(), path)}
				}
				return cli.ShowSubcommandHelp(c)
			}
		}
		addEnvVars(cmd.Flags, path)
		return
	}
	// A leaf's arguments are names, hosts and URLs: "help" or "h" among them
	// is an argument, not urfave's help subcommand (-h still shows help).
	cmd.HideHelpCommand = true
	cmd.Flags = append(cmd.Flags, outputFlagsOf(path)...)
	addEnvVars(cmd.Flags, path)
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		err := action(c)
		if e.printer != nil {
			_ = e.printer.Flush()
		}
		if e.promErr != nil && (err == nil || errors.Is(err, errFailed)) {
			err = e.promErr
		}
		if err != nil {
			return &cmdError{path: path, err: err}
		}
		return nil
	}
}

// cmdError ties an error to the command that raised it, for the
// "nettool: resolve: ..." line.
type cmdError struct {
	path string
	err  error
}

func (e *cmdError) Error() string { return e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

const categoryOutput = "OUTPUT"

// outputFlags are on every command.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "output format: text, json (one document), jsonl (one object per line, streamed), or prom[=FILE] (Prometheus text; ping, tcp, get, resolve)", Category: categoryOutput, EnvVars: []string{envName("", "output")}},
		&cli.BoolFlag{Name: "json", Usage: "shortcut for --output json", Category: categoryOutput, EnvVars: []string{envName("", "json")}},
		&cli.BoolFlag{Name: "no-color", Usage: "no colour, even on a terminal (NO_COLOR works too)", Category: categoryOutput, EnvVars: []string{envName("", "no-color")}},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "less chatter: results and summaries only", Category: categoryOutput, EnvVars: []string{envName("", "quiet")}},
	}
}

// Commands whose output is not a result take only some of the output flags:
// a completion script or a man page has no JSON form, and the demo is text
// for a person.
var someOutputFlags = map[string][]string{
	"completion": nil,
	"docs":       nil,
	"demo":       {"no-color"},
}

func outputFlagsOf(path string) []cli.Flag {
	keep, some := someOutputFlags[path]
	if !some {
		return outputFlags()
	}
	var out []cli.Flag
	for _, f := range outputFlags() {
		if contains(keep, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}

// printerFor makes the run's printer from the shared output flags.
func (e *appEnv) printerFor(c *cli.Context) (*output.Printer, error) {
	if e.printer != nil {
		return e.printer, nil
	}
	// --json and --output: the one given on the command line wins over
	// the other's variable (NETTOOL_JSON=1 with -o text is text).
	name := c.String("output")
	if c.Bool("json") && (givenOnCommandLine(e.args, "json") || !givenOnCommandLine(e.args, "output", "o")) {
		name = "json"
	}
	prom, err := e.promOutput(c, name)
	if err != nil {
		return nil, err
	}
	if prom != nil {
		name = "json" // the command builds its --json document; prom turns it into metrics
	}
	f, err := output.ParseFormat(name)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	e.printer = output.New(e.stdout, e.stderr, output.Options{
		Format: f,
		Color:  f == output.Text && output.ColorWanted(e.stdout, c.Bool("no-color"), e.getenv),
		Quiet:  c.Bool("quiet"),
		Prom:   prom,
	})
	return e.printer, nil
}

// givenOnCommandLine reports whether a flag called one of names appears in
// args (--name, -name, --name=V, and -oV for a one-letter name).
func givenOnCommandLine(args []string, names ...string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if !isFlagToken(a) {
			continue
		}
		tok := strings.TrimLeft(a, "-")
		for _, n := range names {
			if tok == n || strings.HasPrefix(tok, n+"=") || (len(n) == 1 && a[1] != '-' && strings.HasPrefix(tok, n)) {
				return true
			}
		}
	}
	return false
}

// stdinReader is stdin for a command to read: a read blocked on a terminal
// or a slow pipe ends with the context's error at Ctrl-C.
func (e *appEnv) stdinReader() io.Reader { return ctxReader{e.ctx, e.stdin} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, len(p))
	done := make(chan result, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return copy(p, buf[:r.n]), r.err
	case <-c.ctx.Done():
		// The read goroutine ends with the process (or when stdin yields).
		return 0, c.ctx.Err()
	}
}

// addEnvVars gives every flag of the command at path its
// NETTOOL_<COMMAND>_<FLAG> variable, ahead of any it already has.
func addEnvVars(flags []cli.Flag, path string) {
	for _, f := range flags {
		v := reflect.ValueOf(f)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		field := v.Elem().FieldByName("EnvVars")
		if !field.IsValid() || field.Type() != reflect.TypeOf([]string(nil)) {
			continue
		}
		name := envName(path, f.Names()[0])
		cur := field.Interface().([]string)
		if !contains(cur, name) {
			field.Set(reflect.ValueOf(append([]string{name}, cur...)))
		}
	}
}

// envName names the variable of a flag of the command at path ("" for the
// shared ones): --http1.0 of get is NETTOOL_GET_HTTP1_0.
func envName(path, flag string) string {
	if path != "" {
		flag = path + "_" + flag
	}
	return envPrefix + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, flag)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run is nettool: it parses args, runs one command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C asks the command to stop and print what it measured;
	// a second one kills nettool, as the default handler does.
	defer context.AfterFunc(ctx, stop)()
	e := &appEnv{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, args: args}
	app := newApp(e, args)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if e.printer != nil {
		_ = e.printer.Flush()
	}
	code, msg := codeFor(err)
	if msg != "" {
		prefix := "nettool: "
		if ce, ok := err.(*cmdError); ok {
			prefix += ce.path + ": "
		}
		fmt.Fprintln(stderr, prefix+oneLine(msg))
	}
	return code
}

// oneLine keeps an error to one line on stderr, with any control byte from
// the network escaped (parts already quoted keep their backslashes).
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return output.EscapeLine(s)
}
