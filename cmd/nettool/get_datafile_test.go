package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// getCountServer reads each request's body (Content-Length) and answers
// with how many bytes it got; /307 first sends the client on to /count with
// a 307, which repeats the body.
func getCountServer(t *testing.T) string {
	return getServeConn(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		var path string
		var length int64
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if path == "" {
				path = strings.Fields(l)[1]
			}
			if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
				length, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
			if l == "\r\n" {
				break
			}
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(br, length))
		if path == "/307" {
			io.WriteString(c, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /count\r\nContent-Length: 0\r\n\r\n")
			return
		}
		msg := fmt.Sprintf("got %d", n)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
	})
}

func getServeConn(t *testing.T, fn func(c net.Conn)) string {
	return probetest.ServeTCP(t, func(c net.Conn, _ <-chan struct{}) { fn(c) })
}

// --data-file of 50 MB is streamed from the file, never held in memory;
// --show-max caps what is shown of it (text and JSON); a 307 sends it
// again, whole.
func TestGetDataFileStreams(t *testing.T) {
	addr := getCountServer(t)
	f := filepath.Join(t.TempDir(), "big")
	const size = 50_000_000
	fh, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString("line one\nline two\n")
	fh.Truncate(size)
	fh.Close()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, errs, code := runCLI(t, "get", addr+"/count", "--data-file", f, "--show-max", "100")
	runtime.ReadMemStats(&after)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("got %d", size)) {
		t.Fatalf("exit %d stderr %q\n%.2000s", code, errs, out)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 20<<20 {
		t.Errorf("sending 50 MB allocated %d MB: the body was read into memory", alloc>>20)
	}
	if !strings.Contains(out, "\n> Content-Length: 50000000\n> Content-Type: application/x-www-form-urlencoded\n>\n> line one\n> line two\n") ||
		!strings.Contains(out, fmt.Sprintf("* ... %d more request body bytes not shown (--show-max)\n* Request body: %d bytes\n", size-100, size)) {
		t.Errorf("request as shown:\n%.3000s", out)
	}
	if len(out) > 8<<10 {
		t.Errorf("--show-max 100 printed %d bytes", len(out))
	}

	out, _, code = runCLI(t, "get", addr+"/307", "-L", "--data-file", f, "--json")
	var doc struct {
		Hops []struct {
			RawRequest    string `json:"raw_request"`
			RawRequestCut bool   `json:"raw_request_truncated"`
			Request       struct {
				BodyBytes int64 `json:"body_bytes"`
			} `json:"request"`
			Response struct {
				Body string `json:"body"`
			} `json:"response"`
		} `json:"hops"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Hops) != 2 {
		t.Fatalf("307 --json: exit %d %v %.500s", code, err, out)
	}
	for i, h := range doc.Hops {
		if len(h.RawRequest) > 70<<10 || !h.RawRequestCut || h.Request.BodyBytes != size {
			t.Errorf("hop %d: raw_request of %d bytes, truncated %v, body_bytes %d", i, len(h.RawRequest), h.RawRequestCut, h.Request.BodyBytes)
		}
	}
	if b := doc.Hops[1].Response.Body; b != fmt.Sprintf("got %d", size) {
		t.Errorf("after the 307 the server got %q", b)
	}
}

// Against a server that never reads, --timeout holds while the body is
// being written.
func TestGetDataFileTimeout(t *testing.T) {
	addr := probetest.ServeTCP(t, func(c net.Conn, stop <-chan struct{}) { <-stop })
	f := filepath.Join(t.TempDir(), "big")
	fh, _ := os.Create(f)
	fh.Truncate(50_000_000)
	fh.Close()
	start := time.Now()
	_, errs, code := runCLI(t, "get", addr, "--data-file", f, "--timeout", "500ms", "-q")
	if code != exitFailed || !strings.HasPrefix(errs, "nettool: get: timeout: sending the request: ") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	// A bound 40 times the deadline, which no load on this machine
	// stretches that far; reading and escaping the whole body took 37 s.
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("--timeout 500ms took %v", d)
	}
}
