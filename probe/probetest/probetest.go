// Package probetest holds helpers that nettool's tests share: finding the
// real peers (dig, nsd, nginx, ...) the interop tests run against, and
// checking for root where a test needs it. Tests only ever talk to loopback
// or to network namespaces they create.
package probetest

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing peers and privileges must fail tests
// rather than skip them (scripts/test.sh and CI set NETTOOL_REQUIRE_PEERS=1).
func Required() bool { return os.Getenv("NETTOOL_REQUIRE_PEERS") == "1" }

// LookPeer returns the path of a peer program. When it is missing the test
// fails under NETTOOL_REQUIRE_PEERS=1 and is skipped, loudly, otherwise.
func LookPeer(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := dir + "/" + name; isExecutable(p) {
			return p
		}
	}
	Unavailable(t, name+" is not installed (scripts/install-deps.sh installs it)")
	return ""
}

// RequireRoot fails or skips a test that needs root (raw sockets, network
// namespaces).
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root: "+why)
	}
}

// Unavailable fails the test when peers are required and skips it with a
// loud message otherwise.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("NOT RUN (required by NETTOOL_REQUIRE_PEERS=1): %s", msg)
	}
	t.Skipf("NOT RUN: %s", msg)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
