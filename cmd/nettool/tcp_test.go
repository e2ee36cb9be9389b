package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// tcpListeners opens n loopback listeners that accept and hold connections
// (optionally greeting with banner) until the test ends.
func tcpListeners(t *testing.T, n int, banner string) []int {
	t.Helper()
	var ports []int
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs last: after every listener below is closed
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		var mu sync.Mutex
		var conns []net.Conn
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				if banner != "" {
					c.Write([]byte(banner))
				}
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
	}
	return ports
}

// tcpClosedPorts returns loopback ports that were just bound and released.
func tcpClosedPorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func tcpJoin(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}

// tcpJSONLines decodes jsonl output.
func tcpJSONLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad jsonl line %q: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

func TestTCPConnectOpen(t *testing.T) {
	port := tcpListeners(t, 1, "")[0]
	target := fmt.Sprintf("127.0.0.1:%d", port)
	out, errs, code := runCLI(t, "tcp", target, "-c", "3", "-i", "10ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	re := regexp.MustCompile(`(?m)^connected to ` + regexp.QuoteMeta(target) + ` from 127\.0\.0\.1:(\d+): seq=(\d) time=\d+\.\d{3} ms$`)
	m := re.FindAllStringSubmatch(out, -1)
	if len(m) != 3 {
		t.Fatalf("want 3 attempt lines:\n%s", out)
	}
	local := map[string]bool{}
	for i, x := range m {
		local[x[1]] = true
		if x[2] != strconv.Itoa(i) || x[1] == strconv.Itoa(port) {
			t.Errorf("line %d: %q", i, x[0])
		}
	}
	if len(local) != 3 {
		t.Errorf("the OS picks a new local port per connection: %v", local)
	}
	// --source picks the local address; the OS still picks the port.
	src, _, code := runCLI(t, "tcp", target, "-c", "1", "--source", "127.0.0.2")
	if code != 0 || !strings.Contains(src, " from 127.0.0.2:") {
		t.Errorf("--source: exit %d\n%s", code, src)
	}
	src, _, code = runCLI(t, "tcp", "127.0.0.1", "-p", strconv.Itoa(port), "--source", "127.0.0.2", "--banner", "--read-timeout", "10ms", "-o", "jsonl")
	if code != 0 || !strings.Contains(src, `"state":"open"`) {
		t.Errorf("scan --source: exit %d\n%s", code, src)
	}
	if !strings.Contains(out, "3 attempts, 3 connected, 0% loss") || !regexp.MustCompile(`connect min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms`).MatchString(out) {
		t.Errorf("summary missing:\n%s", out)
	}
}

func TestTCPConnectClosed(t *testing.T) {
	target := fmt.Sprintf("127.0.0.1:%d", tcpClosedPorts(t, 1)[0])
	out, _, code := runCLI(t, "tcp", target, "-c", "2", "-i", "1ms")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if strings.Count(out, "closed "+target+": seq=") != 2 || !strings.Contains(out, "connection refused (closed)") || !strings.Contains(out, "2 attempts, 0 connected, 100% loss") {
		t.Fatalf("output:\n%s", out)
	}
	if strings.Contains(out, "min/avg/max") {
		t.Errorf("no connect times to show:\n%s", out)
	}
}

func TestTCPConnectJSON(t *testing.T) {
	port := tcpListeners(t, 1, "")[0]
	closed := tcpClosedPorts(t, 1)[0]
	out, _, code := runCLI(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", closed), "-c", "2", "-i", "1ms", "--json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Type    string `json:"type"`
		Results []struct {
			Type      string  `json:"type"`
			Target    string  `json:"target"`
			OK        bool    `json:"ok"`
			Failure   string  `json:"failure"`
			Attempts  int     `json:"attempts"`
			Connected int     `json:"connected"`
			LossPct   float64 `json:"loss_percent"`
			MinMS     float64 `json:"rtt_min_ms"`
			List      []struct {
				Type         string  `json:"type"`
				State        string  `json:"state"`
				LocalAddress string  `json:"local_address"`
				ConnectMS    float64 `json:"connect_ms"`
				OK           bool    `json:"ok"`
				Failure      string  `json:"failure"`
			} `json:"attempts_list"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Type != "tcp_connect" || len(doc.Results) != 2 {
		t.Fatalf("%s", out)
	}
	ok, bad := doc.Results[0], doc.Results[1]
	if !ok.OK || ok.Attempts != 2 || ok.Connected != 2 || ok.LossPct != 0 || ok.MinMS <= 0 || len(ok.List) != 2 || ok.List[0].LocalAddress == "" || ok.List[0].State != "open" {
		t.Errorf("open target: %+v", ok)
	}
	if bad.OK || bad.Failure != "connection_refused" || bad.LossPct != 100 || len(bad.List) != 2 || bad.List[1].State != "closed" {
		t.Errorf("closed target: %+v", bad)
	}
	// jsonl: two attempts and a summary per target, streamed.
	out, _, _ = runCLI(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "-c", "2", "-i", "1ms", "-o", "jsonl")
	objs := tcpJSONLines(t, out)
	if len(objs) != 3 || objs[0]["type"] != "tcp_attempt" || objs[2]["type"] != "tcp_summary" || objs[2]["attempts_list"] != nil {
		t.Errorf("jsonl:\n%s", out)
	}
}

func TestTCPUsageErrors(t *testing.T) {
	cases := [][]string{
		{"tcp"},
		{"tcp", "127.0.0.1"},
		{"tcp", "127.0.0.1:0"},
		{"tcp", "127.0.0.1", "-p", "0"},
		{"tcp", "127.0.0.1", "-p", "22,,80"},
		{"tcp", "127.0.0.1", "-p", "100-1"},
		{"tcp", "127.0.0.1:22", "-p", "80"},
		{"tcp", "10.0.0.0/8", "-p", "80"},
		{"tcp", "bad..name", "-p", "80"},
		{"tcp", "127.0.0.1:80", "--send", `\q`},
		{"tcp", "127.0.0.1:80", "-k"},
		{"tcp", "127.0.0.1:80", "-4", "-6"},
		{"tcp", "127.0.0.1", "-p", "80", "--wait", "1s"},
	}
	for _, args := range cases {
		out, errs, code := runCLI(t, args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "nettool: tcp: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// tcpNmapOpen runs nmap's connect scan and returns the open ports it lists.
func tcpNmapOpen(t *testing.T, ports string) []int {
	t.Helper()
	nmap := probetest.LookPeer(t, "nmap")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, "-sT", "-p", ports, "-n", "-Pn", "127.0.0.1", "-oG", "-").Output()
	if err != nil {
		t.Fatalf("nmap: %v", err)
	}
	var open []int
	for _, m := range regexp.MustCompile(`(\d+)/open/tcp`).FindAllStringSubmatch(string(out), -1) {
		p, _ := strconv.Atoi(m[1])
		open = append(open, p)
	}
	slices.Sort(open)
	return open
}

func TestTCPScanMatchesNmap(t *testing.T) {
	open := tcpListeners(t, 5, "")
	closed := tcpClosedPorts(t, 5)
	ports := tcpJoin(append(append([]int{}, open...), closed...))
	nm := tcpNmapOpen(t, ports)
	out, errs, code := runCLI(t, "tcp", "127.0.0.1", "-p", ports, "-o", "jsonl", "--show-closed")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var ours []int
	states := map[int]string{}
	for _, o := range tcpJSONLines(t, out) {
		if o["type"] == "tcp_port" {
			p := int(o["port"].(float64))
			states[p] = o["state"].(string)
			if o["state"] == "open" {
				ours = append(ours, p)
			}
		}
	}
	slices.Sort(ours)
	want := append([]int{}, open...)
	slices.Sort(want)
	if !slices.Equal(ours, nm) || !slices.Equal(ours, want) {
		t.Fatalf("open ports: nettool %v, nmap %v, listeners %v", ours, nm, want)
	}
	for _, p := range closed {
		if states[p] != "closed" {
			t.Errorf("port %d: %q, want closed", p, states[p])
		}
	}
	// Text: one line per open port, a summary, exit 0; no progress line
	// when stderr is not a terminal.
	out, errs, code = runCLI(t, "tcp", "127.0.0.1", "-p", ports)
	if code != 0 || strings.Count(out, " open ") != 5 || !strings.Contains(out, "5 open, 5 closed, 0 filtered, 0 errors") {
		t.Fatalf("text scan (exit %d):\n%s", code, out)
	}
	if strings.ContainsAny(errs, "\r\x1b") || !strings.HasPrefix(errs, "scanning 10 ports on 1 address") {
		t.Errorf("stderr %q", errs)
	}
	// Nothing open: exit 1.
	out, _, code = runCLI(t, "tcp", "127.0.0.1", "-p", tcpJoin(closed))
	if code != 1 || !strings.Contains(out, "no open ports") {
		t.Fatalf("all-closed scan: exit %d\n%s", code, out)
	}
}

func TestTCPScanServiceNamesAndJSON(t *testing.T) {
	open := tcpListeners(t, 1, "")
	out, _, code := runCLI(t, "tcp", "127.0.0.1", "localhost", "-p", tcpJoin(open), "--json", "-4")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var doc struct {
		Type  string `json:"type"`
		Ports string `json:"ports"`
		Hosts []struct {
			Host      string `json:"host"`
			Open      int    `json:"open"`
			OpenPorts []int  `json:"open_ports"`
		} `json:"hosts"`
		Results []struct {
			Port  int    `json:"port"`
			State string `json:"state"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Type != "tcp_scan" || len(doc.Hosts) != 2 || doc.Hosts[1].Host != "localhost" || doc.Hosts[0].Open != 1 || len(doc.Results) != 2 {
		t.Fatalf("%s", out)
	}
}

func TestTCPSendToServeEcho(t *testing.T) {
	bin := nettoolBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "echo", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no address line: %v; stderr %s", err, stderr.String())
	}
	m := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("first line %q", line)
	}
	msg := "This is the message.  It will be repeated."
	out, errs, code := runCLI(t, "tcp", m[1], "--send", msg)
	cmd.Process.Signal(os.Interrupt)
	werr := cmd.Wait()
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, `sent 42 bytes: "`+msg+`"`) || !strings.Contains(out, `received: 42 bytes`) || !strings.Contains(out, `: "`+msg+`"`) {
		t.Errorf("output:\n%s", out)
	}
	if werr != nil {
		t.Errorf("serve echo did not exit cleanly on Ctrl-C: %v\n%s", werr, stderr.String())
	}
	log := stderr.String()
	for _, chunk := range []string{`"This is the mess"`, `"age.  It will be"`, `" repeated."`} {
		if !strings.Contains(log, "received") || !strings.Contains(log, chunk) {
			t.Errorf("serve echo log lacks chunk %s:\n%s", chunk, log)
		}
	}
	if !strings.Contains(log, "connection from 127.0.0.1:") {
		t.Errorf("no client address in log:\n%s", log)
	}
}

