package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestResolveGoldenText(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	out, errs, code := runCLI(t, "resolve", "www.example.test", "@"+addr, "--no-color")
	if code != 0 || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	resolveGolden(t, "www.txt", resolveMask(out, addr))

	out, errs, code = runCLI(t, "resolve", "nope.example.test", "MX", "@"+addr)
	if code != 1 || errs != "" {
		t.Fatalf("nxdomain: code %d stderr %q", code, errs)
	}
	resolveGolden(t, "nxdomain.txt", resolveMask(out, addr))
}

// Flags after the arguments are honoured: --json at the end.
func TestResolveGoldenJSONFlagsAfterArgs(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	out, errs, code := runCLI(t, "resolve", "example.test", "--json", "@"+addr, "MX", "-t", "TXT")
	if code != 0 || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	var doc struct {
		Type    string `json:"type"`
		OK      bool   `json:"ok"`
		Results []struct {
			Question struct{ Name, Type string }
			Answer   []map[string]any `json:"answer"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc.Type != "resolve" || !doc.OK || len(doc.Results) != 2 || doc.Results[0].Question.Type != "TXT" || doc.Results[1].Question.Type != "MX" {
		t.Fatalf("%+v", doc)
	}
	if mx := doc.Results[1].Answer[0]; mx["preference"] != 10.0 || mx["exchange"] != "mail.example.test." || mx["data"] != "10 mail.example.test." {
		t.Fatalf("mx %v", mx)
	}
	resolveGolden(t, "mx_txt.json", resolveMask(out, addr))
}

func TestResolveShortAndJSONL(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	out, errs, code := runCLI(t, "resolve", "+short", "www.example.test", "@"+addr)
	if code != 0 || errs != "" || out != "web.example.test.\n192.0.2.10\nweb.example.test.\n2001:db8::10\n" {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	out, errs, code = runCLI(t, "resolve", "v4.example.test", "nope.example.test", "--short", "-s", addr)
	if code != 1 || out != "192.0.2.4\n" || !strings.Contains(errs, "nope.example.test. A @"+addr+": NXDOMAIN") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	out, _, code = runCLI(t, "resolve", "v4.example.test", "-o", "jsonl", "@"+addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], `"type":"A"`) || !strings.Contains(lines[1], `"failure":"dns_nodata"`) || !strings.Contains(lines[2], `"type":"resolve_summary"`) {
		t.Fatalf("jsonl: code %d\n%s", code, out)
	}
}

// Exit codes: the default A+AAAA passes when either has data; an explicit
// type must have data.
func TestResolveExitCodes(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"v4.example.test"}, 0, "NOERROR (NODATA)"},
		{[]string{"v4.example.test", "AAAA"}, 1, "NOERROR (NODATA)"},
		{[]string{"nope.example.test", "A"}, 1, "NXDOMAIN"},
		{[]string{"servfail.example.test", "A"}, 1, "SERVFAIL"},
		{[]string{"-x", "192.0.2.4"}, 0, "v4.example.test."},
		{[]string{"ns1", "A"}, 1, "ns1. A @"}, // a name, not the type NS (dog #38)
		{[]string{"--name", "mx", "A"}, 1, "mx. A @"},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, append(append([]string{"resolve"}, c.args...), "@"+addr)...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%q: code %d (want %d) out %q err %q", c.args, code, c.code, out, errs)
		}
	}
}

func TestResolveUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"a..b", "@127.0.0.1"}, 2, `nettool: resolve: bad name "a..b": empty label`},
		{[]string{strings.Repeat("a", 64) + ".test", "@127.0.0.1"}, 2, "label longer than 63 bytes"},
		{[]string{strings.Repeat(strings.Repeat("a", 50)+".", 5) + "test", "@127.0.0.1"}, 2, "longer than 253 bytes"},
		{[]string{"example.test", "-t", "BOGUS", "@127.0.0.1"}, 2, `unknown type "BOGUS"`},
		{[]string{"example.test", "@300.1.1.1:99999"}, 2, `bad server "@300.1.1.1:99999"`},
		{[]string{"example.test", "@quic://127.0.0.1"}, 2, `unknown scheme "quic"`},
		{[]string{"example.test", "-s", "[::1"}, 2, `bad server "[::1"`},
		{[]string{"example.test", "+bogus", "@127.0.0.1"}, 2, "unknown option +bogus"},
		{[]string{"-x", "not-an-ip", "@127.0.0.1"}, 2, "bad address for -x"},
		{[]string{"-f", "/nonexistent/names.txt", "@127.0.0.1"}, 2, "cannot read /nonexistent/names.txt: no such file or directory"},
		{[]string{"-f", "-", "www.example.test", "@127.0.0.1"}, 2, "not both"},
		{[]string{"@127.0.0.1"}, 2, "no name to look up"},
		{[]string{"example.test", "--subnet", "x/y", "@127.0.0.1"}, 2, "bad subnet"},
		{[]string{"example.test", "--resolv-conf", "/nonexistent/resolv.conf"}, 3, "no DNS server to ask: cannot read /nonexistent/resolv.conf"},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, append([]string{"resolve"}, c.args...)...)
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if code != c.code || out != "" || len(lines) != 1 || !strings.Contains(lines[0], c.want) || !strings.HasPrefix(lines[0], "nettool: resolve: ") {
			t.Errorf("%q: code %d (want %d) out %q err %q (want %q)", c.args, code, c.code, out, errs, c.want)
		}
	}
	// A resolv.conf with no usable server: exit 3, no public fallback.
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("search example.test\nnameserver not-an-address\n"), 0o644)
	_, errs, code := runCLI(t, "resolve", "www", "--resolv-conf", p)
	if code != 3 || !strings.Contains(errs, "names no usable nameserver") {
		t.Fatalf("empty resolv.conf: code %d err %q", code, errs)
	}
}

// Without @SERVER the servers, search list and ndots come from the
// resolv.conf named by --resolv-conf (here: one this test wrote).
func TestResolveResolvConfSearch(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	conf := resolveConf(t, addr, "search nope.test example.test\noptions ndots:1\n")
	out, errs, code := runCLI(t, "resolve", "www", "A", "--resolv-conf", conf, "--no-color")
	if code != 0 || !strings.Contains(out, ";; www.example.test. A (searched from www) @"+addr) || !strings.Contains(out, "192.0.2.10") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	// --no-search asks for the name as typed.
	out, _, code = runCLI(t, "resolve", "www", "A", "--resolv-conf", conf, "--no-search")
	if code != 1 || !strings.Contains(out, ";; www. A @") || !strings.Contains(out, "NXDOMAIN") {
		t.Fatalf("no-search: code %d out %q", code, out)
	}
}

// The real binary, with the resolv.conf path from the environment.
func TestResolveBinaryEnvResolvConf(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	conf := resolveConf(t, addr, "search example.test\n")
	out, errs, code := runBinary(t, []string{"NETTOOL_RESOLV_CONF=" + conf}, "resolve", "v4", "--json")
	var doc resolveDoc
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Results) != 2 || doc.Results[0].Question.Name != "v4.example.test." || doc.Results[0].InputName != "v4" {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	out, errs, code = runBinary(t, nil, "resolve", "www.example.test", "AAAA", "@"+addr, "+short")
	if code != 0 || out != "web.example.test.\n2001:db8::10\n" || errs != "" {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	_, errs, code = runBinary(t, nil, "resolve", "bad..name", "@"+addr)
	if code != 2 || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "goroutine") {
		t.Fatalf("code %d err %q", code, errs)
	}
}

func TestResolveSeveralServersSideBySide(t *testing.T) {
	a := resolveStartServer(t, resolveZone)
	b := resolveStartServer(t, resolveZone)
	out, _, code := runCLI(t, "resolve", "v4.example.test", "A", "@"+a, "@tcp://"+b)
	i, j := strings.Index(out, "@"+a+" (udp) NOERROR"), strings.Index(out, "@tcp://"+b+" (tcp) NOERROR")
	if code != 0 || i < 0 || j < i {
		t.Fatalf("code %d out %q", code, out)
	}
	side := out[strings.Index(out, ";; SIDE BY SIDE"):]
	var rows []string
	for _, l := range strings.Split(side, "\n")[2:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	if len(rows) < 2 || rows[0] != "v4.example.test. A "+a+" NOERROR "+strings.Fields(rows[0])[4]+" 192.0.2.4" || !strings.HasPrefix(rows[1], "v4.example.test. A tcp://"+b+" NOERROR ") || !strings.HasSuffix(rows[1], " 192.0.2.4") {
		t.Fatalf("side by side: %q", side)
	}
}

func TestResolveTCPFallbackShown(t *testing.T) {
	addr := resolveStartServer(t, resolveTruncating)
	out, _, code := runCLI(t, "resolve", "big.example", "TXT", "@"+addr)
	if code != 0 || !strings.Contains(out, "(tcp, UDP answer truncated: retried over TCP) NOERROR") || strings.Count(out, "big.example.  TXT") != 60 {
		t.Fatalf("code %d out %q", code, out)
	}
	out, _, _ = runCLI(t, "resolve", "big.example", "TXT", "@"+addr, "--json")
	if !strings.Contains(out, `"tcp_fallback": true`) || !strings.Contains(out, `"transport": "tcp"`) {
		t.Fatalf("json %s", out)
	}
}

// Control bytes, newlines, bad UTF-8 and bidi overrides in TXT never reach
// the terminal raw.
func TestResolveHostileTXTEscaped(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	for _, mode := range [][]string{nil, {"--short"}, {"--json"}} {
		out, _, code := runCLI(t, append([]string{"resolve", "evil.example.test", "TXT", "@" + addr}, mode...)...)
		// Shown as dig shows it (zone-file \DDD escapes); in JSON the
		// backslashes are JSON-escaped once more.
		isJSON := len(mode) > 0 && mode[0] == "--json"
		want := `\027[2J\027[31mred`
		if isJSON {
			want = `\\027[2J\\027[31mred`
		}
		if code != 0 || strings.ContainsAny(out, "\x1b\r\u202e") || strings.Contains(out, "\xff") || !strings.Contains(out, want) || !isJSON && strings.Contains(out, `\\027`) {
			t.Fatalf("%v: code %d out %q", mode, code, out)
		}
		if mode == nil && strings.Count(out, "\n") != 3 {
			t.Fatalf("a newline from the wire split the table: %q", out)
		}
	}
}

func TestResolveSilentServerTimesOut(t *testing.T) {
	addr, _ := resolveSilent(t)
	out, errs, code := runCLI(t, "resolve", "x.example", "A", "@"+addr, "--timeout", "150ms", "--retries", "1", "--no-color")
	if code != 1 || !strings.Contains(out, "FAILED: no reply from "+addr+" in 2 tries of 150ms") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
}

func TestResolveDoHWithCACert(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		q := new(dns.Msg)
		if q.Unpack(body) != nil {
			http.Error(w, "bad", 400)
			return
		}
		rec := &resolveRecorder{}
		resolveZone(rec, q)
		b, _ := rec.m.Pack()
		w.Header().Set("Content-Type", "application/dns-message")
		w.Write(b)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	out, errs, code := runCLI(t, "resolve", "v4.example.test", "A", "@"+srv.URL+"/dns-query", "--cacert", ca)
	if code != 0 || !strings.Contains(out, "(https) NOERROR") || !strings.Contains(out, "192.0.2.4") {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	// Without the CA: the certificate is refused, exit 1.
	out, _, code = runCLI(t, "resolve", "v4.example.test", "A", "@"+srv.URL+"/dns-query")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "certificate") {
		t.Fatalf("code %d out %q", code, out)
	}
}

type resolveRecorder struct {
	dns.ResponseWriter
	m *dns.Msg
}

func (r *resolveRecorder) WriteMsg(m *dns.Msg) error { r.m = m; return nil }

func TestResolveBatchStdin(t *testing.T) {
	addr := resolveStartServer(t, resolveZone)
	in := "www.example.test\n# comment\n\nexample.test MX\nnope.example.test A\nbad..name\n"
	out, errs, code := resolveRunIn(context.Background(), in, "resolve", "-f", "-", "@"+addr, "-o", "jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 2 || len(lines) != 4 {
		t.Fatalf("code %d out %q err %q", code, out, errs)
	}
	if !strings.Contains(errs, "stdin:6: bad name \"bad..name\": empty label") || !strings.Contains(errs, ";; batch: sent 3, answered 3, noerror 2, nodata 0, nxdomain 1") {
		t.Fatalf("stderr %q", errs)
	}
	var sum map[string]any
	if json.Unmarshal([]byte(lines[3]), &sum) != nil || sum["type"] != "dns_batch_summary" || sum["sent"] != 3.0 {
		t.Fatalf("summary %q", lines[3])
	}
	// Text lines, all good: exit 0.
	f := filepath.Join(t.TempDir(), "names")
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "www.example.test %s\n", []string{"A", "AAAA", "TYPE1"}[i%3])
	}
	os.WriteFile(f, []byte(b.String()), 0o644)
	out, errs, code = runCLI(t, "resolve", "-f", f, "@"+addr, "--concurrency", "20")
	if code != 0 || strings.Count(out, "\n") != 300 || strings.Count(out, "www.example.test. A NOERROR") != 200 || !strings.Contains(errs, "noerror 300") {
		t.Fatalf("code %d err %q out %.300q", code, errs, out)
	}
}

// Ctrl-C during a batch: the summary of what was measured, exit 130.
func TestResolveBatchInterrupted(t *testing.T) {
	addr, seen := resolveSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-seen; cancel() }()
	in := strings.Repeat("x.example\n", 5000)
	_, errs, code := resolveRunIn(ctx, in, "resolve", "-f", "-", "@"+addr, "--timeout", "1h")
	if code != 130 || !strings.Contains(errs, ";; batch: sent") || !strings.Contains(errs, "(interrupted)") {
		t.Fatalf("code %d err %q", code, errs)
	}
}

func TestResolveInterrupted(t *testing.T) {
	addr, seen := resolveSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-seen; cancel() }()
	out, _, code := resolveRunIn(ctx, "", "resolve", "x.example", "A", "@"+addr, "--timeout", "1h")
	if code != 130 || !strings.Contains(out, "FAILED") {
		t.Fatalf("code %d out %q", code, out)
	}
}
