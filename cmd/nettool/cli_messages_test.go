package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

// TestUsageErrorsNameTheFlagAsTyped: Go's flag package names every flag
// with one dash; the line on stderr names it as the user typed it.
func TestUsageErrorsNameTheFlagAsTyped(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "nettool: flag provided but not defined: --bogus (see nettool --help)"},
		{[]string{"-bogus"}, "nettool: flag provided but not defined: -bogus (see nettool --help)"},
		{[]string{"tcp", "127.0.0.1:1", "--bogus"}, "nettool: tcp: flag provided but not defined: --bogus (see nettool tcp --help)"},
		{[]string{"tcp", "127.0.0.1:1", "-Z"}, "nettool: tcp: flag provided but not defined: -Z (see nettool tcp --help)"},
		{[]string{"tcp", "127.0.0.1:1", "--count", "x"}, `nettool: tcp: invalid value "x" for flag --count: parse error (see nettool tcp --help)`},
		{[]string{"tcp", "127.0.0.1:1", "-c", "x"}, `nettool: tcp: invalid value "x" for flag -c: parse error (see nettool tcp --help)`},
		{[]string{"tcp", "127.0.0.1:1", "--count"}, "nettool: tcp: flag needs an argument: --count (see nettool tcp --help)"},
		{[]string{"get", "127.0.0.1:1", "--fail=maybe"}, `nettool: get: invalid boolean value "maybe" for --fail: parse error (see nettool get --help)`},
		{[]string{"serve", "dns", "--bogus"}, "nettool: serve dns: flag provided but not defined: --bogus (see nettool serve dns --help)"},
	}
	for _, c := range cases {
		_, errs, code := runCLI(t, c.args...)
		if code != exitUsage || strings.TrimSpace(errs) != c.want {
			t.Errorf("%q: exit %d stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 replies", 1: "1 reply", 2: "2 replies"} {
		if got := probe.Count(n, "reply", "replies"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMessagesCountInTheRightNumber: "1 connection", "1 try", "1 provider",
// never "1 connections" or "provider(s)".
func TestMessagesCountInTheRightNumber(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, errs, _ := runCLI(t, "tcp", "127.0.0.1", "-p", port)
	if !strings.Contains(errs, "scanning 1 port on 1 address, 1 connection at a time") {
		t.Errorf("tcp scan stderr %q", errs)
	}
	silent, _ := resolveSilent(t)
	out, _, _ := runCLI(t, "resolve", "@"+silent, "x.test", "+tries=1", "+timeout=1")
	if !strings.Contains(out, "in 1 try of 1s") {
		t.Errorf("resolve +tries=1:\n%s", out)
	}
	f := myipNewFake(t, "203.0.113.7\n")
	_, errs, _ = runCLI(t, "myip", "-4", "--provider", f.url(), "--allow-documentation")
	if !strings.Contains(errs, "asking 1 provider over IPv4") {
		t.Errorf("myip stderr %q", errs)
	}
	bad := myipNewFake(t, "<html>\n")
	_, errs, _ = runCLI(t, "myip", "-4", "--provider", bad.url())
	if !strings.Contains(errs, "from 1 provider ") || strings.Contains(errs, "(s)") {
		t.Errorf("myip no answer stderr %q", errs)
	}
}

// TestServeHTTPTLSSaysHTTPS: the first line names the protocol served.
func TestServeHTTPTLSSaysHTTPS(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		var errb strings.Builder
		done <- run(ctx, []string{"nettool", "serve", "http", "127.0.0.1:0", "--tls", "-q"}, strings.NewReader(""), w, &errb)
		w.Close()
	}()
	line, err := bufio.NewReader(r).ReadString('\n')
	cancel()
	<-done
	if err != nil || !strings.HasPrefix(line, "serving HTTPS on https://127.0.0.1:") {
		t.Errorf("first line %q (%v)", line, err)
	}
}