func TestTCPSendJSONInProcess(t *testing.T) {
	srv, err := serve.EchoListen("127.0.0.1:0", serve.EchoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	out, _, code := runCLI(t, "tcp", srv.Addr().String(), "--send", `a\x1bb\n`, "-o", "jsonl")
	objs := tcpJSONLines(t, out)
	if code != 0 || len(objs) != 2 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	reply := objs[0]["reply"].(map[string]any)
	if reply["text"] != `a\x1bb\n` || reply["bytes"].(float64) != 4 || reply["end"] != "complete" {
		t.Errorf("reply %v", reply)
	}
}

func TestTCPBannerHostile(t *testing.T) {
	port := tcpListeners(t, 1, "220 \x1b[31mred\x1b[0m\x07\x9b\r\n")[0]
	out, _, code := runCLI(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "--banner")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\x07\r") || strings.Contains(out, "\x9b") || !strings.Contains(out, `220 \x1b[31mred\x1b[0m\x07\x9b\r\n`) {
		t.Fatalf("banner not escaped:\n%q", out)
	}
}

func TestTCPBannerEndless(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		junk := bytes.Repeat([]byte("\x00\x1bZ"), 4096)
		for {
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write(junk); err != nil {
				return
			}
		}
	}()
	defer wg.Wait()
	defer ln.Close()
	out, _, code := runCLI(t, "tcp", ln.Addr().String(), "--banner", "--max-bytes", "300", "-o", "jsonl")
	objs := tcpJSONLines(t, out)
	if code != 0 || len(objs) != 2 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	b := objs[0]["banner"].(map[string]any)
	if b["bytes"].(float64) != 300 || b["truncated"] != true || b["end"] != "cap" || strings.ContainsAny(b["text"].(string), "\x00\x1b") {
		t.Fatalf("banner %v", b)
	}
}

