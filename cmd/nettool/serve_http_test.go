package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// The real binary: prints its URL (port 0 works), logs requests on stderr,
// stops cleanly on Ctrl-C.
func TestServeHTTPBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "serve", "http", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving HTTP on http://127.0.0.1:") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("first line %q %v", line, err)
	}
	url := strings.Fields(line)[3]
	out, errs, code := runCLI(t, "get", "-b", url+"/ip")
	if code != 0 || out != "127.0.0.1\n" {
		t.Fatalf("get /ip: code %d out %q err %q", code, out, errs)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(errb.String(), `"GET /ip HTTP/1.1" 200 10B`) {
		t.Fatalf("exit %d stderr %q", cmd.ProcessState.ExitCode(), errb.String())
	}
}

func TestServeHTTPUsage(t *testing.T) {
	for _, args := range [][]string{{"serve", "http", "a", "b"}, {"serve", "http", "127.0.0.1:99999"}, {"serve", "http", "example.com:80"}} {
		out, errs, code := runCLI(t, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "nettool: serve http: ") {
			t.Errorf("%q: code %d out %q err %q", args, code, out, errs)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, errs, code := runCLI(t, "serve", "http", ln.Addr().String())
	if code != 3 || !strings.Contains(errs, "cannot listen") {
		t.Fatalf("busy port: code %d err %q", code, errs)
	}
}

// IPv6 loopback, and -4/-6 choosing among localhost's addresses.
func TestGetIPv6(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := serve.NewHTTPServer(serve.HTTPOptions{Addr: "[::1]:0"})
	if err := s.Start(ctx); err != nil {
		probetest.Unavailable(t, "no IPv6 loopback here: "+err.Error())
	}
	defer s.Close()
	_, port, _ := net.SplitHostPort(s.Addr())
	out, errs, code := runCLI(t, "get", "-b", "http://[::1]:"+port+"/ip")
	if code != 0 || out != "::1\n" {
		t.Fatalf("[::1]: code %d out %q err %q", code, out, errs)
	}
	out, _, code = runCLI(t, "get", "-6", "localhost:"+port+"/ip")
	if code != 0 || !strings.Contains(out, "* Connected [::1]:") || !strings.Contains(out, "\n::1\n") {
		t.Fatalf("-6 localhost: code %d out %s", code, out)
	}
	// Without -6, localhost tries 127.0.0.1 first, is refused, then ::1.
	out, _, code = runCLI(t, "get", "localhost:"+port+"/ip")
	if code != 0 || !strings.Contains(out, "* Connect 127.0.0.1:"+port+" failed") || !strings.Contains(out, "* Connected [::1]:") {
		t.Fatalf("fallback: code %d out %s", code, out)
	}
	_, errs, code = runCLI(t, "get", "-4", "localhost:"+port+"/ip")
	if code != 1 || !strings.Contains(errs, "connection_refused") {
		t.Fatalf("-4: code %d err %q", code, errs)
	}
}
