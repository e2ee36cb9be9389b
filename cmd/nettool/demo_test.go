package main

import (
	"strings"
	"testing"
)

// The README's first command: the whole journey on loopback, with the real
// binary, every step in order, exit 0.
func TestDemoRunsTheJourney(t *testing.T) {
	out, errs, code := runBinary(t, nil, "demo", "--no-color")
	if code != 0 {
		t.Fatalf("demo exited %d\nstderr: %s\nstdout: %s", code, errs, out)
	}
	steps := []string{
		"== Step 1: resolve: a name becomes an address (DNS) ==",
		"== Step 2: ping",
		"== Step 3: connect",
		"== Step 4: GET a page",
		"== Step 5: your addresses",
		"Done: every step ran on loopback.",
	}
	last := -1
	for _, s := range steps {
		i := strings.Index(out, s)
		if i < 0 || i < last {
			t.Fatalf("step %q missing or out of order in:\n%s", s, out)
		}
		last = i
	}
	for _, want := range []string{
		"$ nettool resolve www.example.test @127.0.0.1:",
		"www.example.test.   CNAME  IN     300  host.example.test.",
		"host.example.test.\n127.0.0.1\n",
		"NXDOMAIN",
		"$ nettool resolve -x 127.0.0.1 @127.0.0.1:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("--no-color output has colour codes")
	}
	// The steps' chatter is part of the transcript, in its place: nothing
	// cuts into it from stderr.
	if errs != "" || !strings.Contains(out, "--allow-documentation\nasking 2 providers over IPv4") {
		t.Errorf("stderr %q; the myip step's progress line must be in the transcript:\n%s", errs, out)
	}
}

// Output flags that make no sense for a command are not offered, and the
// demo stays text whatever the caller's NETTOOL_JSON says.
func TestNoJSONWhereThereIsNone(t *testing.T) {
	for _, args := range [][]string{{"completion", "bash", "--json"}, {"demo", "--json"}, {"docs", "--man", "-o", "json"}} {
		if _, errs, code := runCLI(t, args...); code != exitUsage || !strings.Contains(errs, "flag provided but not defined") {
			t.Errorf("%q: exit %d %q", args, code, errs)
		}
	}
	t.Setenv("NETTOOL_JSON", "1")
	out, errs, code := runCLI(t, "demo", "--no-color")
	if code != 0 || strings.Contains(out, "\n{") {
		t.Fatalf("demo with NETTOOL_JSON=1: exit %d, JSON in its output? %q\n%s", code, errs, out)
	}
}
