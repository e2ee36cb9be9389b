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

// TestManPageHasHelpSections: the man page and the markdown reference have
// the exit codes and the environment that --help shows.
func TestManPageHasHelpSections(t *testing.T) {
	help, _, _ := runCLI(t, "--help")
	man, _, code := runCLI(t, "docs", "--man")
	md, _, _ := runCLI(t, "docs", "--markdown")
	if code != 0 || !strings.Contains(man, "\n.SH EXIT STATUS\n") || !strings.Contains(man, "\n.SH ENVIRONMENT\n") || !strings.Contains(md, "\n# EXIT STATUS\n") {
		t.Fatalf("man page or reference lacks EXIT STATUS / ENVIRONMENT:\n%s", man[max(0, len(man)-2000):])
	}
	for _, c := range exitCodes {
		if !strings.Contains(man, `\fB`+c.code+`\fP`) || !strings.Contains(md, "| "+c.code+" | ") || !strings.Contains(help, "   "+c.code+" ") {
			t.Errorf("exit code %s missing from --help, the man page or the reference", c.code)
		}
	}
	for _, w := range []string{"NETTOOL_<COMMAND>_<FLAG>", "NO_COLOR turns colour off"} {
		if !strings.Contains(help, w) || !strings.Contains(man, w) || !strings.Contains(md, w) {
			t.Errorf("%q missing from --help, the man page or the reference", w)
		}
	}
}
