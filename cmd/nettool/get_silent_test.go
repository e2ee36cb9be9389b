package main

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/nettool/nettool/probe/probetest"
	"go.uber.org/goleak"
)

// getFullQueue is a listener whose accept queue is full (probetest.FullQueue).
func getFullQueue(t *testing.T) string { return probetest.FullQueue(t) }

// Every phase of get ends under a silent peer, with exit 1 and one line on
// stderr that says timeout; the deadlines are short and explicit, and what
// is asserted is the outcome, not the time taken.
func TestGetSilentPeers(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, leakOpts...) }) // runs last, after the servers stop
	stop := make(chan struct{})
	defer close(stop)
	silent := getRawServer(t, func(c net.Conn) { <-stop })

	t.Run("connect", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", getFullQueue(t), "--connect-timeout", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || strings.Count(errs, "\n") != 1 || strings.Contains(out, "> GET") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("connect, --json", func(t *testing.T) {
		out, _, code := runCLI(t, "get", getFullQueue(t), "--connect-timeout", "300ms", "--json")
		if code != 1 || !strings.Contains(out, `"failure": "timeout"`) {
			t.Fatalf("code %d out %s", code, out)
		}
	})
	t.Run("tls handshake", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", "https://"+silent+"/", "-m", "300ms", "-k")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || strings.Contains(out, "TLS handshake:") || strings.Contains(out, "> GET") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("head", func(t *testing.T) {
		out, errs, code := runCLI(t, "get", silent, "-m", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || !strings.Contains(out, "> GET / HTTP/1.1") || strings.Contains(out, "< HTTP") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
	t.Run("body", func(t *testing.T) {
		half := getRawServer(t, func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.")
			io.Copy(io.Discard, c) // silent until the test closes it
		})
		out, errs, code := runCLI(t, "get", half, "-m", "300ms")
		if code != 1 || !strings.HasPrefix(errs, "nettool: get: timeout: ") || !strings.Contains(out, "< HTTP/1.1 200 OK") {
			t.Fatalf("code %d err %q out %s", code, errs, out)
		}
	})
}
