//go:build linux

package main

// Tests of the shell examples in scripts/examples: each script is run with
// bash and $NETTOOL pointing at the built binary, against servers this test
// starts on loopback, and what a user sees (stdout, exit code) is checked.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// examplesScripts are the examples every lint check runs over.
var examplesScripts = []string{"wait-for-port.sh", "check-dns.sh", "http-health.sh", "myip-change.sh"}

// examplesPath is the absolute path of an example script.
func examplesPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "scripts", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// examplesEnv is the environment the scripts run in: NETTOOL is the built
// binary, jq's directory comes first on PATH, and every other NETTOOL_*
// variable of the caller's environment is left out so it cannot change a flag.
func examplesEnv(t *testing.T) []string {
	t.Helper()
	jq := probetest.LookPeer(t, "jq")
	env := []string{"NETTOOL=" + nettoolBinary(t)}
	path := filepath.Dir(jq)
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "NETTOOL"):
		case strings.HasPrefix(kv, "PATH="):
			path += ":" + strings.TrimPrefix(kv, "PATH=")
		default:
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+path)
}

// examplesResult is what a run of a script showed.
type examplesResult struct {
	stdout, stderr string
	code           int
}

// examplesCommand prepares `bash SCRIPT ARGS...` with a generous deadline.
func examplesCommand(t *testing.T, script string, args ...string) (*exec.Cmd, context.CancelFunc) {
	t.Helper()
	bash := probetest.LookPeer(t, "bash")
	env := examplesEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := exec.CommandContext(ctx, bash, append([]string{examplesPath(t, script)}, args...)...)
	cmd.Env = env
	return cmd, cancel
}

// examplesWait waits for a started command and collects its result.
func examplesWait(t *testing.T, cmd *exec.Cmd, stdout *bytes.Buffer, stderr fmt.Stringer) examplesResult {
	t.Helper()
	err := cmd.Wait()
	r := examplesResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %q: %v", cmd.Args, err)
	}
	return r
}

// examplesRun runs a script to the end.
func examplesRun(t *testing.T, script string, args ...string) examplesResult {
	t.Helper()
	cmd, cancel := examplesCommand(t, script, args...)
	defer cancel()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return examplesWait(t, cmd, &out, &errb)
}

// examplesExpect checks the exit code and that stdout matches re (anchored,
// one or more whole lines).
func examplesExpect(t *testing.T, r examplesResult, code int, re string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`^` + re + `\n$`).MatchString(r.stdout) {
		t.Fatalf("stdout does not match %q:\n%s\nstderr:\n%s", re, r.stdout, r.stderr)
	}
}

// examplesWatchResets reads every IPv4 packet on the loopback interface
// (AF_PACKET, root only) and closes the channel when a TCP reset leaves the
// given port: the kernel refusing a connection attempt to it.
func examplesWatchResets(t *testing.T, port int) <-chan struct{} {
	t.Helper()
	const ethIP = syscall.ETH_P_IP
	proto := (ethIP&0xff)<<8 | ethIP>>8 // network byte order
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, proto)
	if err != nil {
		t.Fatalf("packet socket: %v", err)
	}
	lo := 0
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			lo = ifc.Index
			break
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: lo}); err != nil {
		syscall.Close(fd)
		t.Fatalf("bind packet socket to the loopback interface (%d): %v", lo, err)
	}
	// A read timeout lets the reader see that the test is over.
	tv := syscall.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	seen := make(chan struct{})
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for !stop.Load() {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil || n < 20 {
				continue
			}
			ihl := int(buf[0]&0x0f) * 4
			if buf[0]>>4 != 4 || buf[9] != syscall.IPPROTO_TCP || n < ihl+14 {
				continue
			}
			tcp := buf[ihl:n]
			if int(tcp[0])<<8|int(tcp[1]) == port && tcp[13]&0x04 != 0 {
				close(seen)
				return
			}
		}
	}()
	t.Cleanup(func() {
		stop.Store(true)
		<-done
		syscall.Close(fd)
	})
	return seen
}

// examplesReservePort binds a loopback TCP port without listening on it:
// connections to it are refused, and no other process can take the port.
// listen turns it into a listener (which the test closes at cleanup).
func examplesReservePort(t *testing.T) (addr string, listen func()) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "examples-port")
	t.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	return addr, func() {
		if err := syscall.Listen(fd, 64); err != nil {
			t.Error(err)
			return
		}
		ln, err := net.FileListener(f)
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { ln.Close() })
	}
}

