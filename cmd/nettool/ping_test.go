package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/ping"
	"github.com/nettool/nettool/probe/probetest"
)

var pingUpdateGolden = flag.Bool("ping.update", false, "rewrite the ping golden files")

// pingNeedICMP skips (or fails under NETTOOL_REQUIRE_PEERS=1) when this
// process cannot open any ICMP socket.
func pingNeedICMP(t *testing.T) {
	t.Helper()
	if _, err := ping.Run(context.Background(), []ping.Target{{Name: "127.0.0.1", Addr: pingAddr("127.0.0.1")}},
		ping.Options{Count: 1, Interval: time.Second, Wait: 10 * time.Second}); err != nil {
		probetest.RequireRoot(t, "ICMP sockets")
		probetest.Unavailable(t, "no ICMP socket: "+err.Error())
	}
}

var pingReplyRE = regexp.MustCompile(`^64 bytes from (\S+( \(\S+\))?): icmp_seq=(\d+) ttl=\d+ time=\d+\.\d{3} ms$`)

func TestPingLoopbackText(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts...)
	pingNeedICMP(t)
	out, errOut, code := runCLI(t, "ping", "127.0.0.1", "-c", "3", "-i", "0.05")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("want 8 lines, got:\n%s", out)
	}
	if lines[0] != "PING 127.0.0.1 56(84) bytes of data." {
		t.Errorf("header %q", lines[0])
	}
	for i := 1; i <= 3; i++ {
		m := pingReplyRE.FindStringSubmatch(lines[i])
		if m == nil || m[1] != "127.0.0.1" || m[3] != fmt.Sprint(i) {
			t.Errorf("reply line %q", lines[i])
		}
	}
	if lines[4] != "" || lines[5] != "--- 127.0.0.1 ping statistics ---" ||
		!regexp.MustCompile(`^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$`).MatchString(lines[6]) ||
		!regexp.MustCompile(`^rtt min/avg/max/mdev = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms$`).MatchString(lines[7]) {
		t.Errorf("summary:\n%s", out)
	}
}

func TestPingQuietPrintsSummaryOnly(t *testing.T) {
	pingNeedICMP(t)
	out, errOut, code := runCLI(t, "ping", "-q", "-c", "2", "-i", "0.02", "127.0.0.1")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := regexp.MustCompile(`^\n--- 127\.0\.0\.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time \d+ms\nrtt min/avg/max/mdev = [0-9./]+ ms\n$`)
	if !want.MatchString(out) {
		t.Errorf("quiet output:\n%q", out)
	}
}

