package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/output"
)

// cliWriteErrRe is the one line a run whose stdout could not be written ends
// with.
var cliWriteErrRe = regexp.MustCompile(`^nettool: ([a-z ]+: )?cannot write the output: write \S+: (no space left on device|broken pipe)$`)

// cliSinks are stdouts that fail every write: /dev/full (as a full disk)
// and a pipe whose reader has gone.
func cliSinks(t *testing.T) map[string]func() *os.File {
	return map[string]func() *os.File{
		"dev_full": func() *os.File {
			f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			if err != nil {
				t.Skipf("no /dev/full: %v", err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
		"closed_pipe": func() *os.File {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			t.Cleanup(func() { w.Close() })
			return w
		},
	}
}

// cliRunTo runs nettool in-process with stdout going to out.
func cliRunTo(out *os.File, stdin string, args ...string) (string, int) {
	var errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, append([]string{"nettool"}, args...), strings.NewReader(stdin), out, &errb)
	return errb.String(), code
}

func cliAssertWriteFailed(t *testing.T, args []string, errs string, code int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
	last := lines[len(lines)-1]
	if code != exitFailed || !cliWriteErrRe.MatchString(last) || strings.Count(errs, "cannot write") != 1 || strings.Contains(errs, "cannot encode") {
		t.Errorf("%q: exit %d, stderr %q; want exit 1 ending in one line saying the output could not be written", args, code, errs)
	}
	if strings.Contains(errs, "interrupted") {
		t.Errorf("%q: a write error is not an interruption: %q", args, errs)
	}
}

// TestWriteErrorsFailTheRun: output that cannot be written (a full disk, a
// reader that went away) is a failed run, for every kind of command and
// every output mode, streamed or not.
func TestWriteErrorsFailTheRun(t *testing.T) {
	dnsAddr := resolveStartServer(t, resolveZone)
	var batch strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&batch, "n%d.example.test\n", i)
	}
	batchFile := filepath.Join(t.TempDir(), "names")
	if err := os.WriteFile(batchFile, []byte(batch.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tcpAddr := ln.Addr().String()
	_, tcpPort, _ := net.SplitHostPort(tcpAddr)
	httpSrv := getServe(t, false)
	ipSrv := myipNewFake(t, "203.0.113.7\n")

	cases := [][]string{
		{"version"},
		{"version", "--json"},
		{"--help"},
		{"resolve", "@" + dnsAddr, "www.example.test"},
		{"resolve", "@" + dnsAddr, "www.example.test", "--json"},
		{"resolve", "@" + dnsAddr, "-f", batchFile, "-o", "jsonl"},
		{"resolve", "@" + dnsAddr, "-f", batchFile},
		{"tcp", tcpAddr, "-c", "1"},
		{"tcp", tcpAddr, "-c", "3", "-i", "10ms", "-o", "jsonl"},
		{"tcp", "127.0.0.1", "-p", tcpPort},
		{"tcp", "127.0.0.1", "-p", tcpPort, "-o", "jsonl"},
		{"get", httpSrv.Addr(), "--json"},
		{"get", httpSrv.Addr(), "-b"},
		{"get", httpSrv.Addr()},
		{"myip", "-4", "--provider", ipSrv.url(), "--allow-documentation"},
		{"myip", "-4", "--provider", ipSrv.url(), "--allow-documentation", "-o", "jsonl"},
		{"docs", "--man"},
		{"completion", "bash"},
		{"demo"},
		{"serve", "echo", "127.0.0.1:0"},
		{"serve", "dns", "--show-zone"},
	}
	for name, sink := range cliSinks(t) {
		t.Run(name, func(t *testing.T) {
			for _, args := range cases {
				errs, code := cliRunTo(sink(), "", args...)
				cliAssertWriteFailed(t, args, errs, code)
			}
		})
	}
}

// TestWriteErrorStopsStreaming: a stream that cannot be written stops,
// instead of running on for nobody: ping -c 0 runs until stopped, and so
// does tcp -c 0.
func TestWriteErrorStopsStreaming(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for name, sink := range cliSinks(t) {
		t.Run(name, func(t *testing.T) {
			args := []string{"tcp", ln.Addr().String(), "-c", "0", "-i", "10ms", "-o", "jsonl"}
			errs, code := cliRunTo(sink(), "", args...)
			cliAssertWriteFailed(t, args, errs, code)
		})
	}
}

func TestWriteErrorPing(t *testing.T) {
	pingNeedICMP(t)
	for name, sink := range cliSinks(t) {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{
				{"ping", "127.0.0.1", "-c", "1", "--json"},
				{"ping", "127.0.0.1", "-c", "0", "-i", "0.01", "-o", "jsonl"},
				{"ping", "127.0.0.1", "-c", "1"},
			} {
				errs, code := cliRunTo(sink(), "", args...)
				cliAssertWriteFailed(t, args, errs, code)
			}
		})
	}
}

// TestWriteErrorBinary: the real binary, stdout on /dev/full.
func TestWriteErrorBinary(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := cliCommand(ctx, t, "version", "--json")
	cmd.Stdout = f
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err == nil || code != 1 || !cliWriteErrRe.MatchString(strings.TrimSpace(errb.String())) {
		t.Errorf("version --json > /dev/full: exit %d, stderr %q", code, errb.String())
	}
}

// TestIsTerminal: /dev/null and /dev/full are character devices, not
// terminals.
func TestIsTerminal(t *testing.T) {
	for _, p := range []string{"/dev/null", "/dev/full"} {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("%s: %v", p, err)
		}
		if output.IsTerminal(f) || output.IsTerminal(output.NewCheckedWriter(f, nil)) {
			t.Errorf("%s taken for a terminal", p)
		}
		f.Close()
	}
}

func cliCommand(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, nettoolBinary(t), args...)
}
