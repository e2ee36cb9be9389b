package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// resolveAuditSilentTCP accepts connections and never writes (nor, for
// tls://, finishes a handshake). It returns the address.
func resolveAuditSilentTCP(t *testing.T) string { return resolveAuditTCP(t, nil) }

// resolveAuditTCP accepts connections and runs serve on each (nil: read and
// say nothing) until the test ends.
func resolveAuditTCP(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	return probetest.ServeTCP(t, func(c net.Conn, _ <-chan struct{}) {
		if serve != nil {
			serve(c)
			return
		}
		io.Copy(io.Discard, c)
	})
}

// TestResolveAuditSilentPeers: every transport against a peer that never
// answers ends at --timeout with a timeout failure and exit 1, in text and
// in JSON.
func TestResolveAuditSilentPeers(t *testing.T) {
	udp, _ := resolveSilent(t)
	tcp := resolveAuditSilentTCP(t)
	// A DoH server that completes TLS and HTTP, reads the query, and never
	// answers until the client goes away.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	// A TCP server that announces a 65535-byte reply and drips it a byte
	// at a time: the exchange has one deadline, not one per read.
	drip := resolveAuditTCP(t, func(c net.Conn) {
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		if _, err := c.Write([]byte{0xff, 0xff}); err != nil {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := c.Write([]byte{0}); err != nil {
				return
			}
		}
	})
	for _, tc := range []struct{ name, server string }{
		{"tcp drips a long reply", "tcp://" + drip},
		{"udp", udp},
		{"tcp accepts, silent", "tcp://" + tcp},
		{"dot never handshakes", "tls://" + tcp},
		{"doh never answers", srv.URL + "/dns-query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"resolve", "x.example", "A", "@" + tc.server, "--timeout", "200ms", "--retries", "0", "--cacert", ca}
			out, errs, code := runCLI(t, append(args, "--no-color")...)
			if code != 1 || !strings.Contains(out, "FAILED") {
				t.Fatalf("text: code %d out %q err %q", code, out, errs)
			}
			out, errs, code = runCLI(t, append(args, "--json")...)
			if code != 1 {
				t.Fatalf("json: code %d out %q err %q", code, out, errs)
			}
			if !strings.Contains(out, `"failure": "timeout"`) && !strings.Contains(out, `"failure":"timeout"`) {
				t.Fatalf("json: no timeout failure in %s (err %q)", out, errs)
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("json: not valid: %s", out)
			}
		})
	}
}

// TestResolveAuditEndlessInputs: files that never end are refused with one
// error line and exit 2, without reading them whole.
func TestResolveAuditEndlessInputs(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	udp, seen := resolveSilent(t)
	// -f /dev/zero: one endless line.
	_, errs, code := resolveRunIn(context.Background(), "", "resolve", "-f", "/dev/zero", "@"+udp, "--timeout", "100ms")
	if code != 2 || strings.Count(errs, "nettool: resolve:") != 1 || !strings.Contains(errs, "/dev/zero:1: line longer than 1 MiB") {
		t.Fatalf("-f /dev/zero: code %d err %q", code, errs)
	}
	// A long line among good ones is skipped and the rest is read.
	in := "x.example\n" + strings.Repeat("a", 200000) + "\ny.example\n"
	_, errs, code = resolveRunIn(context.Background(), in, "resolve", "-f", "-", "@"+udp, "--timeout", "100ms", "--retries", "0")
	if code != 2 || !strings.Contains(errs, "stdin:2: line longer than 4096 bytes") || !strings.Contains(errs, "sent 2,") {
		t.Fatalf("long line: code %d err %q", code, errs)
	}
	for range 2 {
		<-seen
	}
	// --cacert /dev/zero
	_, errs, code = runCLI(t, "resolve", "x.example", "@tls://"+udp, "--cacert", "/dev/zero")
	if code != 2 || !strings.Contains(errs, "cannot read --cacert /dev/zero") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("--cacert /dev/zero: code %d err %q", code, errs)
	}
	// --resolv-conf /dev/zero: read up to its cap, names no server.
	_, errs, code = runCLI(t, "resolve", "x.example", "--resolv-conf", "/dev/zero")
	if code != 3 || !strings.Contains(errs, "/dev/zero names no usable nameserver in its first 64 KiB") {
		t.Fatalf("--resolv-conf /dev/zero: code %d err %q", code, errs)
	}
	// ping --file /dev/zero
	_, errs, code = runCLI(t, "ping", "--file", "/dev/zero")
	if code != 2 || !strings.HasPrefix(errs, "nettool: ping: --file: /dev/zero: line longer than 4096 bytes") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("ping --file /dev/zero: code %d err %q", code, errs)
	}
}
