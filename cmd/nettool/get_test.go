package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/httpget"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/probetest"
	"github.com/nettool/nettool/serve"
)

// getServe starts nettool's own HTTP server for a test.
func getServe(t *testing.T, tlsOn bool) *serve.HTTPServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := serve.NewHTTPServer(serve.HTTPOptions{Addr: "127.0.0.1:0", TLS: tlsOn, DripInterval: time.Millisecond})
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Wait() })
	return s
}

// getRawServer answers every connection with fn after reading the request
// head; it stops with the test.
func getRawServer(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	return probetest.ServeTCP(t, func(c net.Conn, _ <-chan struct{}) {
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		fn(c)
	})
}

var getLocalPortRe = regexp.MustCompile(`\* Connected 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:\d+ in [0-9.]+ ms \(local port (\d+) picked by the OS\)`)

func TestGetJourney(t *testing.T) {
	s := getServe(t, false)
	out, errs, code := runCLI(t, "get", s.Addr())
	if code != 0 || errs != "" {
		t.Fatalf("code %d stderr %q", code, errs)
	}
	m := getLocalPortRe.FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no connection line with the OS-picked port:\n%s", out)
	}
	for _, want := range []string{
		"* Resolve 127.0.0.1: an IP address, no lookup\n",
		"> GET / HTTP/1.1\n> Host: " + s.Addr() + "\n> User-Agent: nettool/",
		"> Accept: */*\n> Accept-Encoding: gzip, deflate\n> Connection: close\n>\n",
		"< HTTP/1.1 200 OK\n", "< Content-Type: text/html; charset=utf-8\n",
		"<h1>Hello from nettool serve http</h1>", "port " + m[1] + " (the port your operating system picked",
		"* Body: ", "Timings (ms)", "namelookup", "connect", "starttransfer", "total",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("journey lacks %q:\n%s", want, out)
		}
	}
	// Flags after the target; 404 is a complete response: exit 0, unless --fail.
	out, errs, code = runCLI(t, "get", s.URL()+"/status/404", "-q")
	if code != 0 || !strings.Contains(out, "< HTTP/1.1 404 Not Found") {
		t.Fatalf("404: code %d out %q err %q", code, out, errs)
	}
	_, errs, code = runCLI(t, "get", s.URL()+"/status/503", "--fail")
	if code != 1 || !strings.Contains(errs, "nettool: get: http_status: status 503 (--fail)") {
		t.Fatalf("--fail: code %d err %q", code, errs)
	}
}

func TestGetBodyForScripts(t *testing.T) {
	s := getServe(t, false)
	cases := map[string]string{
		"/gzip":       strings.Repeat("This body was compressed by nettool serve http; nettool get decodes it.\n", 20),
		"/deflate":    strings.Repeat("This body was compressed by nettool serve http; nettool get decodes it.\n", 20),
		"/chunked/70": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\nabcdefg",
		"/ip":         "127.0.0.1\n",
	}
	for path, want := range cases {
		out, errs, code := runCLI(t, "get", "-b", s.URL()+path)
		if code != 0 || out != want || errs != "" {
			t.Errorf("-b %s: code %d out %q err %q", path, code, out, errs)
		}
	}
	// Binary bodies come out byte for byte when stdout is not a terminal.
	out, _, code := runCLI(t, "get", "--body", s.URL()+"/bytes/300000")
	if code != 0 || len(out) != 300000 || !strings.Contains(out, "\x00") {
		t.Fatalf("binary -b: code %d len %d", code, len(out))
	}
	// -O writes the body to a file, the journey still on stdout.
	file := filepath.Join(t.TempDir(), "body")
	out, _, code = runCLI(t, "get", "-O", file, s.URL()+"/gzip")
	got, _ := os.ReadFile(file)
	if code != 0 || string(got) != cases["/gzip"] || !strings.Contains(out, "written to "+file) || !strings.Contains(out, "decoded from") {
		t.Fatalf("-O: code %d file %q out %s", code, got, out)
	}
	// -b -v: the journey on stderr.
	out, errs, code := runCLI(t, "get", "-b", "-v", s.URL()+"/ip")
	if code != 0 || out != "127.0.0.1\n" || !strings.Contains(errs, "> GET /ip HTTP/1.1") {
		t.Fatalf("-b -v: code %d out %q err %q", code, out, errs)
	}
	// --data-file and -X.
	df := filepath.Join(t.TempDir(), "data")
	os.WriteFile(df, []byte("from a file\n"), 0o600)
	out, _, code = runCLI(t, "get", "-b", "-X", "PUT", "--data-file", df, s.URL()+"/mirror")
	if code != 0 || !strings.HasPrefix(out, "PUT /mirror HTTP/1.1\r\n") || !strings.HasSuffix(out, "Content-Length: 12\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nfrom a file\n") {
		t.Fatalf("--data-file: code %d out %q", code, out)
	}
	// HEAD.
	out, _, code = runCLI(t, "get", "-X", "HEAD", s.URL()+"/bytes/10")
	if code != 0 || !strings.Contains(out, "> HEAD /bytes/10 HTTP/1.1") || !strings.Contains(out, "< Content-Length: 10") || !strings.Contains(out, "no body for this status or method") {
		t.Fatalf("HEAD: %s", out)
	}
	// Headers edited and a body sent, seen by /mirror.
	out, _, code = runCLI(t, "get", "-b", s.URL()+"/mirror", "-H", "X-Foo: bar", "-H", "Accept-Encoding:", "-H", "user-agent: test-agent", "--data", "k=v", "--http1.0")
	want := "POST /mirror HTTP/1.0\r\nHost: " + s.Addr() + "\r\nuser-agent: test-agent\r\nAccept: */*\r\nConnection: close\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Foo: bar\r\n\r\nk=v"
	if code != 0 || out != want {
		t.Fatalf("mirror:\n got %q\nwant %q", out, want)
	}
}