func TestExamplesLint(t *testing.T) {
	bash := probetest.LookPeer(t, "bash")
	shellcheck := probetest.LookPeer(t, "shellcheck")
	readme, err := os.ReadFile(examplesPath(t, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	outward := regexp.MustCompile(`https?://|@[0-9a-z]|\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b`)
	for _, name := range examplesScripts {
		t.Run(name, func(t *testing.T) {
			p := examplesPath(t, name)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&0o111 != 0o111 {
				t.Errorf("%s is not executable (%v)", name, fi.Mode())
			}
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			for _, want := range []string{"#!/usr/bin/env bash\n# " + name + ": ", "\n# Usage:   " + name + " ", "\n# Exit:    ", "\n# Env:     NETTOOL ", "\nset -euo pipefail\n", "NETTOOL=${NETTOOL:-nettool}\n"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q", name, want)
				}
			}
			// Targets come from the caller: no URL, server or address in the code.
			sc := bufio.NewScanner(bytes.NewReader(src))
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if !strings.HasPrefix(line, "#") && outward.MatchString(line) {
					t.Errorf("%s:%d names a target in code: %s", name, n, line)
				}
			}
			if !strings.Contains(string(readme), name) {
				t.Errorf("scripts/examples/README.md does not mention %s", name)
			}
			if out, err := exec.Command(bash, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", name, err, out)
			}
			if out, err := exec.Command(shellcheck, p).CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s: %v\n%s", name, err, out)
			}
			r := examplesRun(t, name)
			if r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "usage: "+name+" ") {
				t.Errorf("%s with no argument: exit %d, stdout %q, stderr %q; want exit 2 and a usage line", name, r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestExamplesWaitForPort(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addr := ln.Addr().String()
		r := examplesRun(t, "wait-for-port.sh", addr, "30")
		examplesExpect(t, r, 0, `open: `+regexp.QuoteMeta(addr)+` accepted a connection in [0-9.]+ ms after [0-9.]+ ms \(1 attempt\)`)
	})

	t.Run("opens later", func(t *testing.T) {
		// The port starts listening only once the script's first attempt
		// has been refused: the test watches loopback for the reset the
		// kernel sends back, so at least one attempt failed before it opened.
		probetest.RequireRoot(t, "watching loopback for the script's first refused attempt (AF_PACKET socket)")
		addr, listen := examplesReservePort(t)
		port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
		refused := examplesWatchResets(t, port)
		cmd, cancel := examplesCommand(t, "wait-for-port.sh", addr, "60s")
		defer cancel()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		var r examplesResult
		go func() {
			defer close(exited)
			r = examplesWait(t, cmd, &out, &errb)
		}()
		select {
		case <-refused:
			listen()
		case <-exited:
			t.Fatalf("the script ended before its first attempt was seen: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		<-exited
		examplesExpect(t, r, 0, `open: `+regexp.QuoteMeta(addr)+` accepted a connection in [0-9.]+ ms after [0-9.]+ ms \(([2-9]|[1-9][0-9]+) attempts\)`)
	})

	t.Run("never opens", func(t *testing.T) {
		addr, _ := examplesReservePort(t)
		r := examplesRun(t, "wait-for-port.sh", addr, "1")
		// The last attempt may be cut short by the deadline, so it can end
		// in a timeout rather than a refusal.
		examplesExpect(t, r, 1, `timeout: `+regexp.QuoteMeta(addr)+` did not open within 1s \([0-9]+ attempts?, last: (connection_refused|timeout)\)`)
	})

	t.Run("bad timeout", func(t *testing.T) {
		r := examplesRun(t, "wait-for-port.sh", "127.0.0.1:1", "soon")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "nettool: tcp: ") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 with nettool's usage line", r.code, r.stdout, r.stderr)
		}
	})
}

// examplesNeedResolve skips (or, under NETTOOL_REQUIRE_PEERS=1, fails) when
// this build of nettool has no resolve command yet.
func examplesNeedResolve(t *testing.T) {
	t.Helper()
	_, stderr, code := runBinary(t, nil, "resolve", "--help")
	if code == 0 {
		return
	}
	if strings.Contains(stderr, `unknown command "resolve"`) {
		probetest.Unavailable(t, "THIS nettool BUILD HAS NO `resolve` COMMAND (branch resolve not merged yet): check-dns.sh IS NOT TESTED")
	}
	t.Fatalf("nettool resolve --help: exit %d: %s", code, stderr)
}

func TestExamplesCheckDNS(t *testing.T) {
	examplesNeedResolve(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := serve.NewDNSServer(serve.DNSOptions{Addr: "127.0.0.1:0"}) // the built-in example.test zone
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	at := "@" + srv.Addr()
	q := regexp.QuoteMeta(srv.Addr())

	// A server that reads queries and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	cases := []struct {
		name string
		args []string
		code int
		re   string
	}{
		{"cname to A and AAAA, v4", []string{"www.example.test", "127.0.0.1", at}, 0,
			`ok: www\.example\.test resolves to 127\.0\.0\.1 at ` + q + ` \(found: 127\.0\.0\.1 ::1\)`},
		{"cname to A and AAAA, v6", []string{"www.example.test", "::1", at}, 0,
			`ok: www\.example\.test resolves to ::1 at ` + q + ` \(found: 127\.0\.0\.1 ::1\)`},
		{"A only", []string{"mail.example.test", "127.0.0.2", at}, 0,
			`ok: mail\.example\.test resolves to 127\.0\.0\.2 at ` + q + ` \(found: 127\.0\.0\.2\)`},
		{"other address", []string{"www.example.test", "192.0.2.9", at}, 1,
			`mismatch: www\.example\.test does not resolve to 192\.0\.2\.9 at ` + q + ` \(found: 127\.0\.0\.1 ::1\)`},
		{"nxdomain", []string{"nope.example.test", "127.0.0.1", at}, 1,
			`mismatch: nope\.example\.test does not resolve to 127\.0\.0\.1 at ` + q + ` \(found: nothing: dns_nxdomain\)`},
		{"one of two servers silent", []string{"host.example.test", "127.0.0.1", at, "@" + silent.LocalAddr().String(), "--timeout", "300ms", "--retries", "0"}, 1,
			`ok: host\.example\.test resolves to 127\.0\.0\.1 at ` + q + ` \(found: 127\.0\.0\.1 ::1\)\n` +
				`mismatch: host\.example\.test does not resolve to 127\.0\.0\.1 at ` + regexp.QuoteMeta(silent.LocalAddr().String()) + ` \(found: nothing: timeout\)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			examplesExpect(t, examplesRun(t, "check-dns.sh", c.args...), c.code, c.re)
		})
	}

	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{{"www.example.test", "not-an-address", at}, {"bad..name", "127.0.0.1", at}} {
			r := examplesRun(t, "check-dns.sh", args...)
			if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, r.code, r.stdout, r.stderr)
			}
		}
	})
}

func TestExamplesHTTPHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0"})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u := srv.URL()

	// A server whose response breaks RFC 9112 (two Content-Lengths).
	bad, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer bad.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := bad.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(c)
			for {
				l, err := br.ReadString('\n')
				if err != nil || l == "\r\n" {
					break
				}
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"))
			c.Close()
		}
	}()

	// A server that accepts and never says a word.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	closed, _ := examplesReservePort(t)

	num := `[0-9]+(\.[0-9]+)?`
	cases := []struct {
		name string
		args []string
		code int
		re   string
	}{
		{"healthy", []string{u + "/"}, 0, `ok: ` + regexp.QuoteMeta(u) + `/ status 200 in ` + num + ` ms`},
		{"healthy within a generous limit", []string{u + "/", "60000"}, 0, `ok: ` + regexp.QuoteMeta(u) + `/ status 200 in ` + num + ` ms`},
		{"redirect followed", []string{u + "/redirect/2", "-L"}, 0, `ok: ` + regexp.QuoteMeta(u) + `/redirect/2 status 200 in ` + num + ` ms`},
		{"status 500", []string{u + "/status/500"}, 1, `fail: ` + regexp.QuoteMeta(u) + `/status/500 status 500 in ` + num + ` ms`},
		{"status 404", []string{u + "/nothing-here", "60000"}, 1, `fail: ` + regexp.QuoteMeta(u) + `/nothing-here status 404 in ` + num + ` ms`},
		{"connection refused", []string{"http://" + closed + "/"}, 1,
			`fail: http://` + regexp.QuoteMeta(closed) + `/ connection_refused: .*connection refused`},
		{"silent server, short timeout", []string{"http://" + silent.Addr().String() + "/", "60000", "--timeout", "500ms"}, 1,
			`fail: http://` + regexp.QuoteMeta(silent.Addr().String()) + `/ timeout: .*`},
		{"malformed response", []string{"http://" + bad.Addr().String() + "/"}, 1,
			`fail: http://` + regexp.QuoteMeta(bad.Addr().String()) + `/ status 200 in ` + num + ` ms \(protocol_error: .*\)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			examplesExpect(t, examplesRun(t, "http-health.sh", c.args...), c.code, c.re)
		})
	}

	t.Run("slower than MAX_MS", func(t *testing.T) {
		// /drip sends 3 bytes 200 ms apart: the exchange cannot take less than
		// 400 ms, whatever the machine's load.
		target := u + "/drip?bytes=3&interval=200ms"
		r := examplesRun(t, "http-health.sh", target, "100")
		examplesExpect(t, r, 1, `slow: `+regexp.QuoteMeta(target)+` status 200 in `+num+` ms \(limit 100 ms\)`)
		ms, err := strconv.ParseFloat(regexp.MustCompile(` in ([0-9.]+) ms`).FindStringSubmatch(r.stdout)[1], 64)
		if err != nil || ms < 400 {
			t.Fatalf("total time %v ms (%v), want at least 400", ms, err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{{u + "/", "fast"}, {"http://[zz"}} {
			r := examplesRun(t, "http-health.sh", args...)
			if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", args, r.code, r.stdout, r.stderr)
			}
		}
	})
}

func TestExamplesMyIPChange(t *testing.T) {
	// Two stand-in providers on loopback; each answers the address it is set
	// to. 203.0.113.0/24 is a documentation range, hence --allow-documentation.
	var answers [2]atomic.Value
	var provArgs []string
	for i := range answers {
		answers[i].Store("203.0.113.7")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, answers[i].Load().(string))
		}))
		defer srv.Close()
		provArgs = append(provArgs, "--provider", srv.URL+"/ip")
	}
	set := func(a, b string) {
		answers[0].Store(a)
		answers[1].Store(b)
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "myip.state")
	run := func() examplesResult {
		t.Helper()
		return examplesRun(t, "myip-change.sh", append([]string{state, "--allow-documentation", "--timeout", "20s"}, provArgs...)...)
	}
	stateIs := func(want string) {
		t.Helper()
		got, err := os.ReadFile(state)
		if err != nil || string(got) != want {
			t.Fatalf("state file holds %q (%v), want %q", got, err, want)
		}
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != 1 {
			t.Fatalf("the state directory holds %v (%v), want only the state file", ents, err)
		}
	}

	examplesExpect(t, run(), 10, `new: 203\.0\.113\.7 \(no address in `+regexp.QuoteMeta(state)+` yet\)`)
	stateIs("203.0.113.7\n")

	examplesExpect(t, run(), 0, `unchanged: 203\.0\.113\.7`)
	stateIs("203.0.113.7\n")

	set("203.0.113.8", "203.0.113.8")
	examplesExpect(t, run(), 10, `changed: 203\.0\.113\.7 -> 203\.0\.113\.8`)
	stateIs("203.0.113.8\n")

	examplesExpect(t, run(), 0, `unchanged: 203\.0\.113\.8`)

	// The providers disagree: no quorum, and the stored address stays.
	set("203.0.113.7", "203.0.113.9")
	examplesExpect(t, run(), 1, `no consensus: IPv4: .* \(`+regexp.QuoteMeta(state)+` left as it was\)`)
	stateIs("203.0.113.8\n")

	// A family whose vote fails keeps its stored address: these providers
	// can only be asked over IPv4, so the stored IPv6 address stays.
	if err := os.WriteFile(state, []byte("2001:db8::1\n203.0.113.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set("203.0.113.7", "203.0.113.7")
	examplesExpect(t, run(), 10, `changed: 203\.0\.113\.8 2001:db8::1 -> 203\.0\.113\.7 2001:db8::1`)
	stateIs("203.0.113.7\n2001:db8::1\n")
	examplesExpect(t, run(), 0, `unchanged: 203\.0\.113\.7 2001:db8::1`)

	t.Run("no provider given", func(t *testing.T) {
		r := examplesRun(t, "myip-change.sh", state, "--allow-documentation")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "--provider") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 asking for --provider", r.code, r.stdout, r.stderr)
		}
		stateIs("203.0.113.7\n2001:db8::1\n")
	})

	t.Run("bad provider spec", func(t *testing.T) {
		r := examplesRun(t, "myip-change.sh", state, "--provider", "ftp://x")
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "nettool: myip: bad provider") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 with nettool's line", r.code, r.stdout, r.stderr)
		}
		stateIs("203.0.113.7\n2001:db8::1\n")
	})
}
