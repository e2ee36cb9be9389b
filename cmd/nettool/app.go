package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/cmd/nettool/internal/interrupt"
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

	printer *output.Printer       // made by printerFor, flushed when the command ends
	out     *output.CheckedWriter // stdout as given, checked; nil in tests that build an appEnv
	promErr error                 // -o prom=FILE could not be written
}

// writeError is a failed write on stdout: the output was lost, so the run
// fails (exit 1) whatever the command found.
type writeError struct{ err error }

func (w *writeError) Error() string { return "cannot write the output: " + w.err.Error() }
func (w *writeError) Unwrap() error { return w.err }

// writeFailed reports whether the run was stopped because stdout could not
// be written (not by Ctrl-C).
func (e *appEnv) writeFailed() bool {
	var we *writeError
	return e.ctx != nil && errors.As(context.Cause(e.ctx), &we)
}

// stopNote ends a summary line of a run that was stopped early.
func (e *appEnv) stopNote() string {
	if e.writeFailed() {
		return " (stopped: the output could not be written)"
	}
	return " (interrupted)"
}

// checkWrites replaces the outcome of a command by the write error when its
// output could not be written: the results are lost, so it failed (exit 1),
// and the line on stderr says why. A usage error or a local problem that
// came first keeps its own code and line.
func (e *appEnv) checkWrites(err error, path string) error {
	if e.out == nil || e.out.Err() == nil {
		return err
	}
	var we *writeError
	if errors.As(err, &we) {
		return err
	}
	if code, _ := codeFor(err); code == exitUsage || code == exitLocal {
		return err
	}
	werr := &exitError{code: exitFailed, msg: (&writeError{e.out.Err()}).Error()}
	if path == "" {
		return werr
	}
	return &cmdError{path: path, err: &writeError{e.out.Err()}}
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

// buildCommands builds the commands of specs in their order. With sole
// set (see soleName) it stops at the command of that name and returns it
// alone, so a run of the first (resolve) builds no other; docs and
// completion, which describe them all, never run alone.
func buildCommands(e *appEnv, specs []cmdSpec, sole string) []*cli.Command {
	sorted := append([]cmdSpec(nil), specs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].order < sorted[j].order })
	cmds := make([]*cli.Command, 0, len(sorted))
	for _, s := range sorted {
		c := s.build(e)
		if sole != "" && c.HasName(sole) && c.Name != "docs" && c.Name != "completion" {
			return []*cli.Command{c}
		}
		cmds = append(cmds, c)
	}
	return cmds
}

func init() {
	cli.VersionFlag = withCachedNames(&cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version and exit"})
	cli.HelpFlag = withCachedNames(cli.HelpFlag)
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
	cmds := buildCommands(e, commandSpecs, soleName(args))
	app := &cli.App{
		Name:                 "nettool",
		Usage:                "network diagnostics: DNS, ping, TCP, HTTP and your addresses, for people and scripts",
		Version:              versionString(),
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		ExitErrHandler:       func(*cli.Context, error) {},
		// A repeated flag's value reaches the command as typed: urfave
		// would split "-H 'Accept: a, b'" and every HTTP date at its
		// commas (and an env var's value too). Flags whose docs promise a
		// comma list (resolve -t A,MX, tcp -p 22,80) split it themselves.
		DisableSliceFlagSeparator: true,
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitCodeHelp +
			"\nENVIRONMENT:\n   " + strings.Join(envHelp, "\n   ") + "\n",
		Commands: cmds,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("unknown command %q (see nettool --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageErrorf("%s (see nettool --help)", flagAsTyped(err.Error(), e.args))
		},
	}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, "nettool", versionString())
	}
	for _, cmd := range app.Commands {
		prepare(e, cmd, "")
	}
	if !mayShowHelp(args) {
		// Flag categories only group flags in help; urfave renders every
		// categorised flag's help line when it sets up (regexps, env
		// hints), which a run that prints no help does not need.
		for _, c := range cmds {
			uncategorise(c)
		}
	}
	return app
}

// mayShowHelp reports whether a run of args could print help: it asks for
// it, or it names no leaf command (`nettool serve` lists its subcommands).
func mayShowHelp(args []string) bool {
	if len(args) < 2 || args[1] == "docs" || args[1] == "completion" || args[len(args)-1] == completionFlag {
		return true
	}
	for _, a := range args[1:] {
		switch a {
		case "-h", "--h", "-help", "--help", "help", "h":
			return true
		}
	}
	return false
}

// uncategorise clears the category of every flag of cmd and its subcommands.
func uncategorise(cmd *cli.Command) {
	for _, sub := range cmd.Subcommands {
		uncategorise(sub)
	}
	for _, f := range cmd.Flags {
		if ff := fieldsOf(f); ff.category != nil {
			*ff.category = ""
		}
	}
}

// soleName is the command args name to run alone: the first argument,
// before any flag of the app's own; "" when args name none that way.
func soleName(args []string) string {
	if len(args) < 2 || isFlagToken(args[1]) || args[len(args)-1] == completionFlag {
		return ""
	}
	return args[1]
}