func TestTCPFullAcceptQueue(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	target := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue: connections the listener never accepts.
	full := false
	for i := 0; i < 16 && !full; i++ {
		c, err := net.DialTimeout("tcp", target, 300*time.Millisecond)
		if err != nil {
			full = true
			break
		}
		defer c.Close()
	}
	if !full {
		t.Fatal("accept queue never filled")
	}
	out, _, code := runCLI(t, "tcp", target, "-c", "1", "--timeout", "300ms")
	if code != 1 || !strings.Contains(out, "filtered "+target+": seq=0 no answer (filtered, or the listener's accept queue is full)") || !strings.Contains(out, "100% loss") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestTCPWaitUntilOpen(t *testing.T) {
	port := tcpClosedPorts(t, 1)[0]
	target := fmt.Sprintf("127.0.0.1:%d", port)
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	codec := make(chan int, 1)
	go func() {
		codec <- run(context.Background(), []string{"nettool", "tcp", target, "--wait", "60s", "-i", "20ms", "-o", "jsonl"}, strings.NewReader(""), pw, &errb)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	if !sc.Scan() || !strings.Contains(sc.Text(), `"state":"closed"`) {
		t.Fatalf("first attempt: %q", sc.Text())
	}
	// The port was refused once; open it now.
	ln, err := net.Listen("tcp", target)
	if err != nil {
		t.Skipf("port %d was taken meanwhile: %v", port, err)
	}
	defer ln.Close()
	var last string
	for sc.Scan() {
		last = sc.Text()
	}
	if code := <-codec; code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	var s map[string]any
	json.Unmarshal([]byte(last), &s)
	if s["type"] != "tcp_summary" || s["ok"] != true || s["attempts"].(float64) < 2 || s["waited_ms"] == nil {
		t.Fatalf("summary %q", last)
	}
}

func TestTCPWaitGivesUp(t *testing.T) {
	target := fmt.Sprintf("127.0.0.1:%d", tcpClosedPorts(t, 1)[0])
	out, errs, code := runCLI(t, "tcp", target, "--wait", "200ms", "-i", "50ms")
	// The last attempt may have had only the last millisecond of --wait
	// (a loaded machine): then it says so, not "filtered".
	if code != 1 || !strings.Contains(out, target+" did not open within 200ms") || !(strings.Contains(out, "last: connection refused") || strings.Contains(out, " left of --wait)")) || strings.Contains(out, "filtered") || !strings.Contains(errs, "waiting up to 200ms") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

// Ctrl-C during an endless connect test prints the statistics so far.
func TestTCPInterruptPrintsSummary(t *testing.T) {
	port := tcpListeners(t, 1, "")[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "tcp", fmt.Sprintf("127.0.0.1:%d", port), "-c", "0", "-i", "20ms")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	for seen := 0; seen < 3; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "connected to") {
			seen++
		}
	}
	cmd.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(r)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130", err)
	}
	if !regexp.MustCompile(`\d+ attempts, \d+ connected, 0% loss`).Match(rest) || !bytes.Contains(rest, []byte("connect min/avg/max/mdev")) {
		t.Fatalf("no summary after Ctrl-C:\n%s", rest)
	}
}

