package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
)

// A name that does not resolve fails that host (exit 1, one line on
// stderr); the other hosts are still pinged, as fping does.
func TestPingUnresolvedHostDoesNotStopTheOthers(t *testing.T) {
	pingNeedICMP(t)
	dnsAddr := resolveExampleServer(t)
	old := pingResolver
	pingResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}
	t.Cleanup(func() { pingResolver = old })

	out, errs, code := runCLI(t, "ping", "-4", "-c", "1", "-q", "--json", "host.example.test.", "nosuch.example.test.", "127.0.0.2")
	var doc struct {
		OK         bool     `json:"ok"`
		HostsTotal int      `json:"hosts_total"`
		HostsUp    int      `json:"hosts_up"`
		Unresolved []string `json:"unresolved"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %q (stderr %q)", err, out, errs)
	}
	if code != exitFailed || doc.OK || doc.HostsTotal != 2 || doc.HostsUp != 2 || len(doc.Unresolved) != 1 || doc.Unresolved[0] != "nosuch.example.test." {
		t.Fatalf("code %d doc %+v stderr %q", code, doc, errs)
	}
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "nettool: ping: ") || !strings.Contains(lines[0], "nosuch.example.test") {
		t.Fatalf("stderr %q", errs)
	}

	out, errs, code = runCLI(t, "ping", "-c", "1", "nosuch.example.test.")
	if code != exitFailed || out != "" || !strings.Contains(errs, "nosuch.example.test") {
		t.Fatalf("only an unresolved host: code %d out %q err %q", code, out, errs)
	}
}
