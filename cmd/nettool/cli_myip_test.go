package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// cliMyipRow returns the DETAIL of the -v row of the provider at url.
func cliMyipRow(out, url string) string {
	m := regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(url) + ` +\S+ +[0-9.]+ ms +(.*)$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	d := strings.TrimSpace(m[1])
	if i := strings.Index(d, " ("); i >= 0 {
		d = d[:i] // the server's address
	}
	return d
}

// TestMyipNeverAnsweredIsNotDisagreement: a provider that never answered
// (here: refused) does not make the only valid answer "disagree"; only
// another valid answer can.
func TestMyipNeverAnsweredIsNotDisagreement(t *testing.T) {
	// It never answers: its call ends at --timeout, long after the others
	// have answered on loopback.
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer stall.Close()
	dead := stall.URL + "/ip"
	a, b, c := myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "203.0.113.7\n"), myipNewFake(t, "198.51.100.66\n")

	out, errs, code := runCLI(t, "myip", "-v", "--external", "-4", "--provider", a.url(), "--provider", dead, "--timeout", "1s", "--allow-documentation")
	if code != 1 || cliMyipRow(out, a.url()) != "the only valid answer, below the quorum" || strings.Contains(out, "disagrees") {
		t.Errorf("one valid answer, one refused: exit %d stderr %q\n%s", code, errs, out)
	}
	out, errs, code = runCLI(t, "myip", "-v", "--external", "-4", "--provider", a.url(), "--provider", b.url(), "--provider", dead, "--quorum", "3", "--timeout", "1s", "--allow-documentation")
	if code != 1 || cliMyipRow(out, a.url()) != "agrees with 1 other, below the quorum" || strings.Contains(out, "disagrees") {
		t.Errorf("two alike, one refused, quorum 3: exit %d stderr %q\n%s", code, errs, out)
	}
	out, errs, code = runCLI(t, "myip", "-v", "--external", "-4", "--provider", a.url(), "--provider", c.url(), "--allow-documentation")
	if code != 1 || cliMyipRow(out, a.url()) != "disagrees" || cliMyipRow(out, c.url()) != "disagrees" {
		t.Errorf("two different answers: exit %d stderr %q\n%s", code, errs, out)
	}
}
