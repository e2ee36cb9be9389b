package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// A command that only exists in tests, to check the CLI plumbing itself.
func init() {
	registerCommand(999, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:   "argdump",
			Hidden: true,
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 4},
				&cli.StringFlag{Name: "type", Aliases: []string{"t"}},
				&cli.BoolFlag{Name: "short"},
				&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Value: time.Second},
			},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				if c.Args().First() == "fail" {
					return fmt.Errorf("it failed\nsecond line")
				}
				p.Doc(map[string]any{"type": "argdump", "count": c.Int("count"), "t": c.String("type"), "short": c.Bool("short"), "args": c.Args().Slice()})
				if c.IsSet("interval") {
					p.Textf("interval=%s ", c.Duration("interval"))
				}
				p.Textf("count=%d type=%s short=%v args=%q\n", c.Int("count"), c.String("type"), c.Bool("short"), c.Args().Slice())
				return nil
			},
		}
	})
}

// runCLI runs nettool in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"nettool"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestFlagsAfterArguments(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"argdump", "a", "b"}, `count=4 type= short=false args=["a" "b"]`},
		{[]string{"argdump", "a", "-c", "3", "b", "--short"}, `count=3 type= short=true args=["a" "b"]`},
		{[]string{"argdump", "--type=MX", "a", "--type", "TXT"}, `count=4 type=TXT short=false args=["a"]`},
		{[]string{"argdump", "a", "--", "-c", "9"}, `count=4 type= short=false args=["a" "-c" "9"]`},
		{[]string{"argdump", "-", "@127.0.0.1", "+short"}, `count=4 type= short=false args=["-" "@127.0.0.1" "+short"]`},
		{[]string{"argdump", "host", "-c3", "-tMX"}, `count=3 type=MX short=false args=["host"]`},
		{[]string{"argdump", "-short", "host"}, `count=4 type= short=true args=["host"]`},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, c.args...)
		if code != 0 || strings.TrimSpace(out) != c.want {
			t.Errorf("%q: code %d out %q err %q, want %q", c.args, code, out, errs, c.want)
		}
	}
	out, _, code := runCLI(t, "argdump", "host", "--json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["type"] != "argdump" {
		t.Fatalf("--json after argument not honoured: code %d out %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"argdump", "x", "--nope"}, "nettool: argdump: flag provided but not defined: --nope"},
		{[]string{"argdump", "-c", "abc"}, "nettool: argdump: invalid value \"abc\" for flag -c"},
		{[]string{"argdump", "-o", "yaml"}, "nettool: argdump: unknown output format \"yaml\""},
		{[]string{"frobnicate"}, "nettool: unknown command \"frobnicate\""},
		{[]string{"--bogus"}, "nettool: flag provided but not defined: --bogus"},
		{[]string{"serve", "nosuch"}, "nettool: serve: unknown command \"nosuch\""},
		{[]string{"completion", "tcsh"}, "nettool: completion: unknown shell \"tcsh\""},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, c.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		if out != "" {
			t.Errorf("%q: usage error wrote to stdout: %q", c.args, out)
		}
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
			t.Errorf("%q: stderr %q, want one line starting %q", c.args, errs, c.want)
		}
	}
}

