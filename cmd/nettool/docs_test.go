package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the checked-in docs and completions from the code")

// TestDocsInSync fails when the checked-in man page, markdown reference or
// completion scripts drift from what the code generates. Refresh them with
// `go test ./cmd/nettool -run TestDocsInSync -update-docs`.
func TestDocsInSync(t *testing.T) {
	files := map[string][]string{
		"nettool.1":                {"docs", "--man"},
		"reference.md":             {"docs", "--markdown"},
		"completions/nettool.bash": {"completion", "bash"},
		"completions/nettool.zsh":  {"completion", "zsh"},
		"completions/nettool.fish": {"completion", "fish"},
	}
	for name, args := range files {
		out, errs, code := runBinary(t, nil, args...)
		if code != 0 {
			t.Fatalf("nettool %v: exit %d: %s", args, code, errs)
		}
		path := filepath.Join("..", "..", "docs", name)
		if *updateDocs {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (generate with: go test ./cmd/nettool -run TestDocsInSync -update-docs)", err)
		}
		if string(want) != out {
			t.Errorf("docs/%s is out of date: regenerate with go test ./cmd/nettool -run TestDocsInSync -update-docs", name)
		}
	}
}
