package main

import (
	"io"
	"net"
	"strings"
	"testing"
)

// -H values go on the wire exactly as typed (the spaces after the colon
// kept, as curl sends them), and the journey shows the lines sent and
// received as they were, trailing spaces included. (Trailing spaces of a
// -H value are kept by httpget: TestHeaderAsTyped there.)
func TestGetHeaderAsTyped(t *testing.T) {
	s := getServe(t, false)
	args := []string{"get", s.URL() + "/mirror", "-H", "X-T:   padded", "-H", "X-None:tight"}
	out, errs, code := runCLI(t, append(args, "-q")...)
	if code != 0 {
		t.Fatalf("exit %d %q", code, errs)
	}
	for _, want := range []string{"\n> X-T:   padded\n", "\n> X-None:tight\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the journey lacks %q:\n%s", want, out)
		}
	}
	body, _, _ := runCLI(t, append(args, "-b")...)
	for _, want := range []string{"\r\nX-T:   padded\r\n", "\r\nX-None:tight\r\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("the server did not get %q:\n%q", want, body)
		}
	}
	// Received lines keep their trailing spaces.
	addr := getRawServer(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK  \r\nX-R: v  \r\nContent-Length: 0\r\n\r\n")
	})
	out, _, code = runCLI(t, "get", addr, "-q")
	if code != 0 || !strings.Contains(out, "\n< HTTP/1.1 200 OK  \n< X-R: v  \n< Content-Length: 0\n<\n") {
		t.Fatalf("exit %d:\n%q", code, out)
	}
}
