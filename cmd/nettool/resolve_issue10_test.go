package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
)

// resolveOvercount answers q with one A record and a header that counts
// three.
func resolveOvercount(q []byte) []byte {
	m := new(dns.Msg)
	if m.Unpack(q) != nil || len(m.Question) != 1 {
		return nil
	}
	r := new(dns.Msg)
	r.SetReply(m)
	r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
	b, _ := r.Pack()
	binary.BigEndian.PutUint16(b[6:], 3)
	return b
}

// resolveOvercountServer serves resolveOvercount over UDP and TCP on one
// port.
func resolveOvercountServer(t *testing.T) string {
	t.Helper()
	tcp := probetest.ServeTCP(t, func(c net.Conn, _ <-chan struct{}) {
		for {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, q); err != nil {
				return
			}
			r := resolveOvercount(q)
			if _, err := c.Write(append([]byte{byte(len(r) >> 8), byte(len(r))}, r...)); err != nil {
				return
			}
		}
	})
	pc, err := net.ListenPacket("udp", tcp)
	if err != nil {
		t.Skipf("no UDP port beside %s: %v", tcp, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if r := resolveOvercount(buf[:n]); r != nil {
				_, _ = pc.WriteTo(r, a)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return tcp
}

// TestResolveMalformedReplyLikeDig (issue 10.6): a reply whose header counts
// more records than it carries is reported as malformed, as dig reports it
// ("Message parser reports malformed message packet"), with the records it
// carried, over UDP and TCP, and in a batch; it is not a NOERROR success.
func TestResolveMalformedReplyLikeDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	addr := resolveOvercountServer(t)
	host, port, _ := net.SplitHostPort(addr)
	for _, tcp := range []string{"+notcp", "+tcp"} {
		if out := goldenPeerCombined(t, dig, "@"+host, "-p", port, "+time=5", "+tries=1", tcp, "x.example", "A"); !strings.Contains(out, "malformed message packet") {
			t.Fatalf("dig does not call it malformed: %s", out)
		}
		out, errs, code := runCLI(t, "resolve", "x.example", "A", "@"+addr, tcp, "--no-color")
		if code != 1 || !strings.Contains(out, "NOERROR MALFORMED (header counts 3 answer record(s), message carries 1)") || !strings.Contains(out, "192.0.2.1") {
			t.Errorf("%s text: exit %d out %q err %q", tcp, code, out, errs)
		}
		out, _, code = runCLI(t, "resolve", "x.example", "A", "@"+addr, tcp, "--json")
		var doc struct {
			Results []struct {
				OK        bool   `json:"ok"`
				Failure   string `json:"failure"`
				Malformed string `json:"malformed"`
			} `json:"results"`
		}
		if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc.Results[0].OK || doc.Results[0].Failure != "protocol_error" || doc.Results[0].Malformed == "" {
			t.Errorf("%s json: exit %d %s", tcp, code, out)
		}
		out, errs, code = resolveRunIn(context.Background(), "a.example\nb.example\n", "resolve", "-f", "-", "@"+addr, tcp)
		if code != 1 || strings.Count(out, "MALFORMED") != 2 || !strings.Contains(errs, "noerror 0,") {
			t.Errorf("%s batch: exit %d out %q err %q", tcp, code, out, errs)
		}
	}
}

// goldenPeerCombined runs a peer and returns its stdout and stderr.
func goldenPeerCombined(t *testing.T, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	return string(out)
}

// TestResolveBadServerIsUsage (issue 10.7): a server that is neither an IP
// address nor a host name exits 2 with one line, before any lookup.
func TestResolveBadServerIsUsage(t *testing.T) {
	for _, s := range []string{"@999.1.1.1", "@1.2.3", "@127.1", "@0x7f.0.0.1", "@tcp://256.1.1.1", "@tls://1.2.3.4.5:853", "@https://300.0.0.1/dns-query", "@host.123", "@-x.example"} {
		_, errs, code := runCLI(t, "resolve", "x.example", s)
		if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.HasPrefix(errs, "nettool: resolve: bad server") {
			t.Errorf("%s: exit %d err %q", s, code, errs)
		}
	}
	_, errs, code := runCLI(t, "resolve", "x.example", "-s", "999.1.1.1")
	if code != 2 || !strings.Contains(errs, `"999.1.1.1" is not a valid IP address`) {
		t.Errorf("-s: exit %d err %q", code, errs)
	}
}

// TestResolveResolvConfSaysWhy (issue 10.7): a resolv.conf with no usable
// nameserver says which line and why.
func TestResolveResolvConfSaysWhy(t *testing.T) {
	f := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(f, []byte("search example\nnameserver 127.0.0.1:5353\nnameserver dns.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := runCLI(t, "resolve", "x.example", "--resolv-conf", f)
	want := f + ":2: nameserver 127.0.0.1:5353: a port is written [127.0.0.1]:5353 here (OpenBSD form; glibc takes no port); " + f + ":3: nameserver dns.example: not an IP address"
	if code != 3 || !strings.Contains(errs, want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("exit %d err %q\nwant %q", code, errs, want)
	}
}

// TestResolveQueryFlagsLikeDig (issue 10.5): the AD and CD bits of
// nettool's queries are dig's, by default and with +cdflag / +noadflag.
func TestResolveQueryFlagsLikeDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	type bits struct{ ad, cd bool }
	seen := make(chan bits, 8)
	addr := resolveStartServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		seen <- bits{r.AuthenticatedData, r.CheckingDisabled}
		resolveZone(w, r)
	})
	host, port, _ := net.SplitHostPort(addr)
	for _, opts := range [][]string{nil, {"+cdflag"}, {"+noadflag"}, {"+cdflag", "+noadflag"}, {"+adflag"}} {
		goldenPeer(t, dig, append([]string{"@" + host, "-p", port, "+time=5", "+tries=1", "v4.example.test", "A"}, opts...)...)
		want := <-seen
		runCLI(t, append([]string{"resolve", "v4.example.test", "A", "@" + addr}, opts...)...)
		if got := <-seen; got != want {
			t.Errorf("%v: nettool sends %+v, dig %+v", opts, got, want)
		}
	}
}
