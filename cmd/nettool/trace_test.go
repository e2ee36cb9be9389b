package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

func TestTraceBadInput(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"trace"}, "no host to trace"},
		{[]string{"trace", "-n", "a..b"}, "empty label"},
		{[]string{"trace", "-4", "-6", "-n", "127.0.0.1"}, "cannot be used together"},
		{[]string{"trace", "--udp", "--tcp", "-n", "127.0.0.1"}, "cannot be used together"},
		{[]string{"trace", "-p", "80", "-n", "127.0.0.1"}, "--port needs --udp or --tcp"},
		{[]string{"trace", "--tcp", "-p", "70000", "-n", "127.0.0.1"}, "bad port"},
		{[]string{"trace", "-f", "5", "-m", "3", "-n", "127.0.0.1"}, "beyond max TTL"},
		{[]string{"trace", "-m", "256", "-n", "127.0.0.1"}, "bad max TTL"},
		{[]string{"trace", "-q", "0", "-n", "127.0.0.1"}, "bad probes per hop"},
		{[]string{"trace", "-w", "x", "-n", "127.0.0.1"}, "--wait: bad time"},
		{[]string{"trace", "-w", "0", "-n", "127.0.0.1"}, "--wait"},
		{[]string{"trace", "--flows", "100", "-n", "127.0.0.1"}, "bad flow count"},
		{[]string{"trace", "--size", "10", "-n", "127.0.0.1"}, "too small"},
		{[]string{"trace", "-s", "nope", "-n", "127.0.0.1"}, "bad --source"},
		{[]string{"trace", "-n", "127.0.0.1", "@"}, "bad server"},
		{[]string{"trace", "--socket", "magic", "-n", "127.0.0.1"}, "bad socket kind"},
		{[]string{"trace", "-n", "\x1b[31mevil"}, `\x1b[31mevil`},
	}
	for _, c := range cases {
		out, errOut, code := runCLI(t, c.args...)
		if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "nettool: trace: ") || !strings.Contains(errOut, c.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.args, code, out, errOut, c.msg)
		}
		if strings.Contains(errOut, "\x1b") {
			t.Errorf("%q: raw escape on stderr", c.args)
		}
	}
}

// traceNet is client - router - server: the server is hop 2.
type traceNet struct {
	c, r, s *probetest.Netns
}

const (
	traceHop1 = "198.51.100.2"
	traceDst  = "198.51.100.6"
)

func newTraceNet(t *testing.T) *traceNet {
	t.Helper()
	n := &traceNet{c: probetest.NewNetns(t, "trace-c"), r: probetest.NewNetns(t, "trace-r"), s: probetest.NewNetns(t, "trace-s")}
	n.r.Sysctl("net.ipv4.ip_forward=1")
	probetest.Veth(t, n.c, "right", n.r, "left")
	probetest.Veth(t, n.r, "right", n.s, "left")
	n.c.IP("addr", "add", "198.51.100.1/30", "dev", "right")
	n.r.IP("addr", "add", traceHop1+"/30", "dev", "left")
	n.r.IP("addr", "add", "198.51.100.5/30", "dev", "right")
	n.s.IP("addr", "add", traceDst+"/30", "dev", "left")
	n.c.IP("route", "add", "default", "via", traceHop1)
	n.s.IP("route", "add", "default", "via", "198.51.100.5")
	ping := probetest.LookPeer(t, "ping")
	for try := 0; ; try++ {
		err := n.c.Command(context.Background(), ping, "-n", "-c", "1", "-W", "1", traceDst).Run()
		if err == nil {
			break
		}
		if try == 20 {
			t.Fatalf("path not up: %v", err)
		}
	}
	return n
}

func traceRun(t *testing.T, ns *probetest.Netns, bin string, asNobody bool, args ...string) (string, string, int) {
	t.Helper()
	return pingRunIn(t, ns.Name, bin, asNobody, args...)
}

var traceLine = regexp.MustCompile(`^ ?\d+  (\S+)  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$`)

