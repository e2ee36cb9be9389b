package httpget

import (
	"strings"
	"testing"
)

// FuzzRedirectTarget feeds a server's Location header, resolved against the
// current URL as -L does: whatever the server sends, the next hop is a
// valid http(s) target whose request cannot be split or smuggled (no CR,
// LF or NUL in the head, a three-token request line), and it round-trips.
func FuzzRedirectTarget(f *testing.F) {
	for _, s := range []string{
		"/", "/next?x=1", "http://127.0.0.1:8000/a", "https://[::1]/b", "//other:81/c", "../up", "?q", "#frag",
		"http://u:p@h/", "ftp://h/", "javascript:alert(1)", "http://h/a b", "http://h/\r\nX-Injected: 1", "http://h:99999/",
		"http://[fe80::1%25eth0]/", "\x1b[31m", "http://h/%0d%0aX: y", "HTTP://H/", "http:/h", "http:h",
	} {
		f.Add(s)
	}
	cur, err := ParseTarget("http://127.0.0.1:8000/dir/page?x")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		x := &Exchange{Response: &Response{HTTP: true, Status: 302, Headers: []Field{{Name: "Location", Value: loc}}}}
		next, ok := redirectTarget(x, cur)
		if !ok {
			return
		}
		if next.Host == "" || next.Port < 1 || next.Port > 65535 || !strings.HasPrefix(next.Path, "/") {
			t.Fatalf("%q -> %+v", loc, next)
		}
		req := RequestSpec{}.Build(next).Bytes()
		head := string(req[:len(req)-4])
		if strings.Count(head, "\r\n") != 5 || strings.ContainsAny(strings.ReplaceAll(head, "\r\n", ""), "\r\n\x00") {
			t.Fatalf("Location %q splits the request: %q", loc, req)
		}
		if strings.Count(strings.SplitN(head, "\r\n", 2)[0], " ") != 2 {
			t.Fatalf("Location %q: request line is not three tokens: %q", loc, head)
		}
		if again, err := ParseTarget(next.String()); err != nil || again != next {
			t.Fatalf("round trip %q -> %s -> %+v %v", loc, next, again, err)
		}
	})
}
