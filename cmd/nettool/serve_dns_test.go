package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

var serveDNSListenRe = regexp.MustCompile(`^listening on (127\.0\.0\.1:(\d+)) \(udp, tcp\)$`)

// serveDNSLines reads r line by line into a channel, closed at EOF.
func serveDNSLines(r io.Reader) <-chan string {
	ch := make(chan string, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// serveDNSNextLine waits (generously) for the next line.
func serveDNSNextLine(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the stream ended", what)
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: nothing within 60s", what)
	}
	return ""
}

// serveDNSRest collects what is left of a stream once the process ended.
func serveDNSRest(ch <-chan string) []string {
	var out []string
	for l := range ch {
		out = append(out, l)
	}
	return out
}

// serveDNSStart runs the real binary as `nettool serve dns 127.0.0.1:0 ARGS`
// and returns it with its stdout and stderr lines and the bound address.
func serveDNSStart(t *testing.T, args ...string) (*exec.Cmd, <-chan string, <-chan string, string, string) {
	t.Helper()
	cmd := exec.Command(nettoolBinary(t), append([]string{"serve", "dns", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	outLines, errLines := serveDNSLines(stdout), serveDNSLines(stderr)
	first := serveDNSNextLine(t, errLines, "startup line on stderr")
	m := serveDNSListenRe.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first stderr line %q, want %q", first, "listening on 127.0.0.1:PORT (udp, tcp)")
	}
	return cmd, outLines, errLines, m[1], m[2]
}

// serveDNSInterrupt sends Ctrl-C and returns the exit code.
func serveDNSInterrupt(t *testing.T, cmd *exec.Cmd, outLines, errLines <-chan string) (int, []string, []string) {
	t.Helper()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Drain the pipes before Wait, as os/exec asks.
	done := make(chan struct{})
	var out, errs []string
	go func() {
		out, errs = serveDNSRest(outLines), serveDNSRest(errLines)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not stop within 60s of SIGINT")
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out, errs
}

// serveDNSPortFree checks that nothing holds addr any more (UDP and TCP).
func serveDNSPortFree(t *testing.T, addr string) {
	t.Helper()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Errorf("UDP %s still taken after the server exited: %v", addr, err)
	} else {
		u.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("TCP %s still taken after the server exited: %v", addr, err)
	} else {
		l.Close()
	}
}

func TestServeDNSBinaryWithDig(t *testing.T) {
	dig := probetest.LookPeer(t, "dig")
	cmd, outLines, errLines, addr, port := serveDNSStart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := exec.CommandContext(ctx, dig, "@127.0.0.1", "-p", port, "+timeout=10", "+short", "www.example.test").Output()
	if err != nil || string(got) != "host.example.test.\n127.0.0.1\n" {
		t.Errorf("dig +short www.example.test: %q %v", got, err)
	}
	code, out, errs := serveDNSInterrupt(t, cmd, outLines, errLines)
	if code != 0 {
		t.Errorf("exit %d after SIGINT, want 0 (a clean shutdown)", code)
	}
	if len(out) != 0 {
		t.Errorf("text mode wrote to stdout: %q", out)
	}
	stderr := strings.Join(errs, "\n")
	logRe := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3} 127\.0\.0\.1:\d+ udp www\.example\.test\. A -> NOERROR 2 answers \d+ bytes edns=1232$`)
	if !logRe.MatchString(stderr) {
		t.Errorf("no query log line for dig's query in:\n%s", stderr)
	}
	if !strings.Contains(stderr, "stopped: 1 query (udp 1, tcp 0), NOERROR 1") {
		t.Errorf("no summary in:\n%s", stderr)
	}
	serveDNSPortFree(t, addr)
}

func TestServeDNSBinaryJSONL(t *testing.T) {
	cmd, outLines, errLines, addr, port := serveDNSStart(t, "-o", "jsonl", "--nsid", "json-test")
	var listen serveDNSListen
	line := serveDNSNextLine(t, outLines, "dns_listen object")
	if err := json.Unmarshal([]byte(line), &listen); err != nil || listen.Type != "dns_listen" || listen.Address != addr ||
		strconv.Itoa(listen.Port) != port || listen.NSID != "json-test" || listen.UDPSize != 1232 || len(listen.Zones) != 3 {
		t.Fatalf("first jsonl line %q (%v)", line, err)
	}
	c := &dns.Client{Net: "tcp", Timeout: 30 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("Nope.Example.Test.", dns.TypeTXT)
	r, _, err := c.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeNameError {
		t.Fatalf("query: %v %v", r, err)
	}
	var q serveDNSQuery
	line = serveDNSNextLine(t, outLines, "dns_query object")
	if err := json.Unmarshal([]byte(line), &q); err != nil || q.Type != "dns_query" || q.Name != "Nope.Example.Test." ||
		q.QType != "TXT" || q.QClass != "IN" || q.Rcode != "NXDOMAIN" || q.Transport != "tcp" || q.ID != m.Id || q.Size == 0 || q.Time.IsZero() {
		t.Fatalf("query line %q (%v)", line, err)
	}
	for _, key := range []string{`"client":"127.0.0.1:`, `"duration_ms":`, `"truncated":false`, `"edns":false`} {
		if !strings.Contains(line, key) {
			t.Errorf("query line lacks %s: %s", key, line)
		}
	}
	code, out, errs := serveDNSInterrupt(t, cmd, outLines, errLines)
	if code != 0 || len(out) != 1 {
		t.Fatalf("exit %d, remaining stdout %q", code, out)
	}
	var sum serveDNSSummary
	if err := json.Unmarshal([]byte(out[0]), &sum); err != nil || sum.Type != "dns_serve" || sum.Queries != 1 || sum.TCP != 1 || sum.Rcodes["NXDOMAIN"] != 1 || sum.Address != addr {
		t.Fatalf("summary %q (%v)", out[0], err)
	}
	if strings.Contains(strings.Join(errs, "\n"), "Nope.Example.Test") {
		t.Errorf("with -o jsonl the query log belongs on stdout, not stderr: %q", errs)
	}
	serveDNSPortFree(t, addr)
}

// serveDNSRunInProcess runs `nettool ARGS` in-process until it prints its
// listening line, and returns the address, a stop function (Ctrl-C) that
// returns the exit code, stdout and stderr.
func serveDNSRunInProcess(t *testing.T, args ...string) (string, func() (int, string, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stdout strings.Builder
	code := make(chan int, 1)
	go func() {
		c := run(ctx, append([]string{"nettool"}, args...), strings.NewReader(""), &stdout, pw)
		pw.Close()
		code <- c
	}()
	lines := serveDNSLines(pr)
	var head []string
	var addr string
	for addr == "" {
		l, ok := <-lines
		if !ok {
			cancel()
			t.Fatalf("nettool %q ended before listening (exit %d): %q", args, <-code, head)
		}
		head = append(head, l)
		if m := serveDNSListenRe.FindStringSubmatch(l); m != nil {
			addr = m[1]
		}
	}
	t.Cleanup(cancel)
	return addr, func() (int, string, string) {
		cancel()
		rest := serveDNSRest(lines)
		c := <-code
		return c, stdout.String(), strings.Join(append(head, rest...), "\n")
	}
}

func TestServeDNSZoneFlagAfterAddress(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "corp.zone")
	zone := "$TTL 30\n@ IN SOA ns h 1 2 3 4 5\n  IN NS ns\nns IN A 127.0.0.1\napp IN A 127.0.0.5\n"
	if err := os.WriteFile(file, []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	// Flags after the address, the zone named from outside, -q.
	addr, stop := serveDNSRunInProcess(t, "serve", "dns", "127.0.0.1:0", "--zone", "corp.test="+file, "-q")
	c := &dns.Client{Timeout: 30 * time.Second}
	for name, want := range map[string]int{"app.corp.test.": dns.RcodeSuccess, "www.example.test.": dns.RcodeRefused} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(m, addr)
		if err != nil || r.Rcode != want {
			t.Fatalf("%s: %v %v", name, r, err)
		}
		if want == dns.RcodeSuccess && (len(r.Answer) != 1 || r.Answer[0].String() != "app.corp.test.\t30\tIN\tA\t127.0.0.5") {
			t.Errorf("answer %v", r.Answer)
		}
	}
	code, out, errs := stop()
	if code != 0 || out != "" {
		t.Errorf("exit %d stdout %q", code, out)
	}
	// -q: the listening line only, no query log, no summary.
	if strings.TrimSpace(errs) != "listening on "+addr+" (udp, tcp)" {
		t.Errorf("stderr with -q: %q", errs)
	}
}

func TestServeDNSJSONDocument(t *testing.T) {
	addr, stop := serveDNSRunInProcess(t, "serve", "dns", "--json", "127.0.0.1:0")
	c := &dns.Client{Timeout: 30 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("host.example.test.", dns.TypeAAAA)
	if _, _, err := c.Exchange(m, addr); err != nil {
		t.Fatal(err)
	}
	code, out, errs := stop()
	var sum serveDNSSummary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Type != "dns_serve" || sum.Queries != 1 || sum.UDP != 1 {
		t.Fatalf("exit %d, --json document %q", code, out)
	}
	// With --json the query log stays on stderr as text.
	if !strings.Contains(errs, " udp host.example.test. AAAA -> NOERROR 1 answer ") {
		t.Errorf("stderr %q", errs)
	}
}

func TestServeDNSUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.zone")
	if err := os.WriteFile(bad, []byte("$ORIGIN b.test.\n@ SOA ns h 1 2 3 4 5\nwww A 999.1.1.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noSOA := filepath.Join(dir, "nosoa.zone")
	if err := os.WriteFile(noSOA, []byte("$ORIGIN b.test.\nwww A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--zone", bad}, "nettool: serve dns: " + bad + ":3:"},
		{[]string{"--zone", noSOA}, "nettool: serve dns: " + noSOA + ": no SOA record"},
		{[]string{"--zone", filepath.Join(dir, "missing.zone")}, "nettool: serve dns: zone file: open "},
		{[]string{"--zone", "bad..origin=" + noSOA}, "nettool: serve dns: "},
		{[]string{"nohost:53"}, `nettool: serve dns: bad listen address "nohost:53"`},
		{[]string{"127.0.0.1:70000"}, `nettool: serve dns: bad listen address "127.0.0.1:70000"`},
		{[]string{"127.0.0.1:1", "127.0.0.1:2"}, "nettool: serve dns: one address at most"},
		{[]string{"--udp-size", "100"}, "nettool: serve dns: --udp-size 100"},
		{[]string{"--nope"}, "nettool: serve dns: flag provided but not defined"},
	}
	for _, c := range cases {
		out, errs, code := runCLI(t, append([]string{"serve", "dns"}, c.args...)...)
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if code != exitUsage || out != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
			t.Errorf("%q: exit %d stdout %q stderr %q, want exit 2 and one line starting %q", c.args, code, out, errs, c.want)
		}
	}
}

func TestServeDNSAddressInUse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	addr := pc.LocalAddr().String()
	out, errs, code := runCLI(t, "serve", "dns", addr)
	if code != exitLocal || out != "" || !strings.HasPrefix(errs, "nettool: serve dns: cannot listen on "+addr+": ") || !strings.Contains(errs, "address already in use") {
		t.Fatalf("exit %d stdout %q stderr %q, want exit 3", code, out, errs)
	}
}