func TestErrorIsOneLine(t *testing.T) {
	out, errs, code := runCLI(t, "argdump", "fail")
	if code != exitFailed || out != "" || errs != "nettool: argdump: it failed\n" {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
}

func TestEnvVars(t *testing.T) {
	t.Setenv("NETTOOL_ARGDUMP_COUNT", "7")
	t.Setenv("NETTOOL_COUNT", "8") // not a variable: counts belong to a command
	t.Setenv("NETTOOL_OUTPUT", "jsonl")
	out, errs, code := runCLI(t, "argdump", "x")
	if code != 0 || !strings.Contains(out, `"count":7`) || strings.Count(out, "\n") != 1 {
		t.Fatalf("env vars not honoured: code %d out %q err %q", code, out, errs)
	}
	out, _, _ = runCLI(t, "argdump", "x", "-c", "2", "-o", "text")
	if !strings.HasPrefix(out, "count=2") {
		t.Fatalf("flag must beat env var: %q", out)
	}
}

func TestVersion(t *testing.T) {
	for _, flag := range []string{"--version", "-V"} {
		out, _, code := runCLI(t, flag)
		if code != 0 || !strings.HasPrefix(out, "nettool ") {
			t.Errorf("%s: code %d out %q", flag, code, out)
		}
	}
	out, _, code := runCLI(t, "version", "--json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Type != "version" || v.Version == "" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Fatalf("version --json: code %d out %q", code, out)
	}
}

func TestHelpShowsExitCodes(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "EXIT CODES") || !strings.Contains(out, "NETTOOL_") {
		t.Fatalf("help: code %d out %q", code, out)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, errs, code := runCLI(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "nettool") {
			t.Errorf("completion %s: code %d err %q", sh, code, errs)
		}
	}
	out, _, code := runBinary(t, nil, "--generate-bash-completion")
	if code != 0 || !strings.Contains(out, "version") || !strings.Contains(out, "completion") {
		t.Fatalf("command candidates: code %d out %q", code, out)
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		script := filepath.Join(t.TempDir(), "c.bash")
		out, _, _ := runCLI(t, "completion", "bash")
		if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
			t.Fatalf("bash rejects the completion script: %v %s", err, msg)
		}
	}
}

func TestLeafTakesHelpAsArgument(t *testing.T) {
	out, errs, code := runCLI(t, "argdump", "help", "h")
	if code != 0 || strings.TrimSpace(out) != `count=4 type= short=false args=["help" "h"]` {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	out, _, code = runCLI(t, "argdump", "x", "-h")
	if code != 0 || !strings.Contains(out, "USAGE") {
		t.Fatalf("-h after an argument: code %d out %q", code, out)
	}
}

// Every flag gets its command's variable first and loses its help category
// on a run that prints no help, whatever its type: the types nettool uses,
// one wrapped with its names cached, and a type it does not use (found by
// reflection); a nil flag is left alone.
func TestFlagFieldsEveryType(t *testing.T) {
	flags := []cli.Flag{
		&cli.BoolFlag{Name: "b", Category: "C", EnvVars: []string{"OTHER"}},
		&cli.StringFlag{Name: "s", Category: "C"},
		&cli.IntFlag{Name: "i", Category: "C"},
		&cli.DurationFlag{Name: "d", Category: "C"},
		&cli.StringSliceFlag{Name: "ss", Category: "C"},
		&cli.Float64Flag{Name: "f", Category: "C"},
		&cli.GenericFlag{Name: "g", Category: "C"},
		withCachedNames(&cli.BoolFlag{Name: "wrapped-b", Category: "C"}),
		&cli.UintFlag{Name: "u", Category: "C"},
	}
	addEnvVars(flags, "serve dns")
	addEnvVars(flags, "serve dns") // a second pass adds nothing
	uncategorise(&cli.Command{Flags: flags})
	type getters interface {
		GetEnvVars() []string
		GetCategory() string
	}
	for _, f := range flags {
		name := namesOf(f)[0]
		want := []string{envName("serve dns", name)}
		if name == "b" {
			want = append(want, "OTHER")
		}
		// Read back through urfave's own getters, not through fieldsOf.
		g := f.(getters)
		if got := g.GetEnvVars(); !slices.Equal(got, want) {
			t.Errorf("--%s: variables %q, want %q", name, got, want)
		}
		if c := g.GetCategory(); c != "" {
			t.Errorf("--%s: category %q, want it cleared", name, c)
		}
		if got := flagEnvVars(f); !slices.Equal(got, want) {
			t.Errorf("--%s: flagEnvVars %q, want %q", name, got, want)
		}
	}
	var nilFlag *cli.StringFlag
	if ff := fieldsOf(nilFlag); ff != (flagFields{}) {
		t.Errorf("a nil flag: fields %+v, want none", ff)
	}
	addEnvVars([]cli.Flag{nilFlag}, "get") // must not panic
}

func TestEnvNameAllocations(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = envName("serve metrics", "config-reload-interval-seconds") }); n != 1 {
		t.Errorf("envName made %v allocations for a long name, want 1", n)
	}
}