// Several 127.x hosts and a name at once: every reply goes to its host, one
// summary row each.
func TestPingMultiHostLoopback(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts...)
	pingNeedICMP(t)
	hosts := []string{"127.0.0.1", "127.0.0.2", "127.0.1.7", "127.1.2.3", "localhost"}
	out, errOut, code := runCLI(t, append([]string{"ping", "-c", "3", "-i", "0.02", "-4", "-o", "jsonl"}, hosts...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	replies := map[string][]int{}
	var summaries []map[string]any
	var final map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		switch m["type"] {
		case "ping_reply":
			if m["from"] != m["addr"] || m["dup"] != false {
				t.Errorf("reply %v", m)
			}
			replies[m["target"].(string)] = append(replies[m["target"].(string)], int(m["seq"].(float64)))
		case "ping_host":
			summaries = append(summaries, m)
		case "ping":
			final = m
		default:
			t.Errorf("unexpected line %s", line)
		}
	}
	for _, h := range hosts {
		seqs := replies[h]
		sort.Ints(seqs)
		if fmt.Sprint(seqs) != "[1 2 3]" {
			t.Errorf("%s: replies %v", h, seqs)
		}
	}
	if len(summaries) != len(hosts) {
		t.Fatalf("%d summaries", len(summaries))
	}
	ids := map[float64]bool{}
	for i, s := range summaries {
		if s["target"] != hosts[i] || s["received"] != 3.0 || s["ok"] != true || s["loss_percent"] != 0.0 {
			t.Errorf("summary %v", s)
		}
		if s["socket"] == "raw" {
			if ids[s["icmp_id"].(float64)] {
				t.Errorf("ICMP ID %v reused", s["icmp_id"])
			}
			ids[s["icmp_id"].(float64)] = true
		}
	}
	if summaries[4]["addr"] != "127.0.0.1" {
		t.Errorf("localhost resolved to %v", summaries[4]["addr"])
	}
	if final == nil || final["hosts_up"] != 5.0 || final["hosts_down"] != 0.0 || final["ok"] != true || final["hosts"] != nil {
		t.Errorf("final %v", final)
	}

	// The text view: one row per host.
	out, _, code = runCLI(t, "ping", "-c", "1", "127.0.0.1", "127.0.0.2", "localhost", "-4", "-q")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"HOST", "127.0.0.1 ", "127.0.0.2 ", "localhost (127.0.0.1)", "3 hosts, 3 up, 0 down, 3 packets transmitted, 3 received"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

func TestPingBadInput(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"ping"}, "no host given"},
		{[]string{"ping", "127.0.0.1:80"}, "not host:port"},
		{[]string{"ping", "a..b"}, "empty label"},
		{[]string{"ping", "-c", "-1", "127.0.0.1"}, "bad --count -1"},
		{[]string{"ping", "-i", "abc", "127.0.0.1"}, "--interval: bad time"},
		{[]string{"ping", "-i", "0", "127.0.0.1"}, "bad interval"},
		{[]string{"ping", "-W", "-1", "127.0.0.1"}, "--wait: bad time"},
		{[]string{"ping", "-s", "70000", "127.0.0.1"}, "bad packet size"},
		{[]string{"ping", "-s", "65508", "127.0.0.1"}, "too big"},
		{[]string{"ping", "-t", "0", "127.0.0.1"}, "bad TTL"},
		{[]string{"ping", "-t", "256", "127.0.0.1"}, "bad TTL"},
		{[]string{"ping", "-4", "-6", "localhost"}, "cannot be used together"},
		{[]string{"ping", "-6", "127.0.0.1"}, "but -6 was given"},
		{[]string{"ping", "--socket", "magic", "127.0.0.1"}, "bad socket kind"},
		{[]string{"ping", "\x1b[31mevil"}, `\x1b[31mevil`},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "nettool: ping: ") || !strings.Contains(errOut, c.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errOut, c.msg)
		}
		if strings.Contains(errOut, "\x1b") {
			t.Errorf("%q: raw escape on stderr", c.args)
		}
	}
}

// pingNormalize replaces what changes from run to run (times, RTTs, IDs) so
// the shape and the stable values can be compared with a golden file.
func pingNormalize(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = pingNormalize(val, k)
		}
		return x
	case []any:
		for i := range x {
			x[i] = pingNormalize(x[i], key)
		}
		return x
	case float64:
		switch {
		case key == "icmp_id":
			return "ID"
		case strings.HasSuffix(key, "_ms") && !strings.HasPrefix(key, "interval") && !strings.HasPrefix(key, "wait") && !strings.HasPrefix(key, "deadline"):
			return "MS"
		}
	case string:
		if key == "start" || key == "time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return "<bad time " + x + ">"
			}
			return "TIME"
		}
	}
	return v
}

func pingGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "ping", name)
	if *pingUpdateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPingJSONGolden -ping.update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestPingJSONGolden(t *testing.T) {
	probetest.RequireRoot(t, "raw ICMP socket (the golden file pins socket=raw)")
	pingNeedICMP(t)
	// json: one document.
	out, _, code := runCLI(t, "ping", "--json", "--socket", "raw", "-c", "2", "-i", "0.02", "127.0.0.1", "localhost", "-4")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(pingNormalize(doc, ""), "", "  ")
	pingGolden(t, "multi.json.golden", string(b)+"\n")

	// jsonl: events in order per host, then host summaries, then the run.
	out, _, code = runCLI(t, "ping", "-o", "jsonl", "--socket", "raw", "-c", "2", "-i", "0.02", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var norm []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		b, _ := json.Marshal(pingNormalize(m, ""))
		norm = append(norm, string(b))
	}
	pingGolden(t, "single.jsonl.golden", strings.Join(norm, "\n")+"\n")
}

