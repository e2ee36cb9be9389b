package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/serve"
)

// A test-only command that shows the values of a repeatable flag as the
// command received them.
func init() {
	registerCommand(998, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:   "slicedump",
			Hidden: true,
			Flags:  []cli.Flag{&cli.StringSliceFlag{Name: "item", Aliases: []string{"I"}}},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				p.Textf("%q\n", c.StringSlice("item"))
				return nil
			},
		}
	})
}

// TestRepeatableFlagsAsTyped: a value of a repeatable flag reaches the
// command exactly as typed, commas and spaces included, from the command
// line and from its variable.
func TestRepeatableFlagsAsTyped(t *testing.T) {
	out, errs, code := runCLI(t, "slicedump", "-I", "Accept: text/html, application/json", "--item", "  padded  ", "-I", "a,b,,c")
	if want := `["Accept: text/html, application/json" "  padded  " "a,b,,c"]`; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("command line: exit %d out %q err %q, want %s", code, out, errs, want)
	}
	// A flag given under two of its names (curl's -H and --header).
	out, errs, code = runCLI(t, "argdump", "x", "-c", "3", "--count", "5")
	if want := `count=5 type= short=false args=["x"]`; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("-c then --count: exit %d out %q err %q, want %s", code, out, errs, want)
	}
	t.Setenv("NETTOOL_SLICEDUMP_ITEM", "If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT ")
	out, errs, code = runCLI(t, "slicedump")
	if want := `["If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT "]`; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("variable: exit %d out %q err %q, want %s", code, out, errs, want)
	}
}

