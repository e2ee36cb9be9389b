package serve

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestDNSExampleZonesLoad(t *testing.T) {
	zs := DNSExampleZones()
	if len(zs) != 3 || zs[0].Origin() != "example.test." || zs[0].File() != "built-in" {
		t.Fatalf("built-in zones: %d, first %q", len(zs), zs[0].Origin())
	}
	// The text and the zones agree: parsing the text again gives the same
	// records.
	var n int
	for _, z := range zs {
		n += z.Records()
	}
	zp := dns.NewZoneParser(strings.NewReader(DNSExampleZoneText()), "", "")
	var m int
	for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		m++
	}
	if zp.Err() != nil || m != n {
		t.Fatalf("DNSExampleZoneText has %d records (err %v), the zones %d", m, zp.Err(), n)
	}
	// Every address in it is a loopback address.
	for _, z := range zs {
		for _, node := range z.names {
			for _, rr := range node.rrs(dns.TypeA) {
				if !rr.(*dns.A).A.IsLoopback() {
					t.Errorf("non-loopback address in the example zone: %s", rr)
				}
			}
			for _, rr := range node.rrs(dns.TypeAAAA) {
				if !rr.(*dns.AAAA).AAAA.IsLoopback() {
					t.Errorf("non-loopback address in the example zone: %s", rr)
				}
			}
		}
	}
}

func TestDNSZoneDirectives(t *testing.T) {
	// $ORIGIN and $TTL apply; a TTL on a record wins; relative names work.
	const text = `$TTL 42
$ORIGIN Directives.TEST.
@    IN SOA ns h 1 2 3 4 5
     IN NS ns
ns   IN A 127.0.0.1
long 7200 IN A 127.0.0.2
$ORIGIN sub.directives.test.
x    IN TXT "in sub"
`
	z, err := DNSParseZone(strings.NewReader(text), "", "d.zone")
	if err != nil {
		t.Fatal(err)
	}
	if z.Origin() != "directives.test." || z.Records() != 5 {
		t.Fatalf("origin %q records %d", z.Origin(), z.Records())
	}
	check := func(name string, qtype uint16, ttl uint32) {
		t.Helper()
		n := z.node(name)
		if n == nil || len(n.rrs(qtype)) != 1 || n.rrs(qtype)[0].Header().Ttl != ttl {
			t.Errorf("%s %s: %v, want TTL %d", name, dns.TypeToString[qtype], n, ttl)
		}
	}
	check("ns.directives.test.", dns.TypeA, 42)
	check("long.directives.test.", dns.TypeA, 7200)
	check("x.sub.directives.test.", dns.TypeTXT, 42)
	if z.node("sub.directives.test.") == nil {
		t.Error("empty non-terminal sub.directives.test. missing")
	}
	// An origin given from outside serves a file without $ORIGIN.
	z, err = DNSParseZone(strings.NewReader("@ SOA ns h 1 2 3 4 5\nwww A 127.0.0.1\n"), "Outside.Test", "o.zone")
	if err != nil || z.Origin() != "outside.test." || z.node("www.outside.test.") == nil {
		t.Fatalf("origin from outside: %v %v", z, err)
	}
	// A file with the same record twice keeps one.
	z, err = DNSParseZone(strings.NewReader("$ORIGIN d.test.\n@ SOA ns h 1 2 3 4 5\nwww A 127.0.0.1\nwww A 127.0.0.1\n"), "", "dup")
	if err != nil || z.Records() != 2 {
		t.Fatalf("duplicates: %v %v", z, err)
	}
}

func TestDNSZoneErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"syntax", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nwww A 1.2.3\n", "bad.zone:3:"},
		{"bad type", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\n\n\nwww IN BOGUS x\n", "bad.zone:5:"},
		{"unterminated", "$ORIGIN e.test.\n@ SOA ns h ( 1 2 3 4 5\n", "bad.zone:"},
		{"no SOA", "$ORIGIN e.test.\nwww A 127.0.0.1\n", "no SOA record"},
		{"two SOA", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\n@ SOA ns h 2 2 3 4 5\n", "2 SOA records"},
		{"SOA below apex", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nsub SOA ns h 1 2 3 4 5\n", "below the zone's apex"},
		{"outside", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nwww.other.test. A 127.0.0.1\n", "outside the zone"},
		{"CNAME and data", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nwww CNAME x\nwww A 127.0.0.1\n", "CNAME must stand alone"},
		{"two CNAMEs", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nwww CNAME x\nwww CNAME y\n", "2 CNAME records"},
		{"CNAME at apex", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\n@ CNAME x\n", "CNAME must stand alone"},
		{"class", "$ORIGIN e.test.\n@ SOA ns h 1 2 3 4 5\nwww CH A 127.0.0.1\n", "only IN"},
		{"include refused", "$ORIGIN e.test.\n$INCLUDE /etc/passwd\n", "bad.zone:2:"},
		{"relative without origin", "@ SOA ns h 1 2 3 4 5\n", "bad.zone:1:"},
	}
	for _, c := range cases {
		_, err := DNSParseZone(strings.NewReader(c.text), "", "bad.zone")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), " at line: ") {
			t.Errorf("%s: miekg's error form leaked: %v", c.name, err)
		}
	}
	if _, err := DNSParseZone(strings.NewReader(""), "bad..name", "x"); err == nil {
		t.Error("bad origin accepted")
	}
	if _, err := DNSLoadZoneFile(filepath.Join(t.TempDir(), "missing.zone"), ""); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDNSZoneFileInclude(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hosts.inc"), []byte("www A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := "$ORIGIN inc.test.\n@ SOA ns h 1 2 3 4 5\n$INCLUDE " + filepath.Join(dir, "hosts.inc") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "main.zone"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	z, err := DNSLoadZoneFile(filepath.Join(dir, "main.zone"), "")
	if err != nil || z.node("www.inc.test.") == nil {
		t.Fatalf("$INCLUDE in a zone file: %v", err)
	}
}

func TestDNSZoneWriteTo(t *testing.T) {
	z := DNSExampleZones()[0]
	var b bytes.Buffer
	if _, err := z.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	// What WriteTo prints parses back to the same zone.
	z2, err := DNSParseZone(&b, "", "written")
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if z2.Records() != z.Records() || z2.Origin() != z.Origin() {
		t.Fatalf("round trip: %d records %q, want %d %q", z2.Records(), z2.Origin(), z.Records(), z.Origin())
	}
	first := strings.SplitN(text, "\n", 4)
	if !strings.Contains(first[2], "SOA") {
		t.Errorf("SOA is not the first record:\n%s", strings.Join(first, "\n"))
	}
}
