package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/nettool/nettool/probe/probetest"
)

// dnsHierarchy is a signed DNS tree inside one network namespace: nsd
// instances on 192.0.2.x:53, each with its own directory, serving ".",
// "test." and zones below, signed at run time with test keys.
type dnsHierarchy struct {
	ns     *probetest.Netns
	dir    string
	hints  string // root hints file naming the two root servers
	anchor string // the root DS, for --trust-anchor
	delvTA string // the same, as a delv trust-anchors block
	resolv string // resolv.conf naming the server of every zone (for dig +trace)
}

// Zones, the servers that serve them, and their delegations.
const (
	hRootA = "192.0.2.1"
	hRootB = "192.0.2.2"
	hAll   = "192.0.2.100" // serves every zone (dig's resolver, delv's server)
	hDead  = "198.18.0.1"  // routed into a dummy interface: never answers
)

type hZone struct {
	name    string
	body    string // records after the SOA, relative names allowed
	signed  bool
	nsec3   bool
	expired bool
	servers []string // addresses that serve the zone (hAll is added)
	serial  map[string]int
	tamper  func(t *testing.T, signed string) string
}

func hierarchyZones() []*hZone {
	return []*hZone{
		{name: ".", signed: true, servers: []string{hRootA, hRootB}, body: `
@ NS a.root-servers.test.
@ NS b.root-servers.test.
test. NS ns1.test.
test. NS ns2.test.
ns1.test. A 192.0.2.3
ns2.test. A 192.0.2.4
a.root-servers.test. A 192.0.2.1
b.root-servers.test. A 192.0.2.2
`},
		{name: "test.", signed: true, servers: []string{"192.0.2.3", "192.0.2.4"}, body: `
@ NS ns1
@ NS ns2
ns1 A 192.0.2.3
ns2 A 192.0.2.4
a.root-servers A 192.0.2.1
b.root-servers A 192.0.2.2
example NS ns1.example
example NS ns2.example
ns1.example A 192.0.2.5
ns2.example A 192.0.2.6
plain NS ns1.plain
plain NS ns2.plain
ns1.plain A 192.0.2.9
ns2.plain A 192.0.2.11
lame NS ns1.lame
lame NS ns2.lame
ns1.lame A 192.0.2.9
ns2.lame A 192.0.2.5
glue NS ns1.glue
glue NS ns2.glue
ns1.glue A 192.0.2.9
ns2.glue A 192.0.2.11
nsm NS ns1.nsm
nsm NS ns2.nsm
ns1.nsm A 192.0.2.9
ns2.nsm A 192.0.2.11
serial NS ns1.serial
serial NS ns2.serial
ns1.serial A 192.0.2.9
ns2.serial A 192.0.2.11
dead NS ns1.dead
dead NS ns2.dead
ns1.dead A 192.0.2.9
ns2.dead A 198.18.0.1
loop NS ns.loop
ns.loop A 192.0.2.3
expired NS ns1.expired
expired NS ns2.expired
ns1.expired A 192.0.2.9
ns2.expired A 192.0.2.11
badds NS ns1.badds
badds NS ns2.badds
ns1.badds A 192.0.2.9
ns2.badds A 192.0.2.11
nosig NS ns1.nosig
nosig NS ns2.nosig
ns1.nosig A 192.0.2.9
ns2.nosig A 192.0.2.11
nsec3 NS ns1.nsec3
badnsec3 NS ns1.badnsec3
badnsec3 NS ns2.badnsec3
ns1.badnsec3 A 192.0.2.9
ns2.badnsec3 A 192.0.2.11
nsec3 NS ns2.nsec3
ns1.nsec3 A 192.0.2.9
ns2.nsec3 A 192.0.2.11
wild NS ns1.wild
wild NS ns2.wild
ns1.wild A 192.0.2.9
ns2.wild A 192.0.2.11
wild3 NS ns1.wild3
wild3 NS ns2.wild3
ns1.wild3 A 192.0.2.9
ns2.wild3 A 192.0.2.11
badwild NS ns1.badwild
badwild NS ns2.badwild
ns1.badwild A 192.0.2.9
ns2.badwild A 192.0.2.11
badwild3 NS ns1.badwild3
badwild3 NS ns2.badwild3
ns1.badwild3 A 192.0.2.9
ns2.badwild3 A 192.0.2.11
`},
		{name: "example.test.", signed: true, servers: []string{"192.0.2.5", "192.0.2.6"}, body: `
@ NS ns1
@ NS ns2
ns1 A 192.0.2.5
ns2 A 192.0.2.6
www A 198.51.100.10
alias CNAME www.sub
dn DNAME sub
sub NS ns1.sub
sub NS ns2.sub
ns1.sub A 192.0.2.7
ns2.sub A 192.0.2.8
`},
		{name: "sub.example.test.", signed: true, servers: []string{"192.0.2.7", "192.0.2.8"}, body: `
@ NS ns1
@ NS ns2
ns1 A 192.0.2.7
ns2 A 192.0.2.8
www A 198.51.100.20
`},
		{name: "plain.test.", servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.30\n"},
		{name: "lame.test.", servers: []string{"192.0.2.9"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.5\nwww A 198.51.100.31\n"},
		{name: "glue.test.", servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.12\nwww A 198.51.100.32\n"},
		{name: "nsm.test.", servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns3\nns1 A 192.0.2.9\nns3 A 192.0.2.11\nwww A 198.51.100.33\n"},
		{name: "serial.test.", servers: []string{"192.0.2.9", "192.0.2.11"}, serial: map[string]int{"192.0.2.11": 2}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.34\n"},
		{name: "dead.test.", servers: []string{"192.0.2.9"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 198.18.0.1\nwww A 198.51.100.35\n"},
		{name: "expired.test.", signed: true, expired: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.36\n"},
		{name: "badds.test.", signed: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.37\n"},
		{name: "nosig.test.", signed: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.38\n",
			tamper: func(t *testing.T, s string) string {
				return dropLines(t, s, `^www\.nosig\.test\.\s+\d+\s+IN\s+RRSIG\s+A\s`)
			}},
		{name: "nsec3.test.", signed: true, nsec3: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.39\n"},
		{name: "badnsec3.test.", signed: true, nsec3: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\nwww A 198.51.100.40\n",
			tamper: dropCoveringNSEC3("nope.badnsec3.test.")},
		// Wildcards: *.w answers a.w.ZONE with its proof that a.w does
		// not exist; the bad twins lose that proof (NSEC at *.w, NSEC3
		// covering the next closer name a.w).
		{name: "wild.test.", signed: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: wildBody},
		{name: "wild3.test.", signed: true, nsec3: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: wildBody},
		{name: "badwild.test.", signed: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: wildBody,
			tamper: func(t *testing.T, s string) string {
				return dropLines(t, s, `^\*\.w\.badwild\.test\.\s+\d+\s+IN\s+(NSEC|RRSIG\s+NSEC)\s`)
			}},
		{name: "badwild3.test.", signed: true, nsec3: true, servers: []string{"192.0.2.9", "192.0.2.11"}, body: wildBody,
			tamper: dropCoveringNSEC3("a.w.badwild3.test.")},
	}
}

const wildBody = "@ NS ns1\n@ NS ns2\nns1 A 192.0.2.9\nns2 A 192.0.2.11\n*.w A 198.51.100.41\n"

// dropLines removes the records whose one-line form matches re.
func dropLines(t *testing.T, s, re string) string {
	rx := regexp.MustCompile(re)
	var out []string
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if rx.MatchString(l) {
			n++
			continue
		}
		out = append(out, l)
	}
	if n == 0 {
		t.Fatalf("tamper: nothing matches %s", re)
	}
	return strings.Join(out, "\n")
}

// dropCoveringNSEC3 removes the NSEC3 record (and its RRSIG) that covers
// the next closer name of name, so the NXDOMAIN proof for name breaks.
func dropCoveringNSEC3(name string) func(*testing.T, string) string {
	return func(t *testing.T, s string) string {
		zp := dns.NewZoneParser(strings.NewReader(s), "", "")
		var owner string
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			if n, ok := rr.(*dns.NSEC3); ok && n.Cover(name) {
				owner = strings.ToLower(n.Hdr.Name)
			}
		}
		if owner == "" {
			t.Fatalf("tamper: no NSEC3 covers %s", name)
		}
		return dropLines(t, s, `(?i)^`+regexp.QuoteMeta(owner)+`\s`)
	}
}

func buildHierarchy(t *testing.T) *dnsHierarchy {
	t.Helper()
	for _, p := range []string{"nsd", "dnssec-keygen", "dnssec-signzone", "dnssec-dsfromkey"} {
		probetest.LookPeer(t, p)
	}
	nettoolBinary(t) // built before the clock starts
	began := time.Now()
	defer func() { t.Logf("hierarchy built in %s", time.Since(began).Round(time.Millisecond)) }()
	n := probetest.NewNetns(t, "dnstrace")
	dir := t.TempDir()
	addrs := map[string]bool{hAll: true}
	zones := hierarchyZones()
	for _, z := range zones {
		for _, a := range z.servers {
			addrs[a] = true
		}
	}
	addrs["192.0.2.12"] = true
	addrs[hDead] = true
	for a := range addrs {
		n.IP("addr", "add", a+"/32", "dev", "lo")
	}
	// The dead server's packets vanish on the way in: no ICMP, no reply.
	n.Run(probetest.LookPeer(t, "nft"), "add table ip dnstrace { chain in { type filter hook input priority 0; ip daddr "+hDead+" drop; }; }")

	phase := func(what string) { t.Logf("hierarchy: %s at %s", what, time.Since(began).Round(time.Millisecond)) }
	// Keys, then zones signed children first so each DS goes into its parent.
	keyDir := func(z *hZone) string { return filepath.Join(dir, "keys", strings.TrimSuffix(z.name, ".")+"root") }
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	gen := func(zone, kd string) {
		defer wg.Done()
		if err := os.MkdirAll(kd, 0o755); err != nil {
			errs <- err.Error()
			return
		}
		if out, err := exec.Command("dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", kd, zone).CombinedOutput(); err != nil {
			errs <- fmt.Sprintf("dnssec-keygen %s: %v %s", zone, err, out)
		}
	}
	for _, z := range zones {
		if z.signed {
			wg.Add(1)
			go gen(z.name, keyDir(z))
		}
	}
	stray := filepath.Join(dir, "keys", "stray")
	wg.Add(1)
	go gen("badds.test.", stray)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	phase("keys made")
	dsOf := func(kd string) string {
		keys, _ := filepath.Glob(filepath.Join(kd, "*.key"))
		if len(keys) != 1 {
			t.Fatalf("keys in %s: %v", kd, keys)
		}
		out, err := exec.Command("dnssec-dsfromkey", "-2", keys[0]).Output()
		if err != nil {
			t.Fatalf("dnssec-dsfromkey: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	byName := map[string]*hZone{}
	for _, z := range zones {
		byName[z.name] = z
	}
	// zone text per server address (serials may differ)
	files := map[string]map[string]string{} // zone -> addr -> file
	parentOf := func(name string) string {
		i := strings.Index(name, ".")
		if name == "." || i == len(name)-1 {
			return "."
		}
		return name[i+1:]
	}
	var filesMu sync.Mutex
	sign := func(z *hZone) {
		body := z.body
		for _, c := range zones {
			if c.signed && c != z && parentOf(c.name) == z.name {
				kd := keyDir(c)
				if c.name == "badds.test." {
					kd = stray
				}
				body += dsOf(kd) + "\n"
			}
		}
		mine := map[string]string{}
		defer func() {
			filesMu.Lock()
			files[z.name] = mine
			filesMu.Unlock()
		}()
		serials := map[int][]string{}
		for _, a := range append(append([]string{}, z.servers...), hAll) {
			s := 1
			if v, ok := z.serial[a]; ok {
				s = v
			}
			serials[s] = append(serials[s], a)
		}
		for s, who := range serials {
			zf := filepath.Join(dir, "zones", fmt.Sprintf("%sroot.%d.zone", strings.TrimSuffix(z.name, "."), s))
			_ = os.MkdirAll(filepath.Dir(zf), 0o755)
			text := fmt.Sprintf("$TTL 300\n$ORIGIN %s\n@ SOA ns1.%s hostmaster.%s %d 3600 600 86400 300\n%s", z.name, strings.TrimPrefix(z.name, "."), strings.TrimPrefix(z.name, "."), s, body)
			if z.name == "." {
				text = fmt.Sprintf("$TTL 300\n$ORIGIN .\n@ SOA a.root-servers.test. hostmaster.test. %d 3600 600 86400 300\n%s", s, body)
			}
			if err := os.WriteFile(zf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if z.signed {
				args := []string{"-q", "-P", "-S", "-z", "-O", "full", "-d", filepath.Dir(zf), "-K", keyDir(z), "-o", z.name, "-f", zf + ".signed"}
				if z.expired {
					args = append(args, "-s", "20200101000000", "-e", "20200201000000")
				}
				if z.nsec3 {
					args = append(args, "-3", "-", "-H", "0")
				}
				args = append(args, zf)
				sc := exec.Command("dnssec-signzone", args...)
				sc.Dir = filepath.Dir(zf) // its dsset- files stay in the test's directory
				if out, err := sc.CombinedOutput(); err != nil {
					t.Fatalf("dnssec-signzone %s: %v %s", z.name, err, out)
				}
				// One record per line, for tampering.
				raw, err := os.ReadFile(zf + ".signed")
				if err != nil {
					t.Fatal(err)
				}
				s := string(raw)
				if z.tamper != nil {
					s = z.tamper(t, s)
				}
				zf += ".signed"
				if err := os.WriteFile(zf, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range who {
				mine[a] = zf
			}
		}
	}
	// Leaves first: depth order, deepest first.
	order := append([]*hZone{}, zones...)
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			if dns.CountLabel(order[j].name) > dns.CountLabel(order[i].name) {
				order[i], order[j] = order[j], order[i]
			}
		}
	}
	// Siblings can be signed at once; a parent waits for its children.
	for depth := dns.CountLabel(order[0].name); depth >= 0; depth-- {
		var wg sync.WaitGroup
		for _, z := range order {
			if dns.CountLabel(z.name) != depth {
				continue
			}
			wg.Add(1)
			go func(z *hZone) {
				defer wg.Done()
				sign(z)
			}(z)
		}
		wg.Wait()
	}
	phase("zones signed")
	// One nsd per address.
	perAddr := map[string][]string{} // addr -> zone stanzas
	for _, z := range zones {
		for a, f := range files[z.name] {
			perAddr[a] = append(perAddr[a], fmt.Sprintf("zone:\n  name: %q\n  zonefile: %q\n", z.name, f))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var procs []*exec.Cmd
	t.Cleanup(func() {
		cancel()
		for _, p := range procs {
			_ = p.Wait()
		}
	})
	// Addresses that serve the same zones from the same files share one
	// nsd (fewer processes to start): a listen line each.
	groups := map[string][]string{} // zone stanzas -> addresses
	for a, stanzas := range perAddr {
		sort.Strings(stanzas)
		k := strings.Join(stanzas, "")
		groups[k] = append(groups[k], a)
	}
	for stanzaText, addrs := range groups {
		sort.Strings(addrs)
		stanzas := []string{stanzaText}
		a := strings.Join(addrs, "\n  ip-address: ")
		d := filepath.Join(dir, "nsd-"+addrs[0])
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf("server:\n  ip-address: %s\n  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: %q\n  pidfile: %q\n  database: \"\"\n  xfrdfile: %q\n  zonelistfile: %q\n  logfile: %q\n  server-count: 1\n  verbosity: 0\n  hide-version: yes\n  reuseport: no\nremote-control:\n  control-enable: no\n%s",
			a, d, filepath.Join(d, "nsd.pid"), filepath.Join(d, "xfrd.state"), filepath.Join(d, "zone.list"), filepath.Join(d, "nsd.log"), strings.Join(stanzas, ""))
		cf := filepath.Join(d, "nsd.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := n.Command(ctx, probetest.LookPeer(t, "nsd"), "-d", "-c", cf)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	phase("nsd started")
	h := &dnsHierarchy{ns: n, dir: dir}
	h.hints = filepath.Join(dir, "root.hints")
	_ = os.WriteFile(h.hints, []byte(". NS a.root-servers.test.\n. NS b.root-servers.test.\na.root-servers.test. A 192.0.2.1\nb.root-servers.test. A 192.0.2.2\n"), 0o644)
	rootDS := dsOf(keyDir(byName["."]))
	h.anchor = filepath.Join(dir, "root.ds")
	_ = os.WriteFile(h.anchor, []byte(rootDS+"\n"), 0o644)
	f := strings.Fields(rootDS) // . IN DS tag alg dt digest
	h.delvTA = filepath.Join(dir, "delv.ta")
	_ = os.WriteFile(h.delvTA, []byte(fmt.Sprintf("trust-anchors {\n  \".\" static-ds %s %s %s \"%s\";\n};\n", f[3], f[4], f[5], strings.Join(f[6:], ""))), 0o644)
	h.resolv = filepath.Join(dir, "resolv.conf")
	_ = os.WriteFile(h.resolv, []byte("nameserver "+hAll+"\n"), 0o644)

	// Ready when every server answers for its first zone (a bounded wait
	// on the servers themselves, not a sleep).
	waitNSD(t, n, perAddr, dir)
	return h
}

// waitNSD waits until every nsd answers for its first zone. It asks from
// one UDP socket made inside the namespace (no process per probe), and asks
// again every 100 ms those that have not answered, for 60 s at most.
func waitNSD(t *testing.T, n *probetest.Netns, perAddr map[string][]string, dir string) {
	t.Helper()
	pc := packetConnIn(t, n.Name)
	defer pc.Close()
	want := map[string]string{} // addr -> zone
	for a, stanzas := range perAddr {
		want[a] = regexp.MustCompile(`name: "([^"]*)"`).FindStringSubmatch(stanzas[0])[1]
	}
	deadline := time.Now().Add(60 * time.Second)
	buf := make([]byte, 4096)
	for len(want) > 0 {
		if time.Now().After(deadline) {
			var missing []string
			for a := range want {
				logs, _ := filepath.Glob(filepath.Join(dir, "nsd-*", "nsd.log"))
				var text []string
				for _, l := range logs {
					b, _ := os.ReadFile(l)
					text = append(text, string(b))
				}
				missing = append(missing, a+" ("+strings.Join(text, " ")+")")
			}
			t.Fatalf("nsd not ready: %s", strings.Join(missing, "; "))
		}
		for a, zone := range want {
			m := new(dns.Msg)
			m.SetQuestion(zone, dns.TypeSOA)
			m.RecursionDesired = false
			b, _ := m.Pack()
			_, _ = pc.WriteTo(b, &net.UDPAddr{IP: net.ParseIP(a), Port: 53})
		}
		_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			r := new(dns.Msg)
			if r.Unpack(buf[:k]) == nil && r.Authoritative && r.Rcode == dns.RcodeSuccess {
				if ua, ok := from.(*net.UDPAddr); ok {
					delete(want, ua.IP.String())
				}
			}
		}
	}
}

// packetConnIn makes a UDP socket inside network namespace name: a thread
// joins the namespace, makes the socket and ends with its goroutine (the
// socket stays in the namespace it was made in).
func packetConnIn(t *testing.T, name string) net.PacketConn {
	t.Helper()
	type res struct {
		pc  net.PacketConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		f, err := os.Open("/var/run/netns/" + name)
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- res{err: err}
			return
		}
		pc, err := net.ListenPacket("udp4", "0.0.0.0:0")
		ch <- res{pc, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("socket in %s: %v", name, r.err)
	}
	return r.pc
}

// run runs nettool inside the hierarchy's namespace.
func (h *dnsHierarchy) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := h.ns.Command(ctx, nettoolBinary(t), args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nettool %q: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// delv asks the server of every zone with the test's trust anchor.
func (h *dnsHierarchy) delv(t *testing.T, name string) string {
	t.Helper()
	return h.delvType(t, name, "A")
}

func (h *dnsHierarchy) delvType(t *testing.T, name, qtype string) string {
	t.Helper()
	delv := probetest.LookPeer(t, "delv")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := h.ns.Command(ctx, delv, "@"+hAll, "-a", h.delvTA, "+root=.", name, qtype).CombinedOutput()
	return string(out)
}

type dnsTraceJSON struct {
	Type    string `json:"type"`
	OK      bool   `json:"ok"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	Queries int    `json:"queries"`
	Levels  []struct {
		Zone     string `json:"zone"`
		Outcome  string `json:"outcome"`
		Referral string `json:"referral"`
		Servers  []struct {
			Name    string `json:"name"`
			Addr    string `json:"addr"`
			Outcome string `json:"outcome"`
			AA      bool   `json:"aa"`
		} `json:"servers"`
	} `json:"levels"`
	Answer []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Data string `json:"data"`
	} `json:"answer"`
	Findings []struct {
		Code    string `json:"code"`
		Zone    string `json:"zone"`
		Server  string `json:"server"`
		Message string `json:"message"`
	} `json:"findings"`
	Validation *struct {
		Verdict string `json:"verdict"`
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Zones   []struct {
			Zone    string `json:"zone"`
			Verdict string `json:"verdict"`
		} `json:"zones"`
	} `json:"validation"`
}

func (h *dnsHierarchy) trace(t *testing.T, wantCode int, args ...string) dnsTraceJSON {
	t.Helper()
	full := append([]string{"resolve", "--trace", "--root-hints", h.hints, "--trust-anchor", h.anchor, "--json", "--timeout", "300ms", "--retries", "1"}, args...)
	out, errOut, code := h.run(t, full...)
	if code != wantCode {
		t.Fatalf("nettool %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	var tj dnsTraceJSON
	if err := json.Unmarshal([]byte(out), &tj); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	return tj
}

func (tj dnsTraceJSON) zones() []string {
	var out []string
	for _, l := range tj.Levels {
		if len(out) == 0 || out[len(out)-1] != l.Zone {
			out = append(out, l.Zone)
		}
	}
	return out
}

func (tj dnsTraceJSON) finding(code string) string {
	for _, f := range tj.Findings {
		if f.Code == code {
			return f.Message
		}
	}
	return ""
}

func (tj dnsTraceJSON) answerData(typ string) []string {
	var out []string
	for _, a := range tj.Answer {
		if a.Type == typ {
			out = append(out, a.Data)
		}
	}
	return out
}

func TestTraceHierarchy(t *testing.T) {
	h := buildHierarchy(t)

	t.Run("signed chain: dig +trace path and delv verdict", func(t *testing.T) {
		tj := h.trace(t, 0, "www.sub.example.test", "A", "--validate")
		want := []string{".", "test.", "example.test.", "sub.example.test."}
		if got := tj.zones(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("zones %v, want %v", got, want)
		}
		for _, l := range tj.Levels {
			if len(l.Servers) != 2 {
				t.Errorf("level %s asked %d servers, want 2", l.Zone, len(l.Servers))
			}
		}
		if a := tj.answerData("A"); len(a) != 1 || a[0] != "198.51.100.20" {
			t.Errorf("answer %v", a)
		}
		if tj.Validation == nil || tj.Validation.Verdict != "secure" {
			t.Fatalf("validation %+v", tj.Validation)
		}
		if len(tj.Findings) != 0 {
			t.Errorf("findings on a healthy chain: %+v", tj.Findings)
		}
		// dig +trace from the same root: the same zones and answer.
		dig := probetest.LookPeer(t, "dig")
		unshare := probetest.LookPeer(t, "unshare")
		script := fmt.Sprintf("mount --bind %s /etc/resolv.conf && exec %s +trace +nodnssec www.sub.example.test A", h.resolv, dig)
		out, err := h.ns.Command(context.Background(), unshare, "-m", "sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("dig +trace: %v\n%s", err, out)
		}
		var digZones []string
		var digAnswer []string
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) >= 5 && f[3] == "NS" && (len(digZones) == 0 || digZones[len(digZones)-1] != f[0]) {
				digZones = append(digZones, f[0])
			}
			if len(f) >= 5 && f[3] == "A" && f[0] == "www.sub.example.test." {
				digAnswer = append(digAnswer, f[4])
			}
		}
		if strings.Join(digZones, " ") != strings.Join(want, " ") || strings.Join(digAnswer, " ") != "198.51.100.20" {
			t.Errorf("dig +trace: zones %v answer %v, nettool %v %v\n%s", digZones, digAnswer, tj.zones(), tj.answerData("A"), out)
		}
		// delv with the same trust anchor, through the server of every zone.
		if dout := h.delv(t, "www.sub.example.test"); !strings.Contains(dout, "; fully validated") {
			t.Errorf("delv does not say fully validated:\n%s", dout)
		}
	})

	// NETTOOL_TRACE_DOCS=DIR keeps the text of a few runs, for docs/resolve.md.
	if dir := os.Getenv("NETTOOL_TRACE_DOCS"); dir != "" {
		for i, args := range [][]string{
			{"www.sub.example.test", "--validate"},
			{"www.dead.test", "--timeout", "300ms", "--retries", "1"},
			{"www.expired.test", "--validate"},
			{"nope.badnsec3.test", "--validate"},
			{"www.glue.test", "--qmin"},
			{"www.plain.test", "--validate", "--json"},
		} {
			out, errOut, code := h.run(t, append([]string{"resolve", "--trace", "--root-hints", h.hints, "--trust-anchor", h.anchor}, args...)...)
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.txt", i)), []byte(fmt.Sprintf("$ nettool resolve --trace --root-hints hints --trust-anchor root.ds %s\n%s%s[exit %d]\n", strings.Join(args, " "), out, errOut, code)), 0o644)
		}
		out, errOut, code := h.run(t, "resolve", "@"+hAll, "--no-rd", "www.nosig.test", "--validate", "--trust-anchor", h.anchor)
		_ = os.WriteFile(filepath.Join(dir, "ordinary.txt"), []byte(fmt.Sprintf("$ nettool resolve @%s --no-rd www.nosig.test --validate --trust-anchor root.ds\n%s%s[exit %d]\n", hAll, out, errOut, code)), 0o644)
	}

	t.Run("text output", func(t *testing.T) {
		out, _, code := h.run(t, "resolve", "+trace", "--root-hints", h.hints, "--trust-anchor", h.anchor, "--validate", "www.example.test")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for _, want := range []string{";; trace www.example.test. A from the given root hints", "\n.: referral to test.", "├─ a.root-servers.test. 192.0.2.1", "└─ b.root-servers.test. 192.0.2.2", "example.test.: answer", ";; ANSWER", "198.51.100.10", ";; DNSSEC", ";; answer: secure (fully validated)", "ANSWER in 3 level(s)"} {
			if !strings.Contains(out, want) {
				t.Errorf("text lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("start server", func(t *testing.T) {
		out, errOut, code := h.run(t, "resolve", "--trace", "@"+hAll, "www.example.test", "--json")
		if code != 0 || !strings.Contains(out, "198.51.100.10") || !strings.Contains(out, `"source": "start"`) {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("qmin", func(t *testing.T) {
		tj := h.trace(t, 0, "www.sub.example.test", "A", "--qmin")
		var asked []string
		if a := tj.answerData("A"); len(a) != 1 || a[0] != "198.51.100.20" {
			t.Errorf("answer %v", a)
		}
		out, _, _ := h.run(t, "resolve", "--trace", "+qmin", "--root-hints", h.hints, "www.sub.example.test", "--json")
		for _, m := range regexp.MustCompile(`"qname": "([^"]*)"`).FindAllStringSubmatch(out, -1) {
			asked = append(asked, m[1])
		}
		want := "test. example.test. sub.example.test. www.sub.example.test."
		if strings.Join(asked, " ") != want {
			t.Errorf("qmin asked %v, want %s", asked, want)
		}
	})

	t.Run("nxdomain", func(t *testing.T) {
		tj := h.trace(t, 1, "nope.example.test", "A", "--validate")
		if tj.Status != "nxdomain" || tj.Validation.Verdict != "secure" || !strings.Contains(tj.Validation.Reason, "negative") {
			t.Errorf("%+v %+v", tj.Status, tj.Validation)
		}
		tj = h.trace(t, 1, "www.example.test", "TXT", "--validate")
		if tj.Status != "nodata" || tj.Validation.Verdict != "secure" {
			t.Errorf("%+v %+v", tj.Status, tj.Validation)
		}
		tj = h.trace(t, 1, "nope.badnsec3.test", "TXT", "--validate")
		if tj.Status != "nxdomain" || tj.Validation.Verdict != "bogus" || tj.Validation.Code != "bad_nsec_proof" {
			t.Errorf("bad NSEC3 proof: %+v %+v", tj.Status, tj.Validation)
		}
		tj = h.trace(t, 1, "other.nsec3.test", "TXT", "--validate")
		if tj.Status != "nxdomain" || tj.Validation.Verdict != "secure" {
			t.Errorf("good NSEC3 NXDOMAIN proof: %+v %+v", tj.Status, tj.Validation)
		}
		tj = h.trace(t, 1, "www.nsec3.test", "TXT", "--validate")
		if tj.Status != "nodata" || tj.Validation.Verdict != "secure" {
			t.Errorf("good NSEC3 NODATA proof: %+v %+v", tj.Status, tj.Validation)
		}
	})

	t.Run("lame", func(t *testing.T) {
		tj := h.trace(t, 0, "www.lame.test")
		if m := tj.finding("lame_delegation"); !strings.Contains(m, "ns2.lame.test.") || !strings.Contains(m, "REFUSED") {
			t.Errorf("lame finding %q; %+v", m, tj.Findings)
		}
	})
	t.Run("wrong glue", func(t *testing.T) {
		tj := h.trace(t, 0, "www.glue.test")
		if m := tj.finding("glue_mismatch"); !strings.Contains(m, "192.0.2.11") || !strings.Contains(m, "192.0.2.12") {
			t.Errorf("glue finding %q; %+v", m, tj.Findings)
		}
	})
	t.Run("ns mismatch", func(t *testing.T) {
		tj := h.trace(t, 0, "www.nsm.test")
		if m := tj.finding("ns_mismatch"); !strings.Contains(m, "ns3.nsm.test.") {
			t.Errorf("ns finding %q; %+v", m, tj.Findings)
		}
	})
	t.Run("serials", func(t *testing.T) {
		tj := h.trace(t, 0, "www.serial.test")
		if m := tj.finding("soa_serial_mismatch"); !strings.Contains(m, "1 (") || !strings.Contains(m, "2 (") {
			t.Errorf("serial finding %q; %+v", m, tj.Findings)
		}
	})
	t.Run("dead server", func(t *testing.T) {
		start := time.Now()
		tj := h.trace(t, 0, "www.dead.test")
		if m := tj.finding("server_timeout"); !strings.Contains(m, "198.18.0.1") {
			t.Errorf("timeout finding %q; %+v", m, tj.Findings)
		}
		// 2 tries of 300ms, asked in parallel with the live server: the
		// bound is generous, the point is that it ends.
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("cname across zones", func(t *testing.T) {
		tj := h.trace(t, 0, "alias.example.test", "--validate")
		if m := tj.finding("cname_cross_zone"); !strings.Contains(m, "www.sub.example.test.") {
			t.Errorf("cname finding %q; %+v", m, tj.Findings)
		}
		if a := tj.answerData("A"); len(a) != 1 || a[0] != "198.51.100.20" {
			t.Errorf("answer %v", a)
		}
		if tj.Validation.Verdict != "secure" {
			t.Errorf("validation %+v", tj.Validation)
		}
	})
	t.Run("dname", func(t *testing.T) {
		tj := h.trace(t, 0, "www.dn.example.test", "--validate")
		if m := tj.finding("dname_followed"); !strings.Contains(m, "dn.example.test.") {
			t.Errorf("dname finding %q; %+v", m, tj.Findings)
		}
		if a := tj.answerData("A"); len(a) != 1 || a[0] != "198.51.100.20" {
			t.Errorf("answer %v", a)
		}
		if tj.Validation.Verdict != "secure" {
			t.Errorf("validation %+v", tj.Validation)
		}
	})
	t.Run("referral loop", func(t *testing.T) {
		tj := h.trace(t, 1, "www.loop.test")
		if tj.OK || !strings.Contains(tj.Error, "loop") || tj.finding("referral_loop") == "" {
			t.Errorf("%+v", tj)
		}
	})
	t.Run("bogus", func(t *testing.T) {
		for _, c := range []struct{ name, code, reason string }{
			{"www.expired.test", "rrsig_expired", "has expired"},
			{"www.badds.test", "ds_no_matching_dnskey", "matches its DS"},
			{"www.nosig.test", "missing_rrsig", "no RRSIG over www.nosig.test. A"},
		} {
			tj := h.trace(t, 1, c.name, "--validate")
			if tj.Validation == nil || tj.Validation.Verdict != "bogus" || tj.Validation.Code != c.code || !strings.Contains(tj.Validation.Reason, c.reason) {
				t.Errorf("%s: %+v", c.name, tj.Validation)
			}
			// delv, with the same anchor, does not accept it either.
			if dout := h.delv(t, c.name); strings.Contains(dout, "; fully validated") || strings.Contains(dout, "; unsigned answer") || !strings.Contains(dout, "failed") {
				t.Errorf("%s: delv accepts what nettool calls bogus:\n%s", c.name, dout)
			}
		}
	})
	t.Run("wildcard", func(t *testing.T) {
		for _, zone := range []string{"wild.test", "wild3.test"} {
			name := "a.w." + zone
			tj := h.trace(t, 0, name, "A", "--validate")
			if a := tj.answerData("A"); len(a) != 1 || a[0] != "198.51.100.41" {
				t.Errorf("%s: answer %v", name, a)
			}
			if tj.Validation == nil || tj.Validation.Verdict != "secure" {
				t.Errorf("%s: %+v", name, tj.Validation)
			}
			if dout := h.delv(t, name); !strings.Contains(dout, "; fully validated") {
				t.Errorf("%s: delv does not say fully validated:\n%s", name, dout)
			}
			out, errOut, code := h.run(t, "resolve", "@"+hAll, "--no-rd", name, "A", "--validate", "--trust-anchor", h.anchor)
			if code != 0 || !strings.Contains(out, ";; answer: secure") {
				t.Errorf("%s, ordinary query: exit %d\n%s%s", name, code, out, errOut)
			}
		}
		for _, c := range []struct{ zone, reason string }{
			{"badwild.test", "wildcard answer a.w.badwild.test. A without a proof that a.w.badwild.test. does not exist"},
			{"badwild3.test", "wildcard answer a.w.badwild3.test. A without a proof that a.w.badwild3.test. does not exist (no NSEC3 covers the next closer name)"},
		} {
			name := "a.w." + c.zone
			tj := h.trace(t, 1, name, "A", "--validate")
			if tj.Validation == nil || tj.Validation.Verdict != "bogus" || tj.Validation.Code != "bad_nsec_proof" || !strings.Contains(tj.Validation.Reason, c.reason) {
				t.Errorf("%s: %+v, want bogus: %s", name, tj.Validation, c.reason)
			}
			if dout := h.delv(t, name); strings.Contains(dout, "; fully validated") || strings.Contains(dout, "; unsigned answer") || !strings.Contains(dout, "failed") {
				t.Errorf("%s: delv accepts what nettool calls bogus:\n%s", name, dout)
			}
			out, errOut, code := h.run(t, "resolve", "@"+hAll, "--no-rd", name, "A", "--validate", "--trust-anchor", h.anchor)
			if code != 1 || !strings.Contains(out, ";; answer: bogus") || !strings.Contains(out, c.reason) {
				t.Errorf("%s, ordinary query: exit %d\n%s%s", name, code, out, errOut)
			}
		}
		// Wildcard NODATA: *.w has an A record, no TXT.
		for _, c := range []struct{ zone, verdict, reason string }{
			{"wild.test", "secure", ""},
			{"wild3.test", "secure", ""},
			{"badwild.test", "bogus", "no NSEC matches a.w.badwild.test.: the NODATA proof fails"},
			{"badwild3.test", "bogus", "no NSEC3 matches a.w.badwild3.test."},
		} {
			name := "a.w." + c.zone
			tj := h.trace(t, 1, name, "TXT", "--validate")
			if tj.Status != "nodata" || tj.Validation == nil || tj.Validation.Verdict != c.verdict || !strings.Contains(tj.Validation.Reason, c.reason) {
				t.Errorf("%s TXT: %s %+v, want nodata, %s %q", name, tj.Status, tj.Validation, c.verdict, c.reason)
			}
			dout := h.delvType(t, name, "TXT")
			if c.verdict == "secure" && !strings.Contains(dout, "; negative response, fully validated") ||
				c.verdict == "bogus" && (strings.Contains(dout, "fully validated") || !strings.Contains(dout, "failed")) {
				t.Errorf("%s TXT: delv disagrees with %s:\n%s", name, c.verdict, dout)
			}
		}
	})
	t.Run("insecure", func(t *testing.T) {
		tj := h.trace(t, 0, "www.plain.test", "--validate")
		if tj.Validation.Verdict != "insecure" {
			t.Errorf("%+v", tj.Validation)
		}
		if dout := h.delv(t, "www.plain.test"); !strings.Contains(dout, "; unsigned answer") {
			t.Errorf("delv does not say unsigned answer:\n%s", dout)
		}
	})
	t.Run("validate an ordinary answer", func(t *testing.T) {
		for _, c := range []struct {
			name, verdict string
			code          int
		}{{"www.sub.example.test", "secure", 0}, {"www.plain.test", "insecure", 0}, {"www.nosig.test", "bogus", 1}, {"www.expired.test", "bogus", 1}} {
			out, errOut, code := h.run(t, "resolve", "@"+hAll, "--no-rd", c.name, "A", "--validate", "--trust-anchor", h.anchor)
			if code != c.code || !strings.Contains(out, ";; answer: "+c.verdict) {
				t.Errorf("%s: exit %d, want %d and %s\n%s%s", c.name, code, c.code, c.verdict, out, errOut)
			}
		}
	})
}