// TestRepeatableFlagsOfEveryCommand: the repeatable flags of the real
// commands, with values that hold commas.
func TestRepeatableFlagsOfEveryCommand(t *testing.T) {
	s := getServe(t, false)
	_, port, _ := net.SplitHostPort(s.Addr())
	// get -H: header values with commas (lists, HTTP dates).
	out, errs, code := runCLI(t, "get", "-b", s.URL()+"/mirror",
		"-H", "Accept: text/html, application/json",
		"-H", "If-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT")
	for _, want := range []string{"\r\nAccept: text/html, application/json\r\n", "\r\nIf-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT\r\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("get -H: exit %d err %q, request lacks %q:\n%s", code, errs, want, out)
		}
	}
	t.Run("env", func(t *testing.T) {
		t.Setenv("NETTOOL_GET_HEADER", "Accept: text/html, application/json")
		out, errs, code := runCLI(t, "get", "-b", s.URL()+"/mirror")
		if code != 0 || !strings.Contains(out, "\r\nAccept: text/html, application/json\r\n") {
			t.Errorf("NETTOOL_GET_HEADER: exit %d err %q:\n%s", code, errs, out)
		}
	})
	// get --resolve: curl's HOST:PORT:ADDR[,ADDR] is one value.
	out, errs, code = runCLI(t, "get", "-b", "http://my.test:"+port+"/mirror", "--resolve", "my.test:"+port+":127.0.0.1,127.0.0.1")
	if code != 0 || !strings.Contains(out, "Host: my.test:"+port+"\r\n") {
		t.Errorf("get --resolve with two addresses: exit %d err %q out %q", code, errs, out)
	}
	// resolve -t: the documented comma list still works.
	dnsAddr := resolveStartServer(t, resolveZone)
	out, errs, code = runCLI(t, "resolve", "@"+dnsAddr, "example.test", "-t", "MX,TXT", "+short")
	if code != 0 || !strings.Contains(out, "10 mail.example.test.") || !strings.Contains(out, `"v=spf1 -all"`) {
		t.Errorf("resolve -t MX,TXT: exit %d err %q out %q", code, errs, out)
	}
	// resolve --server: one server per value, as typed.
	out, errs, code = runCLI(t, "resolve", "--server", dnsAddr, "example.test", "-t", "MX", "+short")
	if code != 0 || !strings.Contains(out, "10 mail.example.test.") {
		t.Errorf("resolve --server: exit %d err %q out %q", code, errs, out)
	}
	// tcp --send and -p: data with commas and spaces goes as typed; the
	// port list is split by tcp itself.
	echo, err := serve.EchoListen("127.0.0.1:0", serve.EchoOptions{Chunk: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = echo.Serve(ctx); close(served) }()
	defer func() { cancel(); echo.Close(); <-served }()
	out, errs, code = runCLI(t, "tcp", echo.Addr().String(), "--send", "a, b ,c  ")
	if code != 0 || !strings.Contains(out, `sent 9 bytes: "a, b ,c  "`) {
		t.Errorf("tcp --send with commas: exit %d err %q out %q", code, errs, out)
	}
	_, echoPort, _ := net.SplitHostPort(echo.Addr().String())
	out, errs, code = runCLI(t, "tcp", "127.0.0.1", "-p", echoPort+","+port)
	if code != 0 || len(regexp.MustCompile(`(?m)^\d+/tcp +open `).FindAllString(out, -1)) != 2 {
		t.Errorf("tcp -p %s,%s: exit %d err %q out %q", echoPort, port, code, errs, out)
	}
	// serve dns --zone: a file name with a comma.
	zone := filepath.Join(t.TempDir(), "a,b.zone")
	if err := os.WriteFile(zone, []byte("$ORIGIN comma.test.\n@ 300 IN SOA ns hm 1 2 3 4 5\n@ 300 IN A 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, "serve", "dns", "--zone", zone, "--show-zone")
	if code != 0 || !strings.Contains(out, "192.0.2.1") {
		t.Errorf("serve dns --zone %s: exit %d err %q out %q", zone, code, errs, out)
	}
}

// TestOwnVariableBeatsShared: a command's own variable wins over the shared
// one, also across --json and --output; the command line wins over both.
func TestOwnVariableBeatsShared(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		json bool
	}{
		{map[string]string{"NETTOOL_JSON": "1", "NETTOOL_ARGDUMP_OUTPUT": "text"}, nil, false},
		{map[string]string{"NETTOOL_OUTPUT": "text", "NETTOOL_ARGDUMP_JSON": "1"}, nil, true},
		{map[string]string{"NETTOOL_JSON": "1", "NETTOOL_ARGDUMP_JSON": "false"}, nil, false},
		{map[string]string{"NETTOOL_OUTPUT": "json", "NETTOOL_ARGDUMP_OUTPUT": "text"}, nil, false},
		{map[string]string{"NETTOOL_ARGDUMP_JSON": "1", "NETTOOL_ARGDUMP_OUTPUT": "text"}, []string{"-o", "text"}, false},
		{map[string]string{"NETTOOL_ARGDUMP_OUTPUT": "text"}, []string{"--json"}, true},
		{map[string]string{"NETTOOL_JSON": "1"}, nil, true},
	}
	for _, c := range cases {
		t.Run("", func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			out, errs, code := runCLI(t, append([]string{"argdump", "x"}, c.args...)...)
			if code != 0 || strings.HasPrefix(out, "{") != c.json {
				t.Errorf("%v %q: exit %d err %q out %q, want json=%v", c.env, c.args, code, errs, out, c.json)
			}
		})
	}
	// The case of the issue, with a real command.
	dnsAddr := resolveStartServer(t, resolveZone)
	t.Setenv("NETTOOL_JSON", "1")
	t.Setenv("NETTOOL_RESOLVE_OUTPUT", "text")
	out, errs, code := runCLI(t, "resolve", "@"+dnsAddr, "example.test", "-t", "MX", "+short")
	if code != 0 || strings.HasPrefix(out, "{") || !strings.Contains(out, "10 mail.example.test.") {
		t.Errorf("NETTOOL_JSON=1 NETTOOL_RESOLVE_OUTPUT=text: exit %d err %q out %q", code, errs, out)
	}
}
