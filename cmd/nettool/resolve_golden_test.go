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
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// The presentation golden test: every record of testdata/resolve/golden.test.zone
// (each common type, long hex and base64 fields, SVCB/HTTPS parameters that
// need quoting and some that do not, LOC, unknown types, names with escaped
// bytes and an IDN label) is asked of one nsd by dig and by nettool; the
// --short output must equal dig +short byte for byte, and the JSON records
// must equal dig's answer section (owner, TTL, class, type, data).

const goldenOrigin = "golden.test"

type goldenQuery struct{ name, qtype string }

// goldenQueries lists one query per owner and type of the zone file.
func goldenQueries(t *testing.T, zone string) []goldenQuery {
	t.Helper()
	var qs []goldenQuery
	seen := map[goldenQuery]bool{}
	for _, l := range strings.Split(zone, "\n") {
		if l == "" || strings.ContainsAny(l[:1], "$; \t") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "IN" {
			t.Fatalf("zone line %q: want OWNER IN TYPE ...", l)
		}
		name := f[0] + "." + goldenOrigin
		if f[0] == "@" {
			name = goldenOrigin
		}
		q := goldenQuery{name, f[2]}
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	return qs
}

func goldenPeer(t *testing.T, tool string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	return string(out)
}

// goldenDigName is a name as dig writes it in its question line (the zone
// file's escapes are dig's, but for "\~" and "\126", which dig writes "~",
// and "\," written ",").
func goldenDigName(n string) string {
	return strings.NewReplacer(`\~`, "~", `\,`, ",").Replace(n)
}

var digAnswerLine = regexp.MustCompile(`^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$`)

// digAnswer is dig's answer section as "name ttl class type data" lines.
func digAnswer(t *testing.T, out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		m := digAnswerLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("dig answer line %q", l)
		}
		lines = append(lines, strings.Join(m[1:], " "))
	}
	sort.Strings(lines)
	return lines
}

func TestResolveGoldenPresentationVsDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	zb, err := os.ReadFile(filepath.Join("testdata", "resolve", "golden.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	zone := string(zb)
	addr := resolveStartNSDZone(t, goldenOrigin, zone)
	host, port, _ := net.SplitHostPort(addr)
	digArgs := func(_ goldenQuery, extra ...string) []string {
		return append([]string{"@" + host, "-p", port, "+norec", "+time=5", "+tries=2"}, extra...)
	}
	qs := goldenQueries(t, zone)
	// dig asks everything in one run (it is slow to start on a loaded
	// machine): +short output in query order, and the answer sections
	// with a question line before each.
	var all []string
	for _, q := range qs {
		all = append(all, q.name, q.qtype)
	}
	wantShort := goldenPeer(t, dig, append(digArgs(goldenQuery{}, "+short"), all...)...)
	answers := map[goldenQuery][]string{}
	var cur goldenQuery
	for _, l := range strings.Split(goldenPeer(t, dig, append(digArgs(goldenQuery{}, "+noall", "+question", "+answer"), all...)...), "\n") {
		if strings.HasPrefix(l, ";") {
			f := strings.Fields(strings.TrimPrefix(l, ";"))
			cur = goldenQuery{strings.TrimSuffix(f[0], "."), f[len(f)-1]}
			continue
		}
		answers[cur] = append(answers[cur], digAnswer(t, l)...)
	}
	var gotShort strings.Builder
	for _, q := range qs {
		got, errs, code := runCLI(t, "resolve", q.name, q.qtype, "@"+addr, "--no-rd", "--short")
		if code != 0 {
			t.Errorf("%s %s --short: exit %d %s", q.name, q.qtype, code, errs)
		}
		gotShort.WriteString(got)
		wantAns := answers[goldenQuery{goldenDigName(q.name), q.qtype}]
		sort.Strings(wantAns)
		if len(wantAns) == 0 {
			t.Errorf("dig: no answer to %s %s", q.name, q.qtype)
		}
		out, errs, code := runCLI(t, "resolve", q.name, q.qtype, "@"+addr, "--no-rd", "--json")
		var doc struct {
			Results []struct {
				Answer []map[string]any `json:"answer"`
			} `json:"results"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Results) != 1 {
			t.Errorf("%s %s --json: exit %d %s %s", q.name, q.qtype, code, errs, out)
			continue
		}
		var gotAns []string
		for _, r := range doc.Results[0].Answer {
			gotAns = append(gotAns, fmt.Sprintf("%v %v %v %v %v", r["name"], r["ttl"], r["class"], r["type"], r["data"]))
			if (q.qtype == "A" || q.qtype == "AAAA") && r["address"] != r["data"] {
				t.Errorf("%s %s: address %v but data %v", q.name, q.qtype, r["address"], r["data"])
			}
		}
		sort.Strings(gotAns)
		if strings.Join(gotAns, "\n") != strings.Join(wantAns, "\n") {
			t.Errorf("%s %s answer:\nnettool:\n%s\ndig:\n%s", q.name, q.qtype, strings.Join(gotAns, "\n"), strings.Join(wantAns, "\n"))
		}
	}
	if gotShort.String() != wantShort {
		gl, wl := strings.Split(gotShort.String(), "\n"), strings.Split(wantShort, "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Errorf("--short differs from dig +short at line %d:\nnettool: %q\ndig:     %q", i+1, strings.Join(gl[i:min(i+3, len(gl))], "\n"), strings.Join(wl[i:min(i+3, len(wl))], "\n"))
				break
			}
		}
	}
	// The names with escaped bytes over TCP too, and all of them in one
	// batch file that starts with a UTF-8 byte order mark.
	var lines, esc []string
	var gotTCP strings.Builder
	for _, q := range qs {
		lines = append(lines, q.name+" "+q.qtype)
		if !strings.Contains(q.name, `\`) {
			continue
		}
		esc = append(esc, q.name, q.qtype)
		got, errs, code := runCLI(t, "resolve", q.name, q.qtype, "@tcp://"+addr, "--no-rd", "--short")
		if code != 0 {
			t.Errorf("tcp %s %s: exit %d %s", q.name, q.qtype, code, errs)
		}
		gotTCP.WriteString(got)
	}
	if want := goldenPeer(t, dig, append(digArgs(goldenQuery{}, "+short", "+tcp"), esc...)...); gotTCP.String() != want || len(esc) < 20 {
		t.Errorf("names with escapes over TCP:\nnettool: %q\ndig:     %q", gotTCP.String(), want)
	}
	file := filepath.Join(t.TempDir(), "names.txt")
	if err := os.WriteFile(file, []byte("\xef\xbb\xbf"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, server := range []string{addr, "tcp://" + addr} {
		_, errs, code := runCLI(t, "resolve", "-f", file, "@"+server, "--no-rd", "-o", "jsonl")
		want := fmt.Sprintf("sent %d, answered %d, noerror %d,", len(qs), len(qs), len(qs))
		if code != 0 || !strings.Contains(errs, want) {
			t.Errorf("batch %s: exit %d %s (want %q)", server, code, errs, want)
		}
	}
}

// TestResolveIDNLikeKdig: a raw UTF-8 name is asked in its IDNA form, as
// kdig asks it (dig would send the bytes and get NXDOMAIN).
func TestResolveIDNLikeKdig(t *testing.T) {
	kdig := probetest.LookPeer(t, "kdig")
	zb, err := os.ReadFile(filepath.Join("testdata", "resolve", "golden.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	addr := resolveStartNSDZone(t, goldenOrigin, string(zb))
	host, port, _ := net.SplitHostPort(addr)
	for _, name := range []string{"bücher.golden.test", "BÜCHER.golden.test."} {
		cmd := exec.Command(kdig, "@"+host, "-p", port, "+norec", "+time=5", "+short", name, "A")
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		want, err := cmd.Output()
		if err != nil || len(want) == 0 {
			t.Fatalf("kdig %s: %v %q", name, err, want)
		}
		got, errs, code := runCLI(t, "resolve", name, "A", "@"+addr, "--short")
		if code != 0 || got != string(want) {
			t.Errorf("%s: exit %d %s\nnettool: %q\nkdig:    %q", name, code, errs, got, want)
		}
		out, _, _ := runCLI(t, "resolve", name, "A", "@"+addr, "--json")
		if !strings.Contains(out, `"name": "xn--bcher-kva.golden.test."`) || !strings.Contains(out, `"input_name": "`+name+`"`) {
			t.Errorf("%s: JSON question %s", name, out)
		}
	}
	// Bytes that are not UTF-8: a usage error, nothing sent.
	_, errs, code := runCLI(t, "resolve", "b\xfccher.golden.test", "@"+addr)
	if code != 2 || !strings.Contains(errs, "not valid UTF-8") {
		t.Errorf("latin-1 name: exit %d %q", code, errs)
	}
}

// TestResolveReverseMappedLikeDig: -x of an IPv4-mapped IPv6 address asks
// the ip6.arpa name dig asks.
func TestResolveReverseMappedLikeDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	addr := resolveStartServer(t, resolveZone)
	host, port, _ := net.SplitHostPort(addr)
	for _, a := range []string{"::ffff:192.0.2.4", "192.0.2.4", "2001:db8::1"} {
		out := goldenPeer(t, dig, "@"+host, "-p", port, "+time=5", "+tries=2", "+noall", "+question", "-x", a)
		want := strings.Fields(strings.TrimPrefix(strings.TrimSpace(out), ";"))[0]
		got, _, _ := runCLI(t, "resolve", "-x", a, "@"+addr, "--json")
		if !strings.Contains(got, `"name": "`+want+`"`) {
			t.Errorf("-x %s: dig asks %s, nettool: %s", a, want, got)
		}
	}
}

// TestResolveGoldenSignedZoneVsDig: a zone signed by dnssec-signzone with
// NSEC3, served by nsd: DNSKEY, RRSIG, DS, NSEC3 (hashed owner names) and
// NSEC3PARAM records, in the answer and in the negative proofs of the
// authority section, are written as dig writes them.
func TestResolveGoldenSignedZoneVsDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	keygen := probetest.LookPeer(t, "dnssec-keygen")
	signzone := probetest.LookPeer(t, "dnssec-signzone")
	dir := t.TempDir()
	zone := "$ORIGIN signed.test.\n$TTL 300\n@ IN SOA ns1 host 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 192.0.2.1\n" +
		"a\\032b IN A 192.0.2.32\nsub IN NS ns.sub\nns.sub IN A 192.0.2.53\nsub IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE3F3FAE2D8E3A1E0D3C2B1A09\n"
	if err := os.WriteFile(filepath.Join(dir, "in.zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(tool string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v %s", tool, args, err, out)
		}
	}
	run(keygen, "-q", "-a", "ECDSAP256SHA256", "-K", dir, "signed.test")
	run(keygen, "-q", "-f", "KSK", "-a", "ECDSAP256SHA256", "-K", dir, "signed.test")
	run(signzone, "-q", "-S", "-3", "aabbccdd", "-H", "0", "-K", dir, "-o", "signed.test", "-e", "+2592000", "-f", filepath.Join(dir, "signed.zone"), filepath.Join(dir, "in.zone"))
	signed, err := os.ReadFile(filepath.Join(dir, "signed.zone"))
	if err != nil {
		t.Fatal(err)
	}
	addr := resolveStartNSDZone(t, "signed.test", string(signed))
	host, port, _ := net.SplitHostPort(addr)
	for _, q := range []goldenQuery{{"signed.test", "DNSKEY"}, {"signed.test", "NSEC3PARAM"}, {"www.signed.test", "A"}, {`a\032b.signed.test`, "A"},
		{"sub.signed.test", "DS"}, {"nope.signed.test", "A"}, {"www.signed.test", "TXT"}} {
		want := digAnswer(t, goldenPeer(t, dig, "@"+host, "-p", port, "+norec", "+dnssec", "+time=5", "+tries=2", "+noall", "+answer", "+authority", q.name, q.qtype))
		out, errs, _ := runCLI(t, "resolve", q.name, q.qtype, "@"+addr, "--no-rd", "--dnssec", "--json")
		var doc struct {
			Results []struct {
				Answer    []map[string]any `json:"answer"`
				Authority []map[string]any `json:"authority"`
			} `json:"results"`
		}
		if json.Unmarshal([]byte(out), &doc) != nil || len(doc.Results) != 1 {
			t.Fatalf("%s %s: %s %s", q.name, q.qtype, out, errs)
		}
		var got []string
		types := map[string]bool{}
		for _, r := range append(doc.Results[0].Answer, doc.Results[0].Authority...) {
			got = append(got, fmt.Sprintf("%v %v %v %v %v", r["name"], r["ttl"], r["class"], r["type"], r["data"]))
			types[fmt.Sprint(r["type"])] = true
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") || !types["RRSIG"] {
			t.Errorf("%s %s +dnssec:\nnettool:\n%s\ndig:\n%s", q.name, q.qtype, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if q.name == "nope.signed.test" && !types["NSEC3"] {
			t.Errorf("no NSEC3 proof in %s", out)
		}
	}
}

// TestResolveQuestionNameLikeDig: a name typed with escapes is asked and
// shown in the form dig shows it in its question section.
func TestResolveQuestionNameLikeDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	addr := resolveStartServer(t, resolveZone)
	host, port, _ := net.SplitHostPort(addr)
	for _, n := range []string{`a\ b.example.test`, `a\032b.example.test`, `\126x.example.test`, `\$x.example.test`, `semi\;c.example.test`, `a\,b.example.test`, `\200\001.example.test`} {
		out := goldenPeer(t, dig, "@"+host, "-p", port, "+time=5", "+tries=2", "+noall", "+question", n, "A")
		want := strings.Fields(strings.TrimPrefix(strings.TrimSpace(out), ";"))[0]
		got, _, _ := runCLI(t, "resolve", n, "A", "@"+addr, "--json")
		if !strings.Contains(got, `"name": "`+strings.ReplaceAll(want, `\`, `\\`)+`"`) {
			t.Errorf("%s: dig asks %s, nettool: %s", n, want, got)
		}
	}
}
