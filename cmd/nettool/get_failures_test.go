package main

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nettool/nettool/httpget"
	"github.com/nettool/nettool/probe"
)

// getDocFailureCodes reads the failure-code table of docs/get.md.
func getDocFailureCodes(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../docs/get.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Failure codes\n")
	if !ok {
		t.Fatal("docs/get.md has no '## Failure codes' section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	codes := map[string]bool{}
	for _, l := range strings.Split(sec, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(cells[1], -1) {
			codes[m[1]] = true
		}
	}
	return codes
}

// A local cap is not a protocol violation: --max-size on a server that did
// nothing wrong fails with body_too_large and no warning.
func TestGetLocalLimits(t *testing.T) {
	s := getServe(t, false)
	_, errs, code := runCLI(t, "get", s.URL()+"/bytes/100", "--max-size", "10", "-q")
	if code != exitFailed || errs != "nettool: get: body_too_large: Content-Length 100 is over the limit of 10 bytes (--max-size)\n" {
		t.Fatalf("--max-size: exit %d stderr %q", code, errs)
	}
	_, errs, code = runCLI(t, "get", s.URL()+"/chunked/5000", "--max-size", "1000", "-q")
	if code != exitFailed || errs != "nettool: get: body_too_large: body is over the limit of 1000 bytes (--max-size)\n" {
		t.Fatalf("--max-size, chunked: exit %d stderr %q", code, errs)
	}
	for _, bad := range []string{"NaN", "Inf", "-Inf", "-1"} {
		_, errs, code = runCLI(t, "get", s.URL(), "--max-ratio", bad)
		if code != exitUsage || !strings.HasPrefix(errs, "nettool: get: bad --max-ratio ") {
			t.Errorf("--max-ratio %s: exit %d stderr %q", bad, code, errs)
		}
	}
}

// Every failure code get gives is in docs/get.md's table, and the table
// lists nothing get cannot give.
func TestGetFailureCodesDocumented(t *testing.T) {
	doc := getDocFailureCodes(t)
	s := getServe(t, false)
	tlsSrv := getServe(t, true)
	raw := func(resp string) string {
		return getRawServer(t, func(c net.Conn) { io.WriteString(c, resp) })
	}
	stop := make(chan struct{})
	defer close(stop)
	silent := getRawServer(t, func(c net.Conn) { <-stop })
	var bomb strings.Builder
	bomb.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n")
	bomb.Write(getGzipZeros(t, 8<<20))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()
	cases := map[string][]string{
		probe.FailConnRefused:          {refused},
		probe.FailEOF:                  {raw("")},
		httpget.FailIncomplete:         {raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")},
		httpget.FailBodyTooLarge:       {s.URL() + "/bytes/100", "--max-size", "10"},
		httpget.FailDecompressionRatio: {raw(bomb.String())},
		httpget.FailHeadTooLarge:       {raw("HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", 600) + "\r\n")},
		probe.FailProtocol:             {raw("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")},
		probe.FailHTTPStatus:           {s.URL() + "/status/500", "--fail"},
		httpget.FailTooManyRedirects:   {s.URL() + "/redirect/3", "-L", "--max-redirs", "1"},
		probe.FailTimeout:              {silent, "--timeout", "200ms"},
		probe.FailCertificate:          {tlsSrv.URL() + "/ip"},
	}
	for want, args := range cases {
		out, _, code := runCLI(t, append([]string{"get", "--json"}, args...)...)
		var res struct{ Failure string }
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitFailed || res.Failure != want {
			t.Errorf("%s: exit %d failure %q (%v)", want, code, res.Failure, err)
		}
		if !doc[want] {
			t.Errorf("failure %q is not in docs/get.md's table", want)
		}
	}
	// Codes no test here reaches are documented too, and the table holds
	// only codes that exist.
	known := map[string]bool{}
	for _, c := range []string{
		httpget.FailTooManyRedirects, httpget.FailBodyTooLarge, httpget.FailDecompressionRatio, httpget.FailHeadTooLarge,
		httpget.FailIncomplete, httpget.FailWriteError, httpget.FailRequestBody,
		probe.FailTimeout, probe.FailCanceled, probe.FailConnRefused, probe.FailConnReset, probe.FailHostUnreachable,
		probe.FailNetUnreachable, probe.FailAddrNotAvailable, probe.FailTooManyFiles, probe.FailPermission, probe.FailEOF,
		probe.FailDNSNXDomain, probe.FailDNSLookup, probe.FailTLSHandshake, probe.FailCertificate, probe.FailProtocol,
		probe.FailHTTPStatus, probe.FailUnknown,
	} {
		known[c] = true
		if !doc[c] {
			t.Errorf("failure %q is not in docs/get.md's table", c)
		}
	}
	for c := range doc {
		if !known[c] {
			t.Errorf("docs/get.md lists failure %q, which get never gives", c)
		}
	}
}
