package main

import (
	"strings"
	"testing"

	"github.com/nettool/nettool/probe/probetest"
	"go.uber.org/goleak"
)

// tcpSilentServer accepts and never says a word until the test ends.
func tcpSilentServer(t *testing.T) string {
	t.Helper()
	return probetest.ServeTCP(t, probetest.Silent)
}

// --tls, --send and --banner against a server that never answers end at
// --read-timeout (short and explicit here): a handshake that never completes
// is a failure (exit 1), a quiet server after --send or --banner is not.
func TestTCPSilentServer(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, leakOpts...) }) // runs last, after the servers stop
	addr := tcpSilentServer(t)
	out, errs, code := runCLI(t, "tcp", addr, "--tls", "--read-timeout", "200ms")
	if code != 1 || !strings.Contains(out, "tls: handshake failed after") || !strings.Contains(out, "timeout") {
		t.Fatalf("--tls: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "tcp", addr, "--send", `hello\n`, "--read-timeout", "200ms")
	if code != 0 || !strings.Contains(out, "received: nothing (timeout after") {
		t.Fatalf("--send: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = runCLI(t, "tcp", addr, "--banner", "--read-timeout", "200ms", "--json")
	if code != 0 || !strings.Contains(out, `"end": "timeout"`) {
		t.Fatalf("--banner: exit %d\n%s\n%s", code, out, errs)
	}
}