// With very few file descriptors and many connections in flight, EMFILE is
// retried: every port gets a real state and no open port is reported
// closed.
func TestTCPScanEMFILE(t *testing.T) {
	prlimit := probetest.LookPeer(t, "prlimit")
	open := tcpListeners(t, 8, "")
	closed := tcpClosedPorts(t, 50)
	ports := tcpJoin(append(append([]int{}, open...), closed...))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	// Silent listeners and --banner keep each open connection (and its
	// descriptor) busy for a while, so 8 open ports exhaust a limit of 16.
	cmd := exec.CommandContext(ctx, prlimit, "--nofile=16:16", nettoolBinary(t), "tcp", "127.0.0.1", "-p", ports,
		"--concurrency", "64", "--banner", "--read-timeout", "300ms", "--show-closed", "-o", "jsonl")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	states := map[int]string{}
	retried := 0
	for _, o := range tcpJSONLines(t, out.String()) {
		if o["type"] != "tcp_port" {
			continue
		}
		p := int(o["port"].(float64))
		states[p] = o["state"].(string)
		if o["tries"].(float64) > 1 {
			retried++
		}
	}
	if len(states) != 58 {
		t.Fatalf("%d ports reported, want 58\n%s", len(states), errb.String())
	}
	for _, p := range open {
		if states[p] != "open" {
			t.Errorf("listener port %d reported %q", p, states[p])
		}
	}
	for _, p := range closed {
		if states[p] != "closed" {
			t.Errorf("port %d reported %q, want closed", p, states[p])
		}
	}
	if retried == 0 {
		t.Errorf("no port needed a retry: the test did not hit EMFILE")
	}
}

