package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/resolve"
)

const resolveInteropZone = `$ORIGIN example.test.
$TTL 300
@	IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 900 604800 300
@	IN NS ns1.example.test.
ns1	IN A 127.0.0.1
www	IN CNAME web.example.test.
web	IN A 192.0.2.10
web	IN AAAA 2001:db8::10
@	IN MX 10 mail.example.test.
@	IN MX 20 backup.example.test.
mail	IN A 192.0.2.25
@	IN TXT "v=spf1 -all" "second string"
esc	IN TXT "tab\009here" "quote\"d" "bytes\255\254"
_sip._udp IN SRV 10 20 5060 sip.example.test.
@	IN CAA 0 issue "ca.example"
4.2.0.192.in-addr.arpa.example.test. IN PTR v4.example.test.
`

// resolveStartNSD runs a real nsd on a loopback port with a zone written in
// a temp dir, waits until it answers (a bounded loop of queries) and stops
// it at the end of the test.
func resolveStartNSD(t *testing.T) string {
	t.Helper()
	zone := resolveInteropZone
	for i := 0; i < 40; i++ {
		zone += fmt.Sprintf("big\tIN TXT \"record %02d padded so that forty of them do not fit in 1232 bytes\"\n", i)
	}
	return resolveStartNSDZone(t, "example.test", zone)
}

// resolveStartNSDZone runs nsd serving one zone (origin, zone file text).
func resolveStartNSDZone(t *testing.T, origin, zone string) string {
	t.Helper()
	nsd := probetest.LookPeer(t, "nsd")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, origin+".zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 5; attempt++ {
		port := resolveFreePort(t)
		conf := fmt.Sprintf(`server:
  ip-address: 127.0.0.1@%d
  username: ""
  zonesdir: "%[2]s"
  pidfile: "%[2]s/nsd.pid"
  xfrdfile: "%[2]s/xfrd.state"
  zonelistfile: "%[2]s/zone.list"
  database: ""
  logfile: "%[2]s/nsd.log"
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: %[3]s
  zonefile: %[3]s.zone
`, port, dir, origin)
		cf := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(nsd, "-d", "-c", cf)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		c := &resolve.Client{Opts: resolve.Options{Timeout: 200 * time.Millisecond}}
		srv, _ := resolve.ParseServer(addr)
		// Poll with queries, paced by a ticker and bounded in count and
		// time: a refused query comes back at once while nsd starts.
		up := false
		tick := time.NewTicker(50 * time.Millisecond)
		deadline := time.Now().Add(15 * time.Second)
		for i := 0; i < 300 && !up && time.Now().Before(deadline); i++ {
			r := c.Lookup(context.Background(), srv, resolve.NewQuestion(origin, dns.TypeSOA, dns.ClassINET))
			if up = r.OK; up {
				break
			}
			select {
			case <-exited:
				i = 300
			case <-tick.C:
			}
		}
		tick.Stop()
		if up {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return addr
		}
		_ = cmd.Process.Kill()
		<-exited
		t.Logf("nsd did not come up on %s (attempt %d): %s", addr, attempt+1, out.String())
	}
	t.Fatal("nsd did not start")
	return ""
}

// resolveFreePort finds a port free for both UDP and TCP on 127.0.0.1.
func resolveFreePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// resolveKdigAnswer asks kdig and returns the answer section as sorted
// "name ttl class type data" lines with single spaces.
func resolveKdigAnswer(t *testing.T, kdig, addr, name, qtype string, extra ...string) []string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"@" + host, "-p", port, name, qtype, "+noall", "+answer", "+time=5", "+retry=2"}, extra...)
	out, err := exec.CommandContext(ctx, kdig, args...).Output()
	if err != nil {
		t.Fatalf("kdig %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 5 && !strings.HasPrefix(l, ";") {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	sort.Strings(lines)
	return lines
}

func TestResolveInteropNSDvsKdig(t *testing.T) {
	kdig := probetest.LookPeer(t, "kdig")
	addr := resolveStartNSD(t)
	cases := []struct{ name, qtype string }{
		{"www.example.test", "A"}, {"www.example.test", "AAAA"}, {"example.test", "MX"}, {"example.test", "TXT"},
		{"esc.example.test", "TXT"}, {"_sip._udp.example.test", "SRV"}, {"example.test", "NS"}, {"example.test", "SOA"},
		{"example.test", "CAA"}, {"big.example.test", "TXT"}, {"4.2.0.192.in-addr.arpa.example.test", "PTR"},
	}
	for _, c := range cases {
		for _, tcp := range []bool{false, true} {
			args := []string{"resolve", c.name, c.qtype, "@" + addr, "--json"}
			var kextra []string
			if tcp {
				args = append(args, "+tcp")
				kextra = []string{"+tcp"}
			}
			out, errs, code := runCLI(t, args...)
			var doc resolveDoc
			if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Results) != 1 {
				t.Fatalf("%v: code %d err %q out %q", args, code, errs, out)
			}
			var ours []string
			for _, r := range doc.Results[0].Answer {
				ours = append(ours, strings.Join(strings.Fields(fmt.Sprintf("%s %d %s %s %s", r.Name, r.TTL, r.Class, r.Type, r.Data)), " "))
			}
			sort.Strings(ours)
			theirs := resolveKdigAnswer(t, kdig, addr, c.name, c.qtype, kextra...)
			if strings.Join(ours, "\n") != strings.Join(theirs, "\n") || len(ours) == 0 {
				t.Errorf("%s %s tcp=%v:\nnettool:\n%s\nkdig:\n%s", c.name, c.qtype, tcp, strings.Join(ours, "\n"), strings.Join(theirs, "\n"))
			}
			if c.name == "big.example.test" && !tcp && !doc.Results[0].TCPFallback {
				t.Errorf("big TXT over UDP: no TCP fallback reported")
			}
		}
	}
	// NXDOMAIN and NODATA: exit 1, same status as kdig's.
	for _, c := range []struct{ name, qtype, status string }{{"nope.example.test", "A", "NXDOMAIN"}, {"mail.example.test", "AAAA", "NOERROR"}} {
		out, _, code := runCLI(t, "resolve", c.name, c.qtype, "@"+addr, "--json")
		var doc resolveDoc
		if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc.Results[0].Rcode != c.status || len(doc.Results[0].Answer) != 0 {
			t.Errorf("%s: code %d out %q", c.name, code, out)
		}
		host, port, _ := net.SplitHostPort(addr)
		kout, _ := exec.Command(kdig, "@"+host, "-p", port, c.name, c.qtype, "+time=5").Output()
		if !strings.Contains(string(kout), "status: "+c.status) {
			t.Errorf("kdig disagrees on %s: %s", c.name, kout)
		}
	}
	// A batch against nsd: none lost.
	var in strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&in, "%s\n", []string{"www.example.test A", "example.test MX", "web.example.test AAAA", "mail.example.test A"}[i%4])
	}
	_, errs, code := resolveRunIn(context.Background(), in.String(), "resolve", "-f", "-", "@"+addr, "-o", "jsonl")
	if code != 0 || !strings.Contains(errs, "sent 2000, answered 2000, noerror 2000") {
		t.Fatalf("batch against nsd: code %d err %q", code, errs)
	}
}