func TestTraceNetns(t *testing.T) {
	n := newTraceNet(t)
	bin := nettoolBinary(t)

	t.Run("text", func(t *testing.T) {
		// Flags after the host work too.
		out, errOut, code := traceRun(t, n.c, bin, false, "trace", traceDst, "-n")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || errOut != "" || len(lines) != 3 {
			t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
		}
		if lines[0] != "trace to "+traceDst+", 30 hops max, 60 byte packets, icmp" {
			t.Errorf("header %q", lines[0])
		}
		for i, want := range []string{traceHop1, traceDst} {
			m := traceLine.FindStringSubmatch(lines[i+1])
			if m == nil || m[1] != want {
				t.Errorf("hop %d: %q, want %s and three times", i+1, lines[i+1], want)
			}
		}
		if strings.Contains(out, "\x1b") {
			t.Errorf("escape codes in output to a pipe")
		}
	})

	t.Run("not reached", func(t *testing.T) {
		out, _, code := traceRun(t, n.c, bin, false, "trace", "-n", "-m", "1", traceDst)
		if code != 1 || !strings.Contains(out, traceHop1) {
			t.Errorf("-m 1: exit %d, want 1; stdout:\n%s", code, out)
		}
	})

	t.Run("json", func(t *testing.T) {
		out, _, code := traceRun(t, n.c, bin, false, "trace", "-n", "--json", "--udp", traceDst)
		var doc struct {
			Type   string `json:"type"`
			OK     bool   `json:"ok"`
			Traces []struct {
				Type    string `json:"type"`
				Method  string `json:"method"`
				Port    int    `json:"port"`
				Reached bool   `json:"reached"`
				DestTTL int    `json:"dest_ttl"`
				Hops    []struct {
					Type        string   `json:"type"`
					TTL         int      `json:"ttl"`
					Sent        int      `json:"sent"`
					Received    int      `json:"received"`
					LossPercent *float64 `json:"loss_percent"`
					AvgMS       *float64 `json:"avg_ms"`
					Addrs       []struct {
						Type  string  `json:"type"`
						Addr  string  `json:"addr"`
						Share float64 `json:"share"`
					} `json:"addrs"`
					Probes []struct {
						Type string `json:"type"`
					} `json:"probes"`
				} `json:"hops"`
			} `json:"traces"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		if doc.Type != "trace_run" || !doc.OK || len(doc.Traces) != 1 {
			t.Fatalf("%+v", doc)
		}
		tr := doc.Traces[0]
		if tr.Type != "trace" || tr.Method != "udp" || tr.Port != 33434 || !tr.Reached || tr.DestTTL != 2 || len(tr.Hops) != 2 {
			t.Fatalf("%+v", tr)
		}
		for i, h := range tr.Hops {
			if h.Type != "trace_hop" || h.TTL != i+1 || h.Sent != 3 || h.Received != 3 || h.LossPercent == nil || *h.LossPercent != 0 ||
				h.AvgMS == nil || len(h.Addrs) != 1 || h.Addrs[0].Type != "trace_addr" || h.Addrs[0].Share != 1 ||
				len(h.Probes) != 3 || h.Probes[0].Type != "trace_probe" {
				t.Errorf("hop %d: %+v", i+1, h)
			}
		}
	})

	t.Run("report", func(t *testing.T) {
		out, _, code := traceRun(t, n.c, bin, false, "trace", "-n", "--tcp", "-c", "3", "-i", "0.01", traceDst)
		if code != 0 || strings.Contains(out, "\x1b") {
			t.Fatalf("exit %d:\n%q", code, out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "trace to "+traceDst+": 3 rounds, tcp, reached") ||
			strings.Join(strings.Fields(lines[1]), " ") != "HOP HOST Loss% Snt Last Avg Best Wrst StDev Jttr" {
			t.Fatalf("report:\n%s", out)
		}
		for i, want := range []string{traceHop1, traceDst} {
			f := strings.Fields(lines[i+2])
			if len(f) != 10 || f[1] != want || f[2] != "0.0%" || f[3] != "3" {
				t.Errorf("row %q: want %s, 0.0%%, 3 sent", lines[i+2], want)
			}
		}
	})

	t.Run("jsonl and ctrl-c", func(t *testing.T) {
		// A long report, interrupted once the first probe is out: the
		// summary still comes, exit 130.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := n.c.Command(ctx, bin, "trace", "-n", "-o", "jsonl", "-c", "10000", "-i", "0.05", traceDst)
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
		var types []string
		for sc.Scan() {
			var obj struct {
				Type        string `json:"type"`
				Interrupted bool   `json:"interrupted"`
			}
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				t.Fatalf("not JSON: %q", sc.Text())
			}
			if len(types) == 0 {
				// ip netns exec runs nettool in its own process.
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
			types = append(types, obj.Type)
			if obj.Type == "trace_run" && !obj.Interrupted {
				t.Errorf("trace_run not marked interrupted: %s", sc.Text())
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit %v, want 130; stderr %q", err, errb.String())
		}
		if len(types) < 3 || types[0] != "trace_probe" || types[len(types)-2] != "trace" || types[len(types)-1] != "trace_run" {
			t.Errorf("object types %v", types)
		}
	})

	t.Run("names", func(t *testing.T) {
		// Reverse names come from @SERVER (here nettool's own DNS server,
		// inside the client's namespace); a name with a control byte is
		// escaped before it reaches the terminal.
		zone := filepath.Join(t.TempDir(), "rev.zone")
		if err := os.WriteFile(zone, []byte("$ORIGIN 100.51.198.in-addr.arpa.\n$TTL 60\n"+
			"@ SOA ns.test. host.test. 1 60 60 60 60\n@ NS ns.test.\n"+
			"2 PTR evil\\027[31mrouter.test.\n6 PTR server.test.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		srv := n.c.Command(ctx, bin, "serve", "dns", "127.0.0.1:0", "--zone", zone, "-o", "jsonl")
		stdout, err := srv.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = srv.Wait() }()
		var listen struct {
			Address string `json:"address"`
		}
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() || json.Unmarshal(sc.Bytes(), &listen) != nil || listen.Address == "" {
			t.Fatalf("serve dns did not say where it listens: %q", sc.Text())
		}
		go func() {
			for sc.Scan() {
			}
		}()
		out, errOut, code := traceRun(t, n.c, bin, false, "trace", traceDst, "@"+listen.Address, "-q", "1")
		if code != 0 || strings.ContainsAny(out, "\x1b\x17") {
			t.Fatalf("exit %d, stderr %q, stdout %q", code, errOut, out)
		}
		// The name as dig shows it: the control byte as \027.
		if !strings.Contains(out, " 1  evil\\027[31mrouter.test (198.51.100.2)  ") || !strings.Contains(out, "server.test (198.51.100.6)") {
			t.Errorf("no names in:\n%s", out)
		}
		out, _, _ = traceRun(t, n.c, bin, false, "trace", traceDst, "@"+listen.Address, "-q", "1", "--json")
		if !strings.Contains(out, `"name": "server.test"`) || strings.ContainsAny(out, "\x1b\x17") {
			t.Errorf("JSON names:\n%s", out)
		}
	})

	t.Run("privilege", func(t *testing.T) {
		nb := pingBinaryFor(t)
		probetest.LookPeer(t, "setpriv")
		pingSysctlRange(t, n.c.Name, "1 0")
		out, errOut, code := traceRun(t, n.c, nb, true, "trace", "-n", traceDst)
		if code != 3 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "ping_group_range") || !strings.Contains(errOut, "setcap cap_net_raw") {
			t.Errorf("nobody, no ping_group_range: exit %d, stdout %q, stderr %q; want 3 and the hint", code, out, errOut)
		}
		// UDP and TCP need no privilege at all.
		for _, m := range []string{"--udp", "--tcp"} {
			if _, errOut, code := traceRun(t, n.c, nb, true, "trace", "-n", m, traceDst); code != 0 {
				t.Errorf("nobody %s: exit %d, stderr %q", m, code, errOut)
			}
		}
		pingSysctlRange(t, n.c.Name, "0 2147483647")
		out, errOut, code = traceRun(t, n.c, nb, true, "trace", "-n", "--json", traceDst)
		var doc struct {
			Traces []struct {
				Socket  string `json:"socket"`
				Reached bool   `json:"reached"`
				Hops    []any  `json:"hops"`
			} `json:"traces"`
		}
		_ = json.Unmarshal([]byte(out), &doc)
		if code != 0 || len(doc.Traces) != 1 || doc.Traces[0].Socket != "dgram" || !doc.Traces[0].Reached || len(doc.Traces[0].Hops) != 2 {
			t.Errorf("nobody with ping_group_range: exit %d, stderr %q, stdout:\n%s", code, errOut, out)
		}
	})
}