// --- tests in network namespaces, with the real binary ---

// pingNetns creates a network namespace for one test: loopback up, and a
// veth link 10.77.0.1/24 whose neighbour 10.77.0.2 has a static MAC nobody
// owns, so probes to 10.77.0.2 leave and are never answered.
func pingNetns(t *testing.T) string {
	t.Helper()
	probetest.RequireRoot(t, "network namespaces")
	probetest.LookPeer(t, "ip")
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("ntping-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		probetest.Unavailable(t, "cannot create a network namespace: "+strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", name, err, out)
		}
	})
	for _, c := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", "vA", "type", "veth", "peer", "name", "vB"},
		{"ip", "addr", "add", "10.77.0.1/24", "dev", "vA"},
		{"ip", "link", "set", "vA", "up"},
		{"ip", "link", "set", "vB", "up"},
		{"ip", "neigh", "add", "10.77.0.2", "lladdr", "02:00:00:00:00:02", "dev", "vA", "nud", "permanent"},
		{"sysctl", "-q", "-w", "net.ipv4.ping_group_range=1 0"},
	} {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", name}, c...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", c, err, out)
		}
	}
	return name
}

func pingSysctlRange(t *testing.T, ns, value string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ping_group_range="+value).CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v %s", err, out)
	}
}

