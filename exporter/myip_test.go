package exporter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Two loopback providers stand in for the outward list, which the test
// never contacts: consensus, the info metric and the change counter.
func TestMyIPProber(t *testing.T) {
	var answers [2]atomic.Value
	answers[0].Store("203.0.113.7")
	answers[1].Store("203.0.113.7")
	var urls []string
	for i := range answers {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, answers[i].Load().(string))
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL+"/")
	}
	r := newRig(t, fmt.Sprintf("modules:\n  myip:\n    prober: myip\n    myip:\n      allow_documentation: true\n      providers: [%q, %q]\n", urls[0], urls[1]))
	check := func(success, addr, changes string) {
		t.Helper()
		s := r.probe("myip", "ip4", "5")
		if v, _ := value(s.body, "probe_success"); v != success {
			t.Fatalf("probe_success %q, want %s\n%s", v, success, s.body)
		}
		if addr != "" {
			if v, _ := value(s.body, `probe_myip_info{address="`+addr+`",family="ip4"}`); v != "1" {
				t.Errorf("no info series for %s:\n%s", addr, s.body)
			}
		} else if strings.Contains(s.body, "probe_myip_info{") {
			t.Errorf("an info series without consensus:\n%s", s.body)
		}
		if v, _ := value(s.body, "probe_myip_changes_total"); v != changes {
			t.Errorf("changes %q, want %s", v, changes)
		}
	}
	check("1", "203.0.113.7", "0")
	check("1", "203.0.113.7", "0")
	answers[0].Store("203.0.113.8")
	answers[1].Store("203.0.113.8")
	check("1", "203.0.113.8", "1")
	answers[1].Store("203.0.113.9")
	check("0", "", "1")
	if s := r.probe("myip", "ip5", ""); s.code != 400 {
		t.Errorf("bad family: %d %s", s.code, s.body)
	}
}