// prepare walks a command tree: leaves get the shared output flags, usage
// errors on stderr with exit 2, errors prefixed with the command's path and
// env vars for every flag.
func prepare(e *appEnv, cmd *cli.Command, parent string) {
	path := strings.TrimSpace(parent + " " + cmd.Name)
	cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return &cmdError{path: path, err: usageErrorf("%s (see nettool %s --help)", flagAsTyped(err.Error(), e.args), path)}
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
		keepSpace(cmd.Flags)
		return
	}
	// A leaf's arguments are names, hosts and URLs: "help" or "h" among them
	// is an argument, not urfave's help subcommand (-h still shows help).
	cmd.HideHelpCommand = true
	cmd.Flags = append(cmd.Flags, outputFlagsOf(path)...)
	addEnvVars(cmd.Flags, path)
	keepSpace(cmd.Flags)
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		if err := checkNumbers(c, cmd.Flags); err != nil {
			return &cmdError{path: path, err: err}
		}
		err := action(c)
		if e.printer != nil {
			_ = e.printer.Flush()
		}
		if e.promErr != nil && (err == nil || errors.Is(err, errFailed)) {
			err = e.promErr
		}
		if err = e.checkWrites(err, path); err != nil {
			return &cmdError{path: path, err: err}
		}
		return nil
	}
}

// flagRef is a flag named in an error of Go's flag package, always with one
// dash ("not defined: -bogus" for --bogus).
var flagRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(not defined: |needs an argument: |for flag |value "[^"]*" for )-([^\s:=]+)`)
})

// flagAsTyped names the flags in a usage error as the user typed them:
// --bogus for --bogus, -Z for -Z. A flag not found on the command line gets
// two dashes for a long name and one for a letter.
func flagAsTyped(msg string, args []string) string {
	return flagRef().ReplaceAllStringFunc(msg, func(m string) string {
		sub := flagRef().FindStringSubmatch(m)
		name := sub[2]
		dashes := "--"
		if len(name) == 1 {
			dashes = "-"
		}
		for _, a := range args {
			if a == "--" {
				break
			}
			if !isFlagToken(a) {
				continue
			}
			t := strings.TrimLeft(a, "-")
			if t == name || strings.HasPrefix(t, name+"=") {
				dashes = a[:len(a)-len(t)]
				break
			}
		}
		return sub[1] + dashes + name
	})
}

// checkNumbers holds every numeric flag of every command to one rule: a
// count, a size, a rate, a ratio or a time is a finite number, 0 or more.
// NaN slips through every comparison a command makes (--max-ratio NaN
// turned off the bomb check), so it is refused here, for every flag, from
// the command line or a variable, before the command runs.
func checkNumbers(c *cli.Context, flags []cli.Flag) error {
	for _, f := range flags {
		name := namesOf(f)[0]
		if !c.IsSet(name) {
			continue
		}
		bad := ""
		switch plainFlag(f).(type) {
		case *cli.IntFlag:
			if v := c.Int(name); v < 0 {
				bad = strconv.Itoa(v)
			}
		case *cli.Int64Flag:
			if v := c.Int64(name); v < 0 {
				bad = strconv.FormatInt(v, 10)
			}
		case *cli.Float64Flag:
			if v := c.Float64(name); math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				bad = strconv.FormatFloat(v, 'g', -1, 64)
			}
		case *cli.DurationFlag:
			if v := c.Duration(name); v < 0 {
				bad = v.String()
			}
		}
		if bad != "" {
			return usageErrorf("bad --%s %s: want a finite number, 0 or more", name, bad)
		}
	}
	return nil
}

