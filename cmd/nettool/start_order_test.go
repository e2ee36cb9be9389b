//go:build linux && (amd64 || arm64 || riscv64 || loong64)

package main

import (
	"strings"
	"testing"
)

// TestStartUpPackageInitialisesFirst runs the real binary with the
// runtime's init trace: the start-up package (the stack and the page
// mapping) must run before every initialiser whose faults it is there to
// save. Go runs the ready package first in the order of import paths, so
// only the runtime's own packages and packages that need nothing and sort
// before it (crypto/internal/fips140deps/cpu) may come first; an import
// added to the package would put it after that import's whole tree.
func TestStartUpPackageInitialisesFirst(t *testing.T) {
	const pkg = "github.com/nettool/nettool/cmd/nettool/internal/prefault"
	_, stderr, code := runBinary(t, []string{"GODEBUG=inittrace=1"}, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d: %s", code, stderr)
	}
	var before []string
	seen, runtimeDone := false, false
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		if f[1] == pkg {
			seen = true
			break
		}
		if runtimeDone && f[1] > pkg {
			before = append(before, f[1])
		}
		if f[1] == "runtime" {
			runtimeDone = true
		}
	}
	if !seen {
		t.Fatalf("no init line for %s in the trace:\n%s", pkg, stderr)
	}
	if len(before) > 0 {
		t.Errorf("initialised before the start-up package: %v", before)
	}
}
