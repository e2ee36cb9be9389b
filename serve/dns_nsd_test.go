package serve

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
)

// The reference: nsd serving the same zone files as `serve dns`, signed by
// dnssec-signzone (NSEC, NSEC3, NSEC3 with opt-out) or not signed at all.
// Each question is asked of both, with and without DO, and the replies must
// be equal: rcode, AA, and the answer, authority and additional sections
// (order within a section ignored).

// dnsNSDZone is the zone text every variant starts from ($ORIGIN is set per
// variant). It has the cases RFC 1034, 4035, 4592, 5155 and 6672 treat
// differently.
const dnsNSDZone = `$TTL 300
@        IN SOA   ns hostmaster 7 3600 600 86400 60
         IN NS    ns
         IN MX    10 mail
         IN TXT   "apex"
ns       IN A     127.0.0.1
         IN AAAA  ::1
mail     IN A     127.0.0.2
host     IN A     127.0.0.3
         IN AAAA  ::3
www      IN CNAME host
alias    IN CNAME www
dangling IN CNAME nowhere
loop-a   IN CNAME loop-b
loop-b   IN CNAME loop-a
tosub    IN CNAME www.sub
outside  IN CNAME www.example.net.
cross    IN CNAME host.plain.test.
*.wild   IN A     127.0.0.9
         IN TXT   "wild"
exists.wild IN A  127.0.0.10
*.wc     IN CNAME host
mxw      IN MX    10 foo.wild
a.b.c.ent IN A    127.0.0.4
dn       IN DNAME target
x.target IN A     127.0.0.5
ext      IN DNAME example.net.
yx       IN DNAME a-rather-long-label-so-that-the-substitute-is-too-long.target
sub      IN NS    ns.sub
ns.sub   IN A     127.0.0.11
sub      IN DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
insec    IN NS    ns.insec
ns.insec IN A     127.0.0.12
outns    IN NS    ns.example.net.
a\032b   IN A     127.0.0.20
sp\ ace  IN TXT   "space"
dollar\$ IN A     127.0.0.21
tilde\~  IN A     127.0.0.22
\065BC   IN A     127.0.0.23
comma\044x IN A   127.0.0.24
caf\195\169 IN A  127.0.0.25
_srv._tcp IN SRV  0 0 80 host
_srv._tcp IN SRV  1 0 80 mail
`

// dnsNSDZone2 is a second zone: other types, names in upper case, a DNAME
// at a name with children elsewhere, wildcards under empty non-terminals
// and below delegations, a CNAME to a wildcard, delegations below empty
// non-terminals.
const dnsNSDZone2 = `$TTL 600
@          IN SOA   ns1 admin ( 2026120101 7200 900 1209600 300 )
           IN NS    ns1
           IN NS    ns2.example.net.
           IN CAA   0 issue "ca.example"
           IN HTTPS 1 . alpn="h2,h3"
NS1        IN A     192.0.2.1
WWW        IN AAAA  2001:db8::80
           IN TXT   "Mixed" "case"
svc        IN SVCB  1 svc.example.net. port=8443
tlsa._443._tcp IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ssh        IN SSHFP 4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
loc        IN LOC   52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
naptr      IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
unk        IN TYPE65280 \# 4 0a000001
*.x.y.z    IN TXT   "deep wildcard"
*          IN MX    10 mx.wildapex
mx.wildapex IN A    192.0.2.25
tocw       IN CNAME foo.x.y.z
mxcname    IN MX    5 www
d.e.f.deleg IN NS   ns.d.e.f.deleg
ns.d.e.f.deleg IN A 192.0.2.53
*.deleg    IN A     192.0.2.99
dn         IN DNAME other.example.
a.b        IN A     192.0.2.7
c.a.b      IN CNAME a.b
ptr        IN PTR   WWW
kx         IN KX    10 NS1
`