func TestGetRawAndJSON(t *testing.T) {
	s := getServe(t, false)
	out, _, code := runCLI(t, "get", "--raw", s.URL()+"/chunked/30")
	for _, want := range []string{"> GET /chunked/30 HTTP/1.1\\r\\n\n", "< Transfer-Encoding: chunked\\r\\n\n", "< 1e\\r\\n\n", "< abcdefghijklmnopqrstuvwxyz0123\\r\\n\n", "< 0\\r\\n\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("--raw lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCLI(t, "get", "--raw", s.URL()+"/gzip")
	if code != 0 || !strings.Contains(out, `< \x1f\x8b\x08`) {
		t.Errorf("--raw must show the compressed bytes:\n%s", out)
	}
	out, errs, code := runCLI(t, "get", "-L", s.URL()+"/redirect/2", "--json")
	var doc struct {
		Type      string `json:"type"`
		OK        bool   `json:"ok"`
		Status    int    `json:"status"`
		Redirects int    `json:"num_redirects"`
		Hops      []struct {
			URL        string `json:"url"`
			RawRequest string `json:"raw_request"`
			Connect    struct {
				Local     string `json:"local"`
				LocalPort int    `json:"local_port"`
			} `json:"connect"`
			Response struct {
				Status  int    `json:"status"`
				RawHead string `json:"raw_head"`
				Body    string `json:"body"`
				Framing string `json:"framing"`
			} `json:"response"`
			Timings map[string]float64 `json:"timings"`
		} `json:"hops"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("json: %v code %d err %q out %s", err, code, errs, out)
	}
	if doc.Type != "http" || !doc.OK || doc.Status != 200 || doc.Redirects != 2 || len(doc.Hops) != 3 {
		t.Fatalf("json doc: %+v", doc)
	}
	h := doc.Hops[0]
	if h.Response.Status != 302 || !strings.HasPrefix(h.RawRequest, "GET /redirect/2 HTTP/1.1\r\n") || !strings.HasPrefix(h.Response.RawHead, "HTTP/1.1 302 Found\r\n") || h.Connect.LocalPort == 0 {
		t.Fatalf("hop 0: %+v", h)
	}
	for _, k := range []string{"namelookup_ms", "connect_ms", "appconnect_ms", "pretransfer_ms", "starttransfer_ms", "total_ms"} {
		if _, ok := h.Timings[k]; !ok {
			t.Errorf("timings lack %s", k)
		}
	}
	if !strings.Contains(doc.Hops[2].Response.Body, "Hello from nettool") {
		t.Fatalf("final body: %q", doc.Hops[2].Response.Body)
	}
	// Text -L shows each hop.
	out, _, _ = runCLI(t, "get", "-L", s.URL()+"/redirect/2")
	if strings.Count(out, "== hop ") != 3 || !strings.Contains(out, "* Redirect to "+s.URL()+"/redirect/1") {
		t.Fatalf("-L text:\n%s", out)
	}
}

// A hostile server: escape sequences in the status line, headers and body
// reach the terminal escaped; each RFC 9112 violation is one warning line.
func TestGetHostileEscapes(t *testing.T) {
	addr := getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\x1b]0;PWNED\x07\r\nEvil: yes\x1b[2Ano\r\nContent-Length: 3\r\nContent-Length: 12\r\n\r\n\x1b[2Jhi\x9b31m\u202e!\n")
	})
	for _, args := range [][]string{{"get", addr}, {"get", "--raw", addr}, {"get", "-b", addr}} {
		out, errs, code := runCLI(t, args...)
		if code != 1 {
			t.Errorf("%q: exit %d, want 1", args, code)
		}
		if args[1] == "-b" {
			// The body alone, byte for byte, for a script (stdout is not a terminal).
			if out != "\x1b[2Jhi\x9b31m\u202e!\n" {
				t.Errorf("-b must pass the body through unchanged to a pipe: %q", out)
			}
		} else if getHasBytes(out, 0x1b, 0x07, 0x9b) || strings.Contains(out, "\u202e") {
			t.Errorf("%q: raw control bytes reached stdout: %q", args, out)
		}
		if args[1] != "-b" && (!strings.Contains(out, `OK\x1b]0;PWNED\x07`) || !strings.Contains(out, `Evil: yes\x1b[2Ano`)) {
			t.Errorf("%q: escaped text missing:\n%s", args, out)
		}
		warnings := 0
		for _, l := range strings.Split(errs, "\n") {
			if strings.HasPrefix(l, "nettool: get: warning: ") {
				warnings++
			}
		}
		if warnings != 3 || !strings.Contains(errs, "control_in_reason") || !strings.Contains(errs, "control_in_field") || !strings.Contains(errs, "conflicting_content_length") {
			t.Errorf("%q: want 3 warnings:\n%s", args, errs)
		}
	}
}

func TestGetMalformedExit(t *testing.T) {
	cases := map[string]string{
		"bare_lf":                              "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
		"obs_fold":                             "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		"transfer_encoding_and_content_length": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"bad_chunk_size":                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n",
		"not_http":                             "SSH-2.0-OpenSSH_9.2\r\n",
		"incomplete":                           "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
	}
	for code, resp := range cases {
		addr := getRawServer(t, func(c net.Conn) { io.WriteString(c, resp) })
		out, errs, exit := runCLI(t, "get", addr)
		if exit != 1 || !strings.Contains(errs, "warning: "+code+": ") {
			t.Errorf("%s: exit %d stderr %q", code, exit, errs)
		}
		if code == "not_http" && !strings.Contains(out, "SSH-2.0-OpenSSH_9.2") {
			t.Errorf("the non-HTTP reply must still be shown:\n%s", out)
		}
	}
	// A decompression bomb is cut off.
	var bomb strings.Builder
	bomb.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n")
	bomb.Write(getGzipZeros(t, 8<<20))
	addr := getRawServer(t, func(c net.Conn) { io.WriteString(c, bomb.String()) })
	_, errs, code := runCLI(t, "get", "-b", addr) // the default --max-ratio stops it
	if code != 1 || !strings.Contains(errs, "decompression_ratio") {
		t.Fatalf("bomb: exit %d err %q", code, errs)
	}
}

func TestGetTimeouts(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	drip := getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
		for {
			if _, err := c.Write([]byte(".")); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	out, errs, code := runCLI(t, "get", drip, "--timeout", "2s")
	if code != 1 || !strings.Contains(errs, "nettool: get: timeout: ") || !strings.Contains(out, "< HTTP/1.1 200 OK") {
		t.Fatalf("drip: code %d err %q out %s", code, errs, out)
	}
	silent := getRawServer(t, func(c net.Conn) { <-stop })
	_, errs, code = runCLI(t, "get", silent, "-m", "200ms", "--json")
	if code != 1 || !strings.Contains(errs, "timeout") {
		t.Fatalf("silent: code %d err %q", code, errs)
	}
}

func TestGetTLS(t *testing.T) {
	s := getServe(t, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, s.CertPEM(), 0o600)
	out, errs, code := runCLI(t, "get", s.URL()+"/ip", "--cacert", ca)
	if code != 0 || !strings.Contains(out, "* TLS handshake: TLS 1.3, ") || !strings.Contains(out, "verified: yes") || !strings.Contains(out, "127.0.0.1\n") {
		t.Fatalf("--cacert: code %d err %q out %s", code, errs, out)
	}
	out, errs, code = runCLI(t, "get", s.URL()+"/ip")
	if code != 1 || !strings.Contains(errs, "certificate_error") || !strings.Contains(out, "NOT verified") {
		t.Fatalf("untrusted: code %d err %q out %s", code, errs, out)
	}
	out, _, code = runCLI(t, "get", "-k", s.URL()+"/ip")
	if code != 0 || !strings.Contains(out, "NOT verified") || !strings.Contains(out, "(continuing: -k)") {
		t.Fatalf("-k: code %d out %s", code, out)
	}
	_, errs, code = runCLI(t, "get", s.URL()+"/ip", "--cacert", ca, "--sni", "other.example")
	if code != 1 || !strings.Contains(errs, "certificate_error") {
		t.Fatalf("--sni mismatch: code %d err %q", code, errs)
	}
}

func TestGetUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"get"}, {"get", "a", "b"}, {"get", "ftp://x"}, {"get", "http://u:p@h/"}, {"get", "host:0"},
		{"get", "-H", "bad header", "example.test"}, {"get", "-H", "X: a\r\nY: b", "example.test"}, {"get", "-X", "GET /", "example.test"},
		{"get", "-4", "-6", "example.test"}, {"get", "--resolve", "h:80", "example.test"}, {"get", "--max-size", "lots", "example.test"},
		{"get", "--cacert", "/nonexistent", "example.test"}, {"get", "-b", "--json", "example.test"}, {"get", "--timeout", "0s", "example.test"},
		{"get", "--data", "x", "--data-file", "/dev/null", "example.test"},
	} {
		out, errs, code := runCLI(t, args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "nettool: get: ") {
			t.Errorf("%q: code %d out %q err %q", args, code, out, errs)
		}
	}
	// Refused: exit 1 with the failure code.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, errs, code := runCLI(t, "get", addr)
	if code != 1 || !strings.Contains(errs, "connection_refused") {
		t.Fatalf("refused: code %d err %q", code, errs)
	}
}

func TestGetResolveFlag(t *testing.T) {
	s := getServe(t, false)
	_, port, _ := net.SplitHostPort(s.Addr())
	out, errs, code := runCLI(t, "get", "-b", "http://my.test:"+port+"/mirror", "--resolve", "my.test:"+port+":127.0.0.1")
	if code != 0 || !strings.Contains(out, "Host: my.test:"+port+"\r\n") {
		t.Fatalf("--resolve: code %d out %q err %q", code, out, errs)
	}
	out, _, code = runCLI(t, "get", "localhost:"+port+"/ip", "-4")
	if code != 0 || !strings.Contains(out, "* Resolve localhost: 127.0.0.1 (localhost names are loopback, no lookup)") {
		t.Fatalf("localhost -4: code %d out %s", code, out)
	}
}

// Ctrl-C while waiting: exit 130 with what was measured.
func TestGetBinaryInterrupt(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	accepted := make(chan struct{}, 1)
	addr := getRawServer(t, func(c net.Conn) {
		accepted <- struct{}{}
		<-stop
	})
	bin := nettoolBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "get", addr)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-ctx.Done():
		t.Fatal("nettool never connected")
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 130 || !strings.Contains(out.String(), "* Connected") {
		t.Fatalf("interrupt: %v code %d out %q err %q", err, code, out.String(), errb.String())
	}
}

func getGzipZeros(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	z.Write(make([]byte, n))
	z.Close()
	return b.Bytes()
}

func TestGetDemoStep(t *testing.T) {
	out, errs, code := runCLI(t, "demo", "--no-color")
	if code != 0 || !strings.Contains(out, "$ nettool get localhost:") || !strings.Contains(out, "* Resolve localhost: 127.0.0.1, ::1") ||
		!strings.Contains(out, "picked by the OS") || !strings.Contains(out, "< HTTP/1.1 404 Not Found") {
		t.Fatalf("demo: code %d err %q\n%s", code, errs, out)
	}
}

// On a terminal, a binary body is summarised and text bodies are escaped.
func TestGetBodyOnTerminal(t *testing.T) {
	var b strings.Builder
	p := output.New(&b, io.Discard, output.Options{})
	g := &getPrinter{p: p, w: &b, tty: true}
	g.body(&httpget.Response{Body: []byte("\x00\x01\x1b[2J\x9b binary"), BodyBytes: 5000}, true)
	p.Flush()
	if getHasBytes(b.String(), 0x00, 0x1b, 0x9b) || !strings.Contains(b.String(), "Binary body (5000 bytes) not shown on a terminal") || !strings.Contains(b.String(), "0001") {
		t.Fatalf("binary on a terminal: %q", b.String())
	}
	b.Reset()
	g.body(&httpget.Response{Body: []byte("line one\r\nEvil\x1b]52;c;AAAA\x07 \u202e\n"), BodyBytes: 30}, true)
	if b.String() != "line one\nEvil\\x1b]52;c;AAAA\\x07 \\u202e\n" {
		t.Fatalf("text on a terminal: %q", b.String())
	}
}

func TestGetQuiet(t *testing.T) {
	s := getServe(t, false)
	out, _, code := runCLI(t, "get", "-q", s.URL()+"/ip")
	if code != 0 || strings.Contains(out, "* ") || strings.Contains(out, "Timings") || !strings.Contains(out, "> GET /ip HTTP/1.1") || !strings.HasSuffix(out, "<\n127.0.0.1\n") {
		t.Fatalf("-q: %q", out)
	}
}

// getHasBytes reports whether any of the raw bytes occurs in s.
func getHasBytes(s string, bs ...byte) bool {
	for _, c := range bs {
		if strings.IndexByte(s, c) >= 0 {
			return true
		}
	}
	return false
}

// The journey is shown as it happens: the request and the response head
// are on stdout while the server still holds the body back.
func TestGetBinaryLive(t *testing.T) {
	release := make(chan struct{})
	addr := getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
		<-release
		io.WriteString(c, "later")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nettoolBinary(t), "get", addr)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	sawHead := false
	for sc.Scan() {
		if sc.Text() == "< HTTP/1.1 200 OK" {
			sawHead = true
			break
		}
	}
	close(release)
	rest, _ := io.ReadAll(stdout)
	cmd.Wait()
	if !sawHead || !strings.Contains(string(rest), "later") || cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("live journey: head %v rest %q code %d", sawHead, rest, cmd.ProcessState.ExitCode())
	}
}

func TestGetFlagParsers(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "64KiB": 64 << 10, "1GiB": 1 << 30, "2M": 2e6, "10 KB": 1e4} {
		if got, err := getParseSize("x", in); err != nil || got != want {
			t.Errorf("size %q: %d %v", in, got, err)
		}
	}
	m, err := getParseResolve([]string{"Site.Test:8080:127.0.0.1,[::1]", "a:1:10.0.0.1"})
	if err != nil || len(m["site.test:8080"]) != 2 || m["site.test:8080"][1].String() != "::1" || len(m["a:1"]) != 1 {
		t.Fatalf("resolve: %v %v", m, err)
	}
}

// FuzzGetFlagParsers: size and --resolve values never panic and either
// parse to something sane or are usage errors.
func FuzzGetFlagParsers(f *testing.F) {
	for _, s := range []string{"64KiB", "1GiB", "-1", "9999999999999999999G", "h:80:127.0.0.1", "h:0:1.2.3.4", "h:80:[::1],1.2.3.4", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := getParseSize("x", s); err == nil && n < 0 {
			t.Fatalf("size %q -> %d", s, n)
		} else if err != nil && codeForUsage(err) != exitUsage {
			t.Fatalf("size %q: %v is not a usage error", s, err)
		}
		m, err := getParseResolve([]string{s})
		if err != nil {
			if codeForUsage(err) != exitUsage {
				t.Fatalf("resolve %q: %v is not a usage error", s, err)
			}
			return
		}
		for k, v := range m {
			if len(v) == 0 || !strings.Contains(k, ":") {
				t.Fatalf("resolve %q -> %v", s, m)
			}
		}
	})
}

func codeForUsage(err error) int {
	code, _ := codeFor(err)
	return code
}

func TestGetTrailers(t *testing.T) {
	addr := getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Sum: \x1b[31m42\r\n\r\n")
	})
	out, errs, code := runCLI(t, "get", addr)
	if code != 1 || !strings.Contains(errs, "control_in_field") || !strings.Contains(out, "hello\n") || !strings.Contains(out, `< X-Sum: \x1b[31m42   (trailer)`) || !strings.Contains(out, "1 trailer field") {
		t.Fatalf("trailers: code %d err %q\n%s", code, errs, out)
	}
}