// keepSpace makes every repeatable string flag keep its value's spaces,
// as typed ("-H 'X-T:  padded  '"): urfave trims them otherwise.
func keepSpace(flags []cli.Flag) {
	for _, f := range flags {
		if sf, ok := plainFlag(f).(*cli.StringSliceFlag); ok {
			sf.KeepSpace = true
		}
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

// Commands that give a letter of the output flags another meaning, as the
// tool their users know does (trace's -q is traceroute's probes per hop):
// the long flag stays.
var outputAliasesTaken = map[string][]string{
	"trace": {"q"},
}

func outputFlagsOf(path string) []cli.Flag {
	keep, some := someOutputFlags[path]
	if taken := outputAliasesTaken[path]; len(taken) > 0 {
		flags := outputFlags()
		for _, f := range flags {
			if bf, ok := f.(*cli.BoolFlag); ok {
				var aliases []string
				for _, a := range bf.Aliases {
					if !contains(taken, a) {
						aliases = append(aliases, a)
					}
				}
				bf.Aliases = aliases
			}
		}
		return flags
	}
	if !some {
		return outputFlags()
	}
	var out []cli.Flag
	for _, f := range outputFlags() {
		if contains(keep, namesOf(f)[0]) {
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
	// --json and --output: the one given the more directly wins: on the
	// command line, then in the command's own variable, then in the shared
	// one (NETTOOL_JSON=1 with -o text is text, and so is NETTOOL_JSON=1
	// with NETTOOL_RESOLVE_OUTPUT=text).
	name := c.String("output")
	if c.Bool("json") && e.flagSource(c, "json") >= e.flagSource(c, "output") {
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

// Where a flag's value came from, weakest first.
const (
	fromDefault   = iota
	fromSharedVar // NETTOOL_OUTPUT
	fromOwnVar    // NETTOOL_RESOLVE_OUTPUT
	fromArgs      // -o text
)

// flagSource tells where the flag called name of the running command got
// its value.
func (e *appEnv) flagSource(c *cli.Context, name string) int {
	f := findFlag(c.Command.Flags, name)
	if f == nil {
		return fromDefault
	}
	if givenOnCommandLine(e.args, namesOf(f)...) {
		return fromArgs
	}
	vars := flagEnvVars(f)
	for i, v := range vars {
		if e.getenv(v) != "" {
			if i == 0 {
				return fromOwnVar // addEnvVars puts the command's own first
			}
			return fromSharedVar
		}
	}
	return fromDefault
}

// flagEnvVars returns the variables of a flag, the command's own first.
func flagEnvVars(f cli.Flag) []string {
	if ff := fieldsOf(f); ff.envVars != nil {
		return *ff.envVars
	}
	return nil
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
		// The Name field, not f.Names(): urfave runs a regexp over every
		// name there, and this is done for every flag on every run.
		ff := fieldsOf(f)
		if ff.envVars == nil || ff.name == nil {
			continue
		}
		name := envName(path, *ff.name)
		if cur := *ff.envVars; !contains(cur, name) {
			*ff.envVars = append(append(make([]string, 0, len(cur)+1), name), cur...)
		}
	}
}

// flagFields points at the fields of a flag that nettool sets for every
// flag of a run (nil where the flag has none).
type flagFields struct {
	name, category *string
	envVars        *[]string
}

// fieldsOf finds them without reflection for urfave's flag types that
// nettool uses, wrapped or not (reflection's FieldByName was a fifth of a
// run's set-up), and with it for any other.
func fieldsOf(f cli.Flag) flagFields {
	f = plainFlag(f)
	var ff flagFields
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return ff // a nil flag has no fields to set
	}
	switch t := f.(type) {
	case *cli.BoolFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.StringFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.IntFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.DurationFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.StringSliceFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.Float64Flag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	case *cli.GenericFlag:
		return flagFields{&t.Name, &t.Category, &t.EnvVars}
	}
	if v.Elem().Kind() != reflect.Struct {
		return ff
	}
	field := func(name string, typ reflect.Type) any {
		if x := v.Elem().FieldByName(name); x.IsValid() && x.Type() == typ && x.CanSet() {
			return x.Addr().Interface()
		}
		return nil
	}
	str := reflect.TypeFor[string]()
	ff.name, _ = field("Name", str).(*string)
	ff.category, _ = field("Category", str).(*string)
	ff.envVars, _ = field("EnvVars", reflect.TypeFor[[]string]()).(*[]string)
	return ff
}

// envName names the variable of a flag of the command at path ("" for the
// shared ones): --http1.0 of get is NETTOOL_GET_HTTP1_0.
func envName(path, flag string) string {
	// Every rune of the name becomes one byte, so one buffer of the
	// name's length holds them: one allocation (strings.Map and the
	// concatenation made three).
	var b strings.Builder
	b.Grow(len(envPrefix) + len(path) + 1 + len(flag))
	b.WriteString(envPrefix)
	if path != "" {
		writeEnvPart(&b, path)
		b.WriteByte('_')
	}
	writeEnvPart(&b, flag)
	return b.String()
}

// writeEnvPart writes s upper-cased, with '_' for each rune but a letter
// or a digit.
func writeEnvPart(b *strings.Builder, s string) {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteByte(byte(r))
		default:
			b.WriteByte('_')
		}
	}
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
	// Every byte of stdout goes through one checked writer: the first write
	// error (a full disk, a closed pipe) stops the command as Ctrl-C would,
	// and the run ends with exit 1 and one line saying so, whatever the
	// command did with the errors of its writes.
	ctx, cancelWrite := context.WithCancelCause(ctx)
	defer cancelWrite(nil)
	out := output.NewCheckedWriter(stdout, func(err error) { cancelWrite(&writeError{err}) })
	ctx, stop := interrupt.Context(ctx)
	defer stop()
	// The first Ctrl-C asks the command to stop and print what it measured;
	// a second one kills nettool, as the default handler does.
	defer context.AfterFunc(ctx, stop)()
	e := &appEnv{ctx: ctx, stdin: stdin, stdout: out, stderr: stderr, getenv: os.Getenv, args: args, out: out}
	app := newApp(e, args)
	if len(app.Commands) == 1 && !mayShowHelp(args) {
		cacheFlagNames(app)
	}
	argv := reorderArgs(app, args)
	err := app.RunContext(ctx, argv)
	if e.printer != nil {
		_ = e.printer.Flush()
	}
	err = e.checkWrites(err, "")
	code, msg := codeFor(err)
	if _, nested := stdout.(*output.CheckedWriter); nested && out.Err() != nil {
		// A run inside a run (a demo step): the outer run says it once.
		msg = ""
	}
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