// dnsNSDQuestions2 are asked in the dnsNSDZone2 variants.
var dnsNSDQuestions2 = []struct{ name, qtype string }{
	{"@", "CAA"}, {"@", "HTTPS"}, {"@", "NS"}, {"@", "ANY"}, {"@", "MX"}, {"@", "DNAME"},
	{"ns1", "A"}, {"www", "AAAA"}, {"WWW", "TXT"}, {"www", "ANY"}, {"svc", "SVCB"}, {"tlsa._443._tcp", "TLSA"},
	{"_443._tcp", "TLSA"}, {"ssh", "SSHFP"}, {"loc", "LOC"}, {"naptr", "NAPTR"}, {"unk", "TYPE65280"}, {"unk", "A"},
	{"a.x.y.z", "TXT"}, {"b.a.x.y.z", "TXT"}, {"x.y.z", "TXT"}, {"y.z", "A"}, {"z", "A"}, {"q.y.z", "TXT"},
	{"anything", "MX"}, {"anything", "A"}, {"a.b.anything", "MX"}, {"mx.wildapex", "A"}, {"wildapex", "MX"},
	{"tocw", "TXT"}, {"tocw", "A"}, {"mxcname", "MX"}, {"kx", "KX"}, {"ptr", "PTR"},
	{"d.e.f.deleg", "A"}, {"x.d.e.f.deleg", "A"}, {"d.e.f.deleg", "DS"}, {"e.f.deleg", "A"}, {"f.deleg", "A"},
	{"q.deleg", "A"}, {"q.e.f.deleg", "A"}, {"deleg", "A"}, {"e.f.deleg", "DS"},
	{"dn", "DNAME"}, {"x.dn", "A"}, {"x.dn", "CNAME"}, {"dn", "A"},
	{"a.b", "A"}, {"c.a.b", "A"}, {"b", "A"}, {"x.b", "A"}, {"x.c.a.b", "A"},
}

// dnsNSDQuestions are asked in every variant: a name relative to the
// origin ("@" is the apex) and a type.
var dnsNSDQuestions = []struct{ name, qtype string }{
	{"@", "SOA"}, {"@", "NS"}, {"@", "MX"}, {"@", "TXT"}, {"@", "DNSKEY"}, {"@", "NSEC3PARAM"},
	{"@", "ANY"}, {"@", "DS"}, {"@", "A"}, {"@", "NSEC"},
	{"host", "A"}, {"HoSt", "AAAA"}, {"host", "MX"}, {"host", "ANY"}, {"host", "RRSIG"}, {"host", "NSEC"},
	{"ns", "A"}, {"mail", "A"},
	{"www", "A"}, {"www", "CNAME"}, {"www", "ANY"}, {"www", "TXT"}, {"alias", "AAAA"},
	{"dangling", "A"}, {"loop-a", "A"}, {"cross", "A"}, {"tosub", "A"}, {"outside", "A"},
	{"nope", "A"}, {"a.b.nope", "TXT"}, {"zzzz", "A"}, {"0", "A"},
	{"x.wild", "A"}, {"x.wild", "MX"}, {"a.b.wild", "TXT"}, {"*.wild", "A"}, {"*.wild", "MX"}, {"exists.wild", "A"},
	{"exists.wild", "TXT"}, {"wild", "A"},
	{"a.wc", "A"}, {"a.wc", "CNAME"}, {"mxw", "MX"},
	{"b.c.ent", "A"}, {"c.ent", "TXT"}, {"ent", "A"}, {"x.b.c.ent", "A"}, {"a.b.c.ent", "A"},
	{"dn", "DNAME"}, {"dn", "A"}, {"x.dn", "A"}, {"y.x.dn", "A"}, {"x.dn", "CNAME"}, {"x.ext", "A"},
	{strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".yx", "A"},
	{"x.target", "A"}, {"target", "A"},
	{"sub", "NS"}, {"sub", "A"}, {"www.sub", "A"}, {"sub", "DS"}, {"ns.sub", "A"},
	{"insec", "DS"}, {"www.insec", "A"}, {"insec", "NS"}, {"outns", "A"}, {"x.outns", "DS"},
	{`a\032b`, "A"}, {`A\ B`, "A"}, {`sp\032ace`, "TXT"}, {`dollar\$`, "A"}, {`dollar\036`, "A"},
	{`tilde\126`, "A"}, {"abc", "A"}, {`\097bc`, "A"}, {"comma\\,x", "A"}, {"café", "A"}, {"CAFÉ", "A"},
	{"_srv._tcp", "SRV"}, {"_tcp", "SRV"},
}

// dnsNSDVariant is one zone both servers serve.
type dnsNSDVariant struct {
	origin string
	file   string
	nsec3  []string // NSEC3 owner names in the signed file (asked too)
	two    bool     // made from dnsNSDZone2
}

