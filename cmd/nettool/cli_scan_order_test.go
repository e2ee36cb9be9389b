package main

import (
	"encoding/json"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nettool/nettool/probe/probetest"
)

// TestScanTableSorted: the text table and the json document list rows by
// address, then port, whatever order the connections end in. The port
// behind a full accept queue answers last (it times out), yet sorts
// between its neighbours, and its address before 127.0.0.2's.
func TestScanTableSorted(t *testing.T) {
	_, ps, _ := net.SplitHostPort(probetest.FullQueue(t))
	p, _ := strconv.Atoi(ps)
	if p < 2 || p > 65534 {
		t.Skipf("port %d has no neighbours", p)
	}
	ports := strconv.Itoa(p-1) + "," + ps + "," + strconv.Itoa(p+1)
	out, errs, _ := runCLI(t, "tcp", "127.0.0.1", "-p", ports, "--show-closed", "--timeout", "300ms")
	rowRe := regexp.MustCompile(`(?m)^(\d+)/tcp `)
	var got []string
	for _, m := range rowRe.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	if want := []string{strconv.Itoa(p - 1), ps, strconv.Itoa(p + 1)}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rows %v, want %v (stderr %q):\n%s", got, want, errs, out)
	}

	out, errs, _ = runCLI(t, "tcp", "127.0.0.2", "127.0.0.1", "-p", ps, "--show-closed", "--timeout", "300ms")
	addrRe := regexp.MustCompile(`(?m)^(127\.0\.0\.\d) +\d+/tcp `)
	got = nil
	for _, m := range addrRe.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != "127.0.0.1 127.0.0.2" {
		t.Errorf("rows %v, want 127.0.0.1 then 127.0.0.2 (stderr %q):\n%s", got, errs, out)
	}

	out, _, _ = runCLI(t, "tcp", "127.0.0.2", "127.0.0.1", "-p", ports, "--show-closed", "--timeout", "300ms", "--json")
	var doc struct {
		Results []struct {
			Address string `json:"address"`
			Port    int    `json:"port"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var order []string
	for _, r := range doc.Results {
		order = append(order, r.Address+":"+strconv.Itoa(r.Port))
	}
	var want []string
	for _, a := range []string{"127.0.0.1", "127.0.0.2"} {
		for _, q := range []int{p - 1, p, p + 1} {
			want = append(want, a+":"+strconv.Itoa(q))
		}
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("json results %v, want %v", order, want)
	}
}
