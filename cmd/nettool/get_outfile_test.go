package main

import (
	"os"
	"path/filepath"
	"testing"
)

// -O FILE is replaced only by a successful transfer: a refused connection
// or, with --fail, an error status leaves FILE as it was, as curl does; and
// -b --fail writes no error body to stdout.
func TestGetOutFileOnlyOnSuccess(t *testing.T) {
	s := getServe(t, false)
	dir := t.TempDir()
	f := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(f, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(want string) {
		t.Helper()
		b, err := os.ReadFile(f)
		if err != nil || string(b) != want {
			t.Fatalf("FILE holds %q (%v), want %q", b, err, want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("temporary files left behind: %v", ents)
		}
	}
	if _, _, code := runCLI(t, "get", "http://127.0.0.1:1/", "-O", f, "-q"); code != exitFailed {
		t.Fatalf("refused: exit %d", code)
	}
	check("keep\n")
	if _, _, code := runCLI(t, "get", s.URL()+"/status/500", "--fail", "-O", f, "-q"); code != exitFailed {
		t.Fatalf("--fail 500: exit %d", code)
	}
	check("keep\n")
	if out, _, code := runCLI(t, "get", s.URL()+"/status/500", "--fail", "-b"); code != exitFailed || out != "" {
		t.Fatalf("-b --fail 500: exit %d stdout %q", code, out)
	}
	if _, errs, code := runCLI(t, "get", s.URL()+"/ip", "-O", f, "-q"); code != 0 {
		t.Fatalf("success: exit %d %q", code, errs)
	}
	check("127.0.0.1\n")
}