func TestDNSAnswersEqualNSD(t *testing.T) {
	start := time.Now()
	nsd := probetest.LookPeer(t, "nsd")
	keygen := probetest.LookPeer(t, "dnssec-keygen")
	signzone := probetest.LookPeer(t, "dnssec-signzone")
	dir := t.TempDir()
	variants := []struct {
		origin string
		sign   []string // dnssec-signzone options; nil: not signed
		zone   string   // "": dnsNSDZone
	}{
		{"plain.test.", nil, ""},
		{"nsec.test.", []string{}, ""},
		{"nsec3.test.", []string{"-3", "aabbccdd", "-H", "2"}, ""},
		{"optout.test.", []string{"-3", "-", "-H", "0", "-A"}, ""},
		{"two.test.", []string{}, dnsNSDZone2},
		{"two3.test.", []string{"-3", "ff", "-H", "1", "-A"}, dnsNSDZone2},
		{"two3n.test.", []string{"-3", "-", "-H", "0"}, dnsNSDZone2},
	}
	var zones []dnsNSDVariant
	for _, v := range variants {
		tmpl := dnsNSDZone
		if v.zone != "" {
			tmpl = v.zone
		}
		text := "$ORIGIN " + v.origin + "\n" + tmpl
		file := filepath.Join(dir, strings.TrimSuffix(v.origin, ".")+".zone")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		z := dnsNSDVariant{origin: v.origin, file: file, two: v.zone != ""}
		if v.sign != nil {
			z.file = dnsSign(t, keygen, signzone, dir, v.origin, file, v.sign)
			signed, err := os.ReadFile(z.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(signed), "\n") {
				if f := strings.Fields(l); len(f) > 3 && f[2] == "IN" && f[3] == "NSEC3" && len(z.nsec3) < 2 {
					z.nsec3 = append(z.nsec3, f[0])
				}
			}
		}
		zones = append(zones, z)
	}
	// A child zone of nsec.test. served too: its DS is the parent's.
	child := "child.nsec.test."
	childFile := filepath.Join(dir, "child.zone")
	if err := os.WriteFile(childFile, []byte("$ORIGIN "+child+"\n@ 300 IN SOA ns hm 1 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 127.0.0.30\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	{
		// Delegate it from nsec.test. with a DS, then sign the parent again.
		parent := zones[1]
		unsigned := filepath.Join(dir, "nsec.test.zone")
		text, _ := os.ReadFile(unsigned)
		text = append(text, []byte("child IN NS ns.child\nns.child IN A 127.0.0.30\nchild IN DS 54321 13 2 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\n")...)
		if err := os.WriteFile(unsigned, text, 0o644); err != nil {
			t.Fatal(err)
		}
		parent.file = dnsSign(t, keygen, signzone, dir, parent.origin, unsigned, variants[1].sign)
		zones[1] = parent
	}

	var served []*DNSZone
	for _, z := range zones {
		dz, err := DNSLoadZoneFile(z.file, z.origin)
		if err != nil {
			t.Fatal(err)
		}
		served = append(served, dz)
	}
	cz, err := DNSLoadZoneFile(childFile, child)
	if err != nil {
		t.Fatal(err)
	}
	served = append(served, cz)
	t.Logf("zones signed and loaded after %v", time.Since(start).Round(time.Millisecond))
	s := dnsStartTest(t, DNSOptions{Zones: served})
	nsdAddr := dnsStartNSD(t, nsd, dir, append(zones, dnsNSDVariant{origin: child, file: childFile}))

	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second, UDPSize: 65535}
	ask := func(addr string, m *dns.Msg) *dns.Msg {
		t.Helper()
		var last error
		for try := 0; try < 3; try++ {
			r, _, err := c.Exchange(m, addr)
			if err == nil {
				return r
			}
			last = err
		}
		t.Errorf("%s %s to %s: %v", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], addr, last)
		return nil
	}
	// One goroutine per zone: the two servers see a few queries at once.
	var asked atomic.Int64
	var wg sync.WaitGroup
	for _, z := range zones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qs := append([]struct{ name, qtype string }(nil), dnsNSDQuestions...)
			if z.two {
				qs = append(qs[:0:0], dnsNSDQuestions2...)
			}
			for _, o := range z.nsec3 {
				qs = append(qs, struct{ name, qtype string }{strings.TrimSuffix(o, "."+z.origin), "A"},
					struct{ name, qtype string }{strings.TrimSuffix(o, "."+z.origin), "NSEC3"})
			}
			if z.origin == "nsec.test." {
				qs = append(qs, struct{ name, qtype string }{"child", "DS"}, struct{ name, qtype string }{"child", "A"},
					struct{ name, qtype string }{"www.child", "A"}, struct{ name, qtype string }{"child", "SOA"})
			}
			for _, q := range qs {
				name := z.origin
				if q.name != "@" {
					name = q.name + "." + z.origin
				}
				// EDNS with room for every answer, with and without DO; no
				// EDNS (512 bytes); DO with 512 bytes (truncation).
				for _, mode := range []struct {
					size int
					do   bool
				}{{4096, false}, {4096, true}, {0, false}, {512, true}} {
					m := new(dns.Msg)
					m.SetQuestion(name, dns.StringToType[q.qtype])
					m.RecursionDesired = false
					if mode.size > 0 {
						m.SetEdns0(uint16(mode.size), mode.do)
					}
					want, got := ask(nsdAddr, m), ask(s.Addr(), m)
					asked.Add(1)
					if want == nil || got == nil {
						continue
					}
					if d := dnsDiffReplies(want, got); d != "" {
						t.Errorf("%s %s (edns %d, do %v): serve dns differs from nsd:\n%s", name, q.qtype, mode.size, mode.do, d)
					}
				}
			}
		}()
	}
	wg.Wait()
	// Class ANY (AA clear, no SOA in negative answers), and TCP.
	for _, q := range []struct {
		name  string
		qtype uint16
		class uint16
		tcp   bool
	}{
		{"host.nsec.test.", dns.TypeA, dns.ClassANY, false}, {"nope.nsec3.test.", dns.TypeA, dns.ClassANY, false},
		{"host.nsec.test.", dns.TypeMX, dns.ClassANY, false}, {"www.sub.nsec.test.", dns.TypeA, dns.ClassANY, false},
		{"nope.nsec3.test.", dns.TypeA, dns.ClassINET, true}, {"x.wild.optout.test.", dns.TypeMX, dns.ClassINET, true},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.Question[0].Qclass = q.class
		m.SetEdns0(1232, true)
		cl := c
		if q.tcp {
			cl = &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
		}
		want, _, err := cl.Exchange(m, nsdAddr)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := cl.Exchange(m, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		asked.Add(1)
		if d := dnsDiffReplies(want, got); d != "" {
			t.Errorf("%s %s class %s tcp=%v: serve dns differs from nsd:\n%s", q.name, dns.TypeToString[q.qtype], dns.ClassToString[q.class], q.tcp, d)
		}
	}
	t.Logf("%d questions asked of both after %v", asked.Load(), time.Since(start).Round(time.Millisecond))

	// A validator checks the signed answers: delv, with the zone's KSK as
	// its trust anchor, asking serve dns only.
	delv := probetest.LookPeer(t, "delv")
	host, port, _ := net.SplitHostPort(s.Addr())
	sem := make(chan struct{}, 6) // delv runs at once
	for _, z := range zones[1:4] {
		anchor := dnsTrustAnchor(t, filepath.Join(dir, "keys-"+z.origin), z.origin)
		for _, q := range []struct{ name, qtype, want string }{
			{"host", "A", "; fully validated"},
			{"www", "A", "; fully validated"},
			{"x.wild", "A", "; fully validated"}, // "; unsigned answer" with opt-out: see below
			{"x.dn", "A", "; fully validated"},
			{"sub", "DS", "; fully validated"},
			{"nope", "A", "; negative response, fully validated"},
			{"host", "MX", "; negative response, fully validated"},
			{"b.c.ent", "A", "; negative response, fully validated"},
			{"x.wild", "MX", "; negative response, fully validated"},
			{"insec", "DS", "; negative response, fully validated"},
		} {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				name := z.origin
				if q.name != "@" {
					name = q.name + "." + z.origin
				}
				if q.name == "x.wild" && q.qtype == "A" && z.origin == "optout.test." {
					// The NSEC3 that covers the next closer name has opt-out
					// set: it cannot prove the name absent, so a validator
					// takes the wildcard answer as insecure (RFC 5155 9.2).
					q.want = "; unsigned answer"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				out, _ := exec.CommandContext(ctx, delv, "@"+host, "-p", port, "-a", anchor, "+root="+z.origin, name, q.qtype).CombinedOutput()
				cancel()
				if !strings.Contains(string(out), q.want+"\n") {
					t.Errorf("delv %s %s: want %q:\n%s", name, q.qtype, q.want, out)
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("delv done after %v", time.Since(start).Round(time.Millisecond))
}

// dnsTrustAnchor writes a delv trust-anchors file with the KSK in kdir.
func dnsTrustAnchor(t *testing.T, kdir, origin string) string {
	t.Helper()
	keys, _ := filepath.Glob(filepath.Join(kdir, "K*.key"))
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			i := slices.Index(f, "DNSKEY")
			if i >= 0 && len(f) > i+4 && f[i+1] == "257" {
				file := filepath.Join(kdir, "anchor.conf")
				conf := fmt.Sprintf("trust-anchors { %s static-key 257 %s %s %q; };\n", origin, f[i+2], f[i+3], strings.Join(f[i+4:], ""))
				if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
					t.Fatal(err)
				}
				return file
			}
		}
	}
	t.Fatalf("no KSK in %s", kdir)
	return ""
}

// dnsSign makes a KSK and a ZSK for origin and signs file with them; it
// returns the signed file.
func dnsSign(t *testing.T, keygen, signzone, dir, origin, file string, opts []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kdir := filepath.Join(dir, "keys-"+origin)
	if _, err := os.Stat(kdir); err != nil {
		if err := os.Mkdir(kdir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, ksk := range []bool{true, false} {
			args := []string{"-q", "-K", kdir, "-a", "ECDSAP256SHA256"}
			if ksk {
				args = append(args, "-f", "KSK")
			}
			if out, err := exec.CommandContext(ctx, keygen, append(args, origin)...).CombinedOutput(); err != nil {
				t.Fatalf("dnssec-keygen: %v\n%s", err, out)
			}
		}
	}
	out := file + ".signed"
	args := append([]string{"-q", "-S", "-K", kdir, "-o", origin, "-f", out}, opts...)
	cmd := exec.CommandContext(ctx, signzone, append(args, file)...)
	cmd.Dir = dir // it writes a dsset- file where it runs
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dnssec-signzone %v: %v\n%s", args, err, b)
	}
	return out
}

// dnsStartNSD runs nsd on a free loopback port with the zones and returns
// its address once it answers; it is stopped when the test ends.
func dnsStartNSD(t *testing.T, nsd, dir string, zones []dnsNSDVariant) string {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		port := dnsFreePort(t)
		var conf strings.Builder
		fmt.Fprintf(&conf, `server:
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
`, port, dir)
		for _, z := range zones {
			fmt.Fprintf(&conf, "zone:\n  name: %s\n  zonefile: %s\n", z.origin, z.file)
		}
		cf := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(cf, []byte(conf.String()), 0o644); err != nil {
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
		c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
		m := new(dns.Msg)
		m.SetQuestion(zones[len(zones)-1].origin, dns.TypeSOA)
		// Poll with queries, bounded in count and time; a query that gets
		// no answer waits its timeout, a refused one is paced by the ticker.
		up := false
		tick := time.NewTicker(50 * time.Millisecond)
		deadline := time.Now().Add(20 * time.Second)
		for i := 0; i < 300 && !up && time.Now().Before(deadline); i++ {
			if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
				up = true
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
		log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
		t.Logf("nsd did not come up on %s (attempt %d): %s%s", addr, attempt+1, out.String(), log)
	}
	t.Fatal("nsd did not start")
	return ""
}

// dnsFreePort finds a port free for both UDP and TCP on 127.0.0.1.
func dnsFreePort(t *testing.T) int {
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

// dnsDiffReplies compares two replies as the test wants them equal: rcode,
// AA and the three sections (OPT aside) as sets of records; "" when equal.
func dnsDiffReplies(want, got *dns.Msg) string {
	var b strings.Builder
	if want.Rcode != got.Rcode {
		fmt.Fprintf(&b, "rcode: nsd %s, serve dns %s\n", dns.RcodeToString[want.Rcode], dns.RcodeToString[got.Rcode])
	}
	if want.Truncated != got.Truncated {
		fmt.Fprintf(&b, "tc: nsd %v, serve dns %v\n", want.Truncated, got.Truncated)
	}
	if want.Authoritative != got.Authoritative {
		fmt.Fprintf(&b, "aa: nsd %v, serve dns %v\n", want.Authoritative, got.Authoritative)
	}
	for _, sec := range []struct {
		name      string
		want, got []dns.RR
	}{{"answer", want.Answer, got.Answer}, {"authority", want.Ns, got.Ns}, {"additional", want.Extra, got.Extra}} {
		w, g := dnsRRLines(sec.want), dnsRRLines(sec.got)
		if strings.Join(w, "\n") == strings.Join(g, "\n") {
			continue
		}
		fmt.Fprintf(&b, "%s section:\n", sec.name)
		in := map[string]int{}
		for _, l := range g {
			in[l]++
		}
		for _, l := range w {
			if in[l] > 0 {
				in[l]--
				continue
			}
			fmt.Fprintf(&b, "  only nsd:       %s\n", l)
		}
		for _, l := range g {
			if in[l] > 0 {
				in[l]--
				fmt.Fprintf(&b, "  only serve dns: %s\n", l)
			}
		}
	}
	return b.String()
}

// dnsRRLines is a section as sorted lines, OPT left out, names in lower
// case (both servers may take a name's case from the question).
func dnsRRLines(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.ToLower(strings.Join(strings.Fields(rr.String()), " ")))
	}
	sort.Strings(out)
	return out
}