// pingBinaryFor returns a copy of the binary that uid 65534 can run.
func pingBinaryFor(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nettool-ping-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(nettoolBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nettool")
	if err := os.WriteFile(path, src, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// pingRunIn runs bin inside ns, as nobody when asNobody is set.
func pingRunIn(t *testing.T, ns, bin string, asNobody bool, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := []string{"netns", "exec", ns}
	if asNobody {
		argv = append(argv, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
	}
	argv = append(argv, bin)
	cmd := exec.CommandContext(ctx, "ip", append(argv, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %q: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func TestPingLostRepliesNetns(t *testing.T) {
	ns := pingNetns(t)
	bin := nettoolBinary(t)
	out, errOut, code := pingRunIn(t, ns, bin, false, "ping", "-c", "3", "-i", "0.1", "-W", "0.3", "10.77.0.2")
	want := regexp.MustCompile(`^PING 10\.77\.0\.2 56\(84\) bytes of data\.
no reply from 10\.77\.0\.2: icmp_seq=1 \(waited 300ms\)
no reply from 10\.77\.0\.2: icmp_seq=2 \(waited 300ms\)
no reply from 10\.77\.0\.2: icmp_seq=3 \(waited 300ms\)

--- 10\.77\.0\.2 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time \d+ms
$`)
	if code != 1 || errOut != "" || !want.MatchString(out) {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}

	// jsonl: one ping_lost per probe, a failed host summary.
	out, _, code = pingRunIn(t, ns, bin, false, "ping", "-c", "2", "-i", "0.1", "-W", "0.2", "-o", "jsonl", "10.77.0.2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 4 ||
		!strings.HasPrefix(lines[0], `{"type":"ping_lost","target":"10.77.0.2","addr":"10.77.0.2","seq":1,"waited_ms":200,`) ||
		!strings.HasPrefix(lines[1], `{"type":"ping_lost","target":"10.77.0.2","addr":"10.77.0.2","seq":2,"waited_ms":200,`) ||
		!strings.Contains(lines[2], `"ok":false,"failure":"no_reply"`) || !strings.Contains(lines[2], `"lost":2,`) ||
		!strings.Contains(lines[2], `"loss_percent":100,`) || !strings.Contains(lines[2], `"rtt_avg_ms":null`) ||
		!strings.Contains(lines[3], `"hosts_down":1`) {
		t.Errorf("exit %d, jsonl:\n%s", code, out)
	}
}

// The pro-bing engine reports lost probes too, and does not hang.
func TestPingProBingEngineLossNetns(t *testing.T) {
	ns := pingNetns(t)
	out, errOut, code := pingRunIn(t, ns, nettoolBinary(t), false, "ping", "--engine", "pro-bing", "-c", "2", "-i", "0.1", "-W", "2", "127.0.0.1", "10.77.0.2")
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, re := range []string{
		`(?m)^64 bytes from 127\.0\.0\.1: icmp_seq=1 `, `(?m)^64 bytes from 127\.0\.0\.1: icmp_seq=2 `,
		`(?m)^no reply from 10\.77\.0\.2: icmp_seq=1 \(waited 2s\)$`, `(?m)^no reply from 10\.77\.0\.2: icmp_seq=2 \(waited 2s\)$`,
		`(?m)^2 hosts, 1 up, 1 down, 4 packets transmitted, 2 received`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no %s in\n%s", re, out)
		}
	}
}

func TestPingMultiHostOneSilentNetns(t *testing.T) {
	ns := pingNetns(t)
	out, errOut, code := pingRunIn(t, ns, nettoolBinary(t), false, "ping", "-c", "2", "-i", "0.1", "-W", "2", "127.0.0.1", "10.77.0.2", "127.0.0.3")
	if code != 1 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, re := range []string{
		`(?m)^64 bytes from 127\.0\.0\.1: icmp_seq=1 `, `(?m)^64 bytes from 127\.0\.0\.1: icmp_seq=2 `,
		`(?m)^64 bytes from 127\.0\.0\.3: icmp_seq=2 `,
		`(?m)^no reply from 10\.77\.0\.2: icmp_seq=1 \(waited 2s\)$`, `(?m)^no reply from 10\.77\.0\.2: icmp_seq=2 \(waited 2s\)$`,
		`(?m)^127\.0\.0\.1\s+2\s+2\s+0%\s+\d`, `(?m)^10\.77\.0\.2\s+2\s+0\s+100%\s+-\s+-\s+-\s+-$`, `(?m)^127\.0\.0\.3\s+2\s+2\s+0%`,
		`(?m)^3 hosts, 2 up, 1 down, 6 packets transmitted, 4 received`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no %s in\n%s", re, out)
		}
	}
	if n := strings.Count(out, "no reply"); n != 2 {
		t.Errorf("%d loss lines", n)
	}
}

func TestPingDeadlineNetns(t *testing.T) {
	ns := pingNetns(t)
	out, _, code := pingRunIn(t, ns, nettoolBinary(t), false, "ping", "-c", "0", "-i", "0.1", "-W", "5", "-w", "0.5", "--json", "10.77.0.2")
	var doc struct {
		DeadlineReached bool `json:"deadline_reached"`
		Hosts           []struct {
			Transmitted int      `json:"transmitted"`
			Lost        int      `json:"lost"`
			InFlight    int      `json:"in_flight"`
			Loss        *float64 `json:"loss_percent"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	h := doc.Hosts[0]
	// The wait (5s) outlasts the deadline: the probes are in flight, not lost.
	if code != 1 || !doc.DeadlineReached || h.Transmitted < 1 || h.Lost != 0 || h.InFlight != h.Transmitted || h.Loss != nil {
		t.Errorf("exit %d, %+v", code, doc)
	}
}

// pingNetnsRouted makes a client namespace behind a router namespace: the
// client 10.78.0.1 routes everything through 10.78.0.254, which forwards to
// 10.79.0.0/24. A probe with TTL 1 dies at the router, which answers with
// ICMP Time Exceeded.
func pingNetnsRouted(t *testing.T) (client string) {
	t.Helper()
	client = pingNetns(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	router := fmt.Sprintf("ntpingr-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	if out, err := exec.Command("ip", "netns", "add", router).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", router).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", router, err, out)
		}
	})
	steps := [][]string{
		{"ip", "link", "add", "cA", "netns", client, "type", "veth", "peer", "name", "rA", "netns", router},
		{"ip", "netns", "exec", client, "ip", "addr", "add", "10.78.0.1/24", "dev", "cA"},
		{"ip", "netns", "exec", client, "ip", "link", "set", "cA", "up"},
		{"ip", "netns", "exec", client, "ip", "route", "add", "10.79.0.0/24", "via", "10.78.0.254"},
		{"ip", "netns", "exec", router, "ip", "link", "set", "lo", "up"},
		{"ip", "netns", "exec", router, "ip", "addr", "add", "10.78.0.254/24", "dev", "rA"},
		{"ip", "netns", "exec", router, "ip", "link", "set", "rA", "up"},
		{"ip", "netns", "exec", router, "ip", "link", "add", "rB", "type", "veth", "peer", "name", "rC"},
		{"ip", "netns", "exec", router, "ip", "addr", "add", "10.79.0.254/24", "dev", "rB"},
		{"ip", "netns", "exec", router, "ip", "link", "set", "rB", "up"},
		{"ip", "netns", "exec", router, "ip", "link", "set", "rC", "up"},
		{"ip", "netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
		{"ip", "netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"},
	}
	for _, c := range steps {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", c, err, out)
		}
	}
	// Readiness: until the router answers the client, the neighbour
	// entries are not in place and the first ICMP error can go missing.
	// Bounded: ten tries of one second at most.
	pingBin := probetest.LookPeer(t, "ping")
	for try := 0; ; try++ {
		err := exec.Command("ip", "netns", "exec", client, pingBin, "-n", "-c", "1", "-W", "1", "10.78.0.254").Run()
		if err == nil {
			break
		}
		if try == 9 {
			t.Fatalf("the router namespace never answered: %v", err)
		}
	}
	return client
}

// -t 1: the router's Time Exceeded is shown for each probe, on a raw socket
// (root) and on an unprivileged one (through its error queue).
func TestPingTTLExceededNetns(t *testing.T) {
	ns := pingNetnsRouted(t)
	probetest.LookPeer(t, "setpriv")
	bin := pingBinaryFor(t)
	want := []string{
		`(?m)^From 10\.78\.0\.254: icmp_seq=1 Time to live exceeded \(probe to 10\.79\.0\.2\)$`,
		`(?m)^From 10\.78\.0\.254: icmp_seq=2 Time to live exceeded \(probe to 10\.79\.0\.2\)$`,
		`(?m)^2 packets transmitted, 0 received, \+2 errors, 100% packet loss, time \d+ms$`,
	}
	check := func(name, out, errOut string, code int) {
		if code != 1 || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q\n%s", name, code, errOut, out)
		}
		for _, re := range want {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("%s: no %s in\n%s", name, re, out)
			}
		}
	}
	args := []string{"ping", "-t", "1", "-c", "2", "-i", "0.1", "-W", "1", "10.79.0.2"}
	out, errOut, code := pingRunIn(t, ns, bin, false, append(args, "--socket", "raw")...)
	check("raw", out, errOut, code)
	pingSysctlRange(t, ns, "0 2147483647")
	out, errOut, code = pingRunIn(t, ns, bin, true, append(args, "--socket", "dgram")...)
	check("dgram", out, errOut, code)
	// jsonl: ping_error events name who answered.
	out, _, _ = pingRunIn(t, ns, bin, true, "ping", "-t", "1", "-c", "1", "-W", "1", "-o", "jsonl", "10.79.0.2")
	if !strings.HasPrefix(out, `{"type":"ping_error","target":"10.79.0.2","addr":"10.79.0.2","seq":1,"from":"10.78.0.254","error":"Time to live exceeded",`) {
		t.Errorf("jsonl:\n%s", out)
	}
}

// The privilege ladder: unprivileged ICMP first, raw next, exit 3 with both
// fixes named when neither is allowed.
func TestPingPrivilegeFallbackNetns(t *testing.T) {
	ns := pingNetns(t)
	bin := pingBinaryFor(t)
	probetest.LookPeer(t, "setpriv")
	socketOf := func(out string) string {
		var doc struct {
			Sockets []struct {
				Kind   string `json:"kind"`
				ICMPID *int   `json:"icmp_id"`
			} `json:"sockets"`
			Received int `json:"received"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Sockets) != 1 || doc.Received != 1 {
			t.Errorf("bad output %q: %v", out, err)
			return ""
		}
		if (doc.Sockets[0].Kind == "dgram") != (doc.Sockets[0].ICMPID != nil) {
			t.Errorf("icmp_id %v for %s", doc.Sockets[0].ICMPID, doc.Sockets[0].Kind)
		}
		return doc.Sockets[0].Kind
	}
	args := []string{"ping", "-c", "1", "--json", "127.0.0.1"}

	// ping_group_range "1 0": nobody may use ICMP datagram sockets.
	pingSysctlRange(t, ns, "1 0")
	out, errOut, code := pingRunIn(t, ns, bin, false, args...)
	if code != 0 || socketOf(out) != "raw" {
		t.Errorf("root with the range closed: exit %d %q, want a raw socket", code, errOut)
	}
	out, errOut, code = pingRunIn(t, ns, bin, true, args...)
	if code != 3 || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "nettool: ping: cannot open an ICMP socket") ||
		!strings.Contains(errOut, "sysctl -w net.ipv4.ping_group_range=") || !strings.Contains(errOut, "setcap cap_net_raw+ep") {
		t.Errorf("nobody with the range closed: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Text mode too: nothing on stdout, the one line on stderr.
	out, errOut, code = pingRunIn(t, ns, bin, true, "ping", "127.0.0.1")
	if code != 3 || out != "" || strings.Count(errOut, "\n") != 1 {
		t.Errorf("nobody, text: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The demo's ping step says so and goes on.
	out, _, _ = pingRunIn(t, ns, bin, true, "demo", "--no-color")
	if !strings.Contains(out, "# Skipped here: cannot open an ICMP socket") || strings.Contains(out, "$ nettool ping") {
		t.Errorf("demo without ICMP:\n%s", out)
	}
	// --socket dgram refuses the fallback, even for root.
	if _, errOut, code = pingRunIn(t, ns, bin, false, "ping", "-c", "1", "--socket", "dgram", "127.0.0.1"); code != 3 || !strings.Contains(errOut, "ping_group_range") {
		t.Errorf("root --socket dgram: exit %d %q", code, errOut)
	}

	// With CAP_NET_RAW on the file, nobody gets a raw socket.
	if setcap := probetest.LookPeer(t, "setcap"); setcap != "" {
		capBin := filepath.Join(filepath.Dir(bin), "nettool-cap")
		data, _ := os.ReadFile(bin)
		if err := os.WriteFile(capBin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if scOut, err := exec.Command(setcap, "cap_net_raw+ep", capBin).CombinedOutput(); err != nil {
			msg := fmt.Sprintf("setcap refused here (%v %s): the cap_net_raw case did not run", err, scOut)
			if probetest.Required() {
				t.Error(msg)
			} else {
				t.Log("NOT RUN: " + msg)
			}
		} else {
			out, errOut, code = pingRunIn(t, ns, capBin, true, args...)
			if code != 0 || socketOf(out) != "raw" {
				t.Errorf("nobody with cap_net_raw: exit %d %q", code, errOut)
			}
		}
	}

	// Range opened: nobody (and root) use the unprivileged socket.
	pingSysctlRange(t, ns, "0 2147483647")
	out, errOut, code = pingRunIn(t, ns, bin, true, args...)
	if code != 0 || socketOf(out) != "dgram" {
		t.Errorf("nobody with the range open: exit %d %q %s", code, errOut, out)
	}
	// IPv6 too: ping_group_range covers ICMPv6 datagram sockets.
	out, errOut, code = pingRunIn(t, ns, bin, true, "ping", "-c", "1", "--json", "::1")
	if code != 0 || socketOf(out) != "dgram" || !strings.Contains(out, `"family": "ipv6"`) {
		t.Errorf("nobody, ::1: exit %d %q %s", code, errOut, out)
	}
	// Several hosts on the one unprivileged socket: the kernel owns the ID,
	// replies are told apart by nettool's payload tag.
	out, errOut, code = pingRunIn(t, ns, bin, true, "ping", "-c", "2", "-i", "0.02", "-o", "jsonl", "127.0.0.1", "127.0.0.2", "127.0.0.1", "10.77.0.2", "-W", "2")
	if code != 1 {
		t.Errorf("dgram multi-host: exit %d %q", code, errOut)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["type"] == "ping_host" {
			got = append(got, fmt.Sprintf("%v/%v/%v/%v", m["target"], m["socket"], m["received"], m["duplicates"]))
		}
	}
	if strings.Join(got, " ") != "127.0.0.1/dgram/2/0 127.0.0.2/dgram/2/0 127.0.0.1/dgram/2/0 10.77.0.2/dgram/0/0" {
		t.Errorf("dgram multi-host summaries %v\n%s", got, out)
	}
}

// pingInterrupt starts argv (the real binary, or `ip netns exec ...`), sends
// SIGINT once `replies` lines on stdout satisfy isReply (synchronised on the
// output, no sleeps), and returns all of stdout, stderr and the exit code.
func pingInterrupt(t *testing.T, argv []string, replies int, isReply func(string) bool) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var lines []string
	n := 0
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if isReply(sc.Text()) {
			n++
			if n == replies {
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n") + "\n" + string(rest), errb.String(), code
}

// Ctrl-C: the real binary, interrupted after three replies, prints its
// summary and exits by its replies (0).
func TestPingSIGINTPrintsSummary(t *testing.T) {
	pingNeedICMP(t)
	bin := nettoolBinary(t)
	all, errOut, code := pingInterrupt(t, []string{bin, "ping", "-c", "0", "-i", "0.05", "127.0.0.1"}, 3,
		func(l string) bool { return strings.HasPrefix(l, "64 bytes from") })
	if code != 0 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	m := regexp.MustCompile(`(?m)^(\d+) packets transmitted, (\d+) received, 0% packet loss`).FindStringSubmatch(all)
	if m == nil || !strings.Contains(all, "--- 127.0.0.1 ping statistics ---") || !strings.Contains(all, "rtt min/avg/max/mdev = ") {
		t.Fatalf("no summary after SIGINT:\n%s", all)
	}
	if n, _ := strconv.Atoi(m[2]); n < 3 {
		t.Errorf("received %s, want at least 3", m[2])
	}

	// jsonl: the last line is the run, marked interrupted.
	all, _, code = pingInterrupt(t, []string{bin, "ping", "-c", "0", "-i", "0.05", "-o", "jsonl", "127.0.0.1"}, 3,
		func(l string) bool { return strings.HasPrefix(l, `{"type":"ping_reply"`) })
	lines := strings.Split(strings.TrimSpace(all), "\n")
	last := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(last, `{"type":"ping",`) || !strings.Contains(last, `"interrupted":true`) || !strings.Contains(lines[len(lines)-2], `"type":"ping_host"`) {
		t.Errorf("exit %d, jsonl after SIGINT:\n%s", code, all)
	}
}

// Ctrl-C with a host that never answered: the summary still comes, and the
// exit code is 1 (by the replies, not 130).
func TestPingSIGINTWithSilentHostNetns(t *testing.T) {
	ns := pingNetns(t)
	all, errOut, code := pingInterrupt(t, []string{"ip", "netns", "exec", ns, nettoolBinary(t), "ping", "-c", "0", "-i", "0.05", "-W", "10", "127.0.0.1", "10.77.0.2"}, 3,
		func(l string) bool { return strings.HasPrefix(l, "64 bytes from 127.0.0.1") })
	if code != 1 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, re := range []string{`(?m)^127\.0\.0\.1\s+\d+\s+\d+\s+0%`, `(?m)^10\.77\.0\.2\s+\d+\s+0\s+-\s+-`, `(?m)^2 hosts, 1 up, 1 down, `} {
		if !regexp.MustCompile(re).MatchString(all) {
			t.Errorf("no %s in\n%s", re, all)
		}
	}
	if strings.Contains(all, "no reply") {
		t.Errorf("probes within their 10s wait reported lost:\n%s", all)
	}
}

func TestPingDemoStep(t *testing.T) {
	pingNeedICMP(t)
	var out bytes.Buffer
	e := &appEnv{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	d := &demo{e: e, out: &out, extra: []string{"--no-color"}}
	if err := pingDemoStep(context.Background(), d); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"RTT", "$ nettool ping", "--- 127.0.0.1 ping statistics ---", "0% packet loss"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

func pingAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// What a person sees for duplicates, late replies, lost probes and errors
// (events the loopback cannot produce on demand).
func TestPingEventLines(t *testing.T) {
	var out, errb bytes.Buffer
	p := output.New(&out, &errb, output.Options{Format: output.Text})
	v := &pingView{p: p}
	tg := ping.Target{Name: "example.test", Addr: pingAddr("192.0.2.7")}
	now := time.Now()
	for _, ev := range []ping.Event{
		{Kind: ping.EventReply, Target: tg, Seq: 1, From: tg.Addr, TTL: 57, Bytes: 64, RTT: 1234567 * time.Nanosecond, Time: now},
		{Kind: ping.EventReply, Target: tg, Seq: 1, From: tg.Addr, TTL: 57, Bytes: 64, RTT: 1300 * time.Microsecond, Dup: true, Time: now},
		{Kind: ping.EventReply, Target: tg, Seq: 2, From: pingAddr("192.0.2.99"), TTL: -1, Bytes: 64, RTT: 3 * time.Second, Late: true, Time: now},
		{Kind: ping.EventLost, Target: tg, Seq: 3, Waited: 2 * time.Second, Time: now},
		{Kind: ping.EventError, Target: tg, Seq: 4, From: pingAddr("198.51.100.1"), Err: "Destination Host Unreachable", Time: now},
		{Kind: ping.EventError, Target: tg, Seq: 5, Err: "sendto: network is unreachable\x1b[2J", Time: now},
	} {
		v.event(ev)
	}
	want := `64 bytes from example.test (192.0.2.7): icmp_seq=1 ttl=57 time=1.235 ms
64 bytes from example.test (192.0.2.7): icmp_seq=1 ttl=57 time=1.300 ms (DUP!)
64 bytes from 192.0.2.99 (probe to example.test (192.0.2.7)): icmp_seq=2 time=3000.000 ms (late: already counted lost)
no reply from example.test (192.0.2.7): icmp_seq=3 (waited 2s)
From 198.51.100.1: icmp_seq=4 Destination Host Unreachable (probe to example.test (192.0.2.7))
send failed to example.test (192.0.2.7): icmp_seq=5 sendto: network is unreachable\x1b[2J
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestPingHostFile(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts...)
	pingNeedICMP(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "hosts")
	if err := os.WriteFile(f, []byte("# loopback\n127.0.0.1\n\n127.0.0.2 127.0.0.3 # three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "ping", "-q", "-c", "1", "--file", f, "127.0.0.4", "--json")
	var doc struct {
		HostsUp int `json:"hosts_up"`
		Hosts   []struct {
			Target string `json:"target"`
		} `json:"hosts"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.HostsUp != 4 || len(doc.Hosts) != 4 || doc.Hosts[0].Target != "127.0.0.4" || doc.Hosts[3].Target != "127.0.0.3" {
		t.Errorf("exit %d %q %s", code, errOut, out)
	}
	if _, errOut, code := runCLI(t, "ping", "--file", filepath.Join(dir, "missing")); code != 2 || !strings.Contains(errOut, "--file: open ") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}