func TestServeDNSShowZone(t *testing.T) {
	out, errs, code := runCLI(t, "serve", "dns", "--show-zone")
	if code != 0 || out != serve.DNSExampleZoneText() || errs != "" {
		t.Fatalf("--show-zone: exit %d stderr %q", code, errs)
	}
	file := filepath.Join(t.TempDir(), "z")
	forward, _, _ := strings.Cut(out, "\n; Reverse zone")
	if err := os.WriteFile(file, []byte(forward), 0o644); err != nil {
		t.Fatal(err)
	}
	// The forward zone printed by --show-zone loads back, and --show-zone
	// with --zone prints it parsed.
	out, errs, code = runCLI(t, "serve", "dns", "--zone", file, "--show-zone")
	if code != 0 || !strings.HasPrefix(out, "; zone example.test. from "+file+": ") || !strings.Contains(out, "www.example.test.\t300\tIN\tCNAME\thost.example.test.") {
		t.Fatalf("--zone --show-zone: exit %d out %q err %q", code, out, errs)
	}
}

func TestServeDNSLogLineEscapes(t *testing.T) {
	line := serveDNSLogLine(serve.DNSQuery{Name: "a\x1b[31m.test.", Type: "A", Class: "IN", Rcode: "REFUSED", Transport: "udp"})
	if strings.ContainsAny(line, "\x1b\n") || !strings.Contains(line, `a\x1b[31m.test. A -> REFUSED 0 answers`) {
		t.Fatalf("log line %q", line)
	}
}
