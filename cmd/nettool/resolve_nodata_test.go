package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/serve"
)

// resolveExampleServer starts serve dns with its built-in example zone.
func resolveExampleServer(t *testing.T) string {
	t.Helper()
	srv, err := serve.NewDNSServer(serve.DNSOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Addr()
}

// A CNAME chain that ends without a record of the asked type is NODATA:
// a script's `nettool resolve host MX && ...` must not be fooled by the
// alias alone.
func TestResolveCNAMEWithoutAskedTypeIsNoData(t *testing.T) {
	at := "@" + resolveExampleServer(t)
	out, errs, code := runCLI(t, "resolve", "www.example.test", "MX", at, "--json")
	var doc struct {
		OK      bool `json:"ok"`
		Results []struct {
			OK      bool   `json:"ok"`
			Failure string `json:"failure"`
			Answer  []struct {
				Type string `json:"type"`
			} `json:"answer"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if code != exitFailed || doc.OK || len(doc.Results) != 1 || doc.Results[0].OK || doc.Results[0].Failure != "dns_nodata" || len(doc.Results[0].Answer) != 1 || doc.Results[0].Answer[0].Type != "CNAME" {
		t.Fatalf("code %d stderr %q doc %+v", code, errs, doc)
	}
	// The CNAME itself, or the chain's end, is an answer.
	for _, q := range [][]string{{"www.example.test", "CNAME"}, {"www.example.test", "A"}, {"www.example.test", "ANY"}} {
		if _, errs, code := runCLI(t, "resolve", q[0], q[1], at, "--short"); code != 0 {
			t.Errorf("%v: exit %d %q", q, code, errs)
		}
	}
	// The batch counts it as NODATA too.
	_, errs, code = resolveRunIn(context.Background(), "www.example.test MX\nwww.example.test A\n", "resolve", "-f", "-", at, "-o", "jsonl")
	if code != exitFailed || !strings.Contains(errs, "nodata 1") {
		t.Fatalf("batch: code %d stderr %q", code, errs)
	}
}

// The servers of resolv.conf stand in for one another: one dead server
// among them does not fail a lookup another answered. Servers named with @
// are compared, and each must answer.
func TestResolveSystemServersFailOver(t *testing.T) {
	good := resolveExampleServer(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String() // closed below: queries are refused
	pc.Close()
	conf := resolveConf(t, good, "nameserver "+strings.Replace(dead, "127.0.0.1:", "[127.0.0.1]:", 1)+"\n")
	out, errs, code := runCLI(t, "resolve", "www.example.test", "--resolv-conf", conf, "--retries", "0")
	if code != 0 || !strings.Contains(out, "127.0.0.1") {
		t.Fatalf("resolv.conf with a dead server: code %d out %q err %q", code, out, errs)
	}
	out, errs, code = runCLI(t, "resolve", "www.example.test", "A", "@"+good, "@"+dead, "--retries", "0")
	if code != exitFailed {
		t.Fatalf("@good @dead: code %d out %q err %q", code, out, errs)
	}
}
