package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionModifiedField: with VCS stamping on, version --json always
// has "modified" (false for a clean tree), as documented; without it, the
// field is absent.
func TestVersionModifiedField(t *testing.T) {
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "false"}}, `"modified":false`},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}, `"modified":true`},
		{nil, ""},
	} {
		b, _ := json.Marshal(versionFrom(&debug.BuildInfo{GoVersion: "go1.x", Settings: c.settings}, true))
		if c.want == "" && strings.Contains(string(b), "modified") || c.want != "" && !strings.Contains(string(b), c.want) {
			t.Errorf("%v: %s, want %q", c.settings, b, c.want)
		}
	}
	// The real binary, built in this checkout.
	out, _, code := runBinary(t, nil, "version", "--json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("version --json: exit %d %q", code, out)
	}
	if _, ok := m["modified"]; m["commit"] != nil && !ok {
		t.Errorf("VCS-stamped build without \"modified\": %s", out)
	}
}