// A network namespace of the test's own: an address whose packets vanish (a
// veth whose far end drops frames for a MAC nobody has) gives filtered
// ports by timeout, an unreachable route gives filtered by ICMP-style
// error; nettool runs inside it. Only iproute2 is needed.
func TestTCPFilteredInNamespace(t *testing.T) {
	probetest.RequireRoot(t, "network namespaces")
	ipPath := probetest.LookPeer(t, "ip")
	rnd := make([]byte, 3)
	rand.Read(rnd)
	ns := fmt.Sprintf("nttcp-%d-%s", os.Getpid(), hex.EncodeToString(rnd))
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipPath, args...).CombinedOutput(); err != nil {
			probetest.Unavailable(t, fmt.Sprintf("ip %v: %v: %s", args, err, out))
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() { exec.Command(ipPath, "netns", "del", ns).Run() })
	sh("-n", ns, "link", "set", "lo", "up")
	sh("-n", ns, "route", "add", "unreachable", "10.78.0.0/24")
	sh("-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	sh("-n", ns, "addr", "add", "10.79.0.1/24", "dev", "v0")
	sh("-n", ns, "link", "set", "v0", "up")
	sh("-n", ns, "link", "set", "v1", "up")
	sh("-n", ns, "neigh", "add", "10.79.0.2", "lladdr", "02:00:00:00:00:99", "dev", "v0", "nud", "permanent")
	bin := nettoolBinary(t)
	// An echo server inside the namespace gives an open port.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, ipPath, "netns", "exec", ns, bin, "serve", "echo", "127.0.0.1:7")
	srvOut, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	if _, err := bufio.NewReader(srvOut).ReadString('\n'); err != nil {
		t.Fatalf("echo server in namespace: %v", err)
	}
	inNS := func(args ...string) (string, int) {
		c := exec.CommandContext(ctx, ipPath, append([]string{"netns", "exec", ns, bin}, args...)...)
		var out bytes.Buffer
		c.Stdout = &out
		c.Run()
		return out.String(), c.ProcessState.ExitCode()
	}
	out, code := inNS("tcp", "127.0.0.1", "10.79.0.2", "-p", "7,80", "--timeout", "300ms", "--show-closed", "-o", "jsonl")
	if code != 0 {
		t.Fatalf("scan exit %d\n%s", code, out)
	}
	states := map[string]string{}
	for _, o := range tcpJSONLines(t, out) {
		if o["type"] == "tcp_port" {
			states[fmt.Sprintf("%v:%v", o["address"], o["port"])] = o["state"].(string) + "/" + fmt.Sprint(o["failure"])
		}
	}
	want := map[string]string{"127.0.0.1:7": "open/<nil>", "127.0.0.1:80": "closed/connection_refused", "10.79.0.2:7": "filtered/timeout", "10.79.0.2:80": "filtered/timeout"}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("%s: %q, want %q", k, states[k], v)
		}
	}
	// A full scan of the namespace's quiet loopback: exactly the echo
	// server's port, as nmap finds. Many sockets in flight on one address
	// can cross each other by simultaneous open; such phantoms must not
	// show up as open ports (five runs: before the fix they appeared in about
	// half the runs, so this check is probabilistic, never flaky).
	if nmap, err := exec.LookPath("nmap"); err == nil {
		c := exec.CommandContext(ctx, ipPath, "netns", "exec", ns, nmap, "-sT", "-p-", "-n", "-Pn", "127.0.0.1", "-oG", "-")
		nmOut, err := c.Output()
		if err != nil || !strings.Contains(string(nmOut), "Ports: 7/open/tcp") || strings.Count(string(nmOut), "/open/") != 1 {
			t.Fatalf("nmap in namespace: %v\n%s", err, nmOut)
		}
	} else {
		probetest.LookPeer(t, "nmap")
	}
	for i := 0; i < 5; i++ {
		out, code := inNS("tcp", "127.0.0.1", "-p", "-", "-o", "jsonl")
		var open []string
		for _, o := range tcpJSONLines(t, out) {
			if o["type"] == "tcp_port" {
				open = append(open, fmt.Sprint(o["port"]))
			}
		}
		if code != 0 || strings.Join(open, ",") != "7" {
			t.Fatalf("full scan %d in namespace: exit %d, open %v (nmap: 7)", i, code, open)
		}
	}
	out, code = inNS("tcp", "10.79.0.2:81", "10.78.0.5:80", "-c", "1", "--timeout", "300ms")
	if code != 1 || !strings.Contains(out, "filtered 10.79.0.2:81: seq=0 no answer") || !strings.Contains(out, "filtered 10.78.0.5:80: seq=0 host unreachable (filtered)") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	// Ctrl-C in the middle of a scan of a silent host: what was measured
	// is printed, and the exit code is 130.
	scan := exec.CommandContext(ctx, ipPath, "netns", "exec", ns, bin, "tcp", "127.0.0.1", "10.79.0.2", "-p", "7", "--timeout", "60s", "-o", "jsonl")
	scanOut, _ := scan.StdoutPipe()
	if err := scan.Start(); err != nil {
		t.Fatal(err)
	}
	sr := bufio.NewReader(scanOut)
	first, err := sr.ReadString('\n')
	if err != nil || !strings.Contains(first, `"port":7,"state":"open"`) {
		t.Fatalf("first scan line %q, %v", first, err)
	}
	scan.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(sr)
	scan.Wait()
	if code := scan.ProcessState.ExitCode(); code != 130 || strings.Count(string(rest), `"type":"tcp_scan_summary"`) != 2 || !strings.Contains(string(rest), `"scanned":1,"open":1`) {
		t.Fatalf("interrupted scan: exit %d\n%s", code, rest)
	}
	out, code = inNS("tcp", "10.78.0.0/30", "-p", "80,81", "--timeout", "300ms", "--show-closed")
	if code != 1 || len(regexp.MustCompile(`/tcp +filtered`).FindAllString(out, -1)) != 8 || !strings.Contains(out, "4 addresses scanned, 0 open ports in all") {
		t.Fatalf("CIDR scan: exit %d\n%s", code, out)
	}
}