func TestEnvNames(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"resolve", "timeout"}: "NETTOOL_RESOLVE_TIMEOUT",
		{"", "no-color"}:       "NETTOOL_NO_COLOR",
		{"get", "http1.0"}:     "NETTOOL_GET_HTTP1_0",
		{"serve dns", "zone"}:  "NETTOOL_SERVE_DNS_ZONE",
	} {
		if got := envName(in[0], in[1]); got != want {
			t.Errorf("envName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

// A run of one command holds that command alone; help, docs and completion
// see them all.
func TestSoleCommand(t *testing.T) {
	e := &appEnv{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: os.Getenv}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nettool", "argdump", "x"}, "argdump"},
		{[]string{"nettool", "version"}, "version"},
		{[]string{"nettool", "resolve", "x"}, "resolve"},
		{[]string{"nettool", "dig", "x"}, "resolve"},
		{[]string{"nettool", "serve", "dns"}, "serve"},
		{[]string{"nettool", "--help"}, ""},
		{[]string{"nettool", "help", "argdump"}, ""},
		{[]string{"nettool", "docs", "--man"}, ""},
		{[]string{"nettool", "completion", "bash"}, ""},
		{[]string{"nettool", "argdump", completionFlag}, ""},
		{[]string{"nettool", "nosuch"}, ""},
		{[]string{"nettool"}, ""},
	} {
		got := ""
		if cmds := buildCommands(e, commandSpecs, soleName(c.args)); len(cmds) == 1 {
			got = cmds[0].Name
		}
		if got != c.want {
			t.Errorf("sole command of %q = %q, want %q", c.args, got, c.want)
		}
	}
	out, _, code := runCLI(t, "argdump", "-h")
	if code != 0 || !strings.Contains(out, "nettool argdump") {
		t.Fatalf("help of a sole command: %d %q", code, out)
	}
}

// "-h" as the value of a flag is that flag's value, not a request for help.
func TestHelpAsFlagValue(t *testing.T) {
	out, errs, code := runCLI(t, "argdump", "host", "--type", "-h")
	if code != 0 || strings.TrimSpace(out) != `count=4 type=-h short=false args=["host"]` {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
}

// A flag on the command line wins over a variable, --json and --output
// included: NETTOOL_JSON=1 with -o text is text.
func TestOutputFlagBeatsJSONVariable(t *testing.T) {
	t.Setenv("NETTOOL_JSON", "1")
	out, _, code := runCLI(t, "argdump", "x", "-o", "text")
	if code != 0 || !strings.HasPrefix(out, "count=4") {
		t.Fatalf("-o text with NETTOOL_JSON=1: %q", out)
	}
	out, _, _ = runCLI(t, "argdump", "x", "-ojsonl")
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "{") {
		t.Fatalf("-ojsonl with NETTOOL_JSON=1: %q", out)
	}
	out, _, _ = runCLI(t, "argdump", "x")
	if !strings.HasPrefix(out, "{\n") {
		t.Fatalf("NETTOOL_JSON=1 alone: %q", out)
	}
	t.Setenv("NETTOOL_JSON", "")
	t.Setenv("NETTOOL_OUTPUT", "jsonl")
	out, _, _ = runCLI(t, "argdump", "x", "--json")
	if !strings.HasPrefix(out, "{\n") {
		t.Fatalf("--json with NETTOOL_OUTPUT=jsonl: %q", out)
	}
}

// A duration flag takes a bare number of seconds, as ping's -i 0.2 does.
func TestDurationFlagsTakeSeconds(t *testing.T) {
	for _, args := range [][]string{
		{"argdump", "x", "-i", "0.25"},
		{"argdump", "x", "-i0.25"},
		{"argdump", "x", "--interval=0.25"},
		{"argdump", "x", "--interval", "250ms"},
	} {
		out, errs, code := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "interval=250ms ") {
			t.Errorf("%q: code %d out %q err %q", args, code, out, errs)
		}
	}
	if _, _, code := runCLI(t, "argdump", "x", "-i", "1e3"); code != exitUsage {
		t.Errorf("-i 1e3: exit %d, want 2", code)
	}
}
