package httpget

import (
	"strings"
	"testing"

	"github.com/nettool/nettool/probe"
)

func TestParseTarget(t *testing.T) {
	good := []struct{ in, url, hostHeader string }{
		{"127.0.0.1:8000", "http://127.0.0.1:8000/", "127.0.0.1:8000"},
		{"localhost", "http://localhost/", "localhost"},
		{"example.com/a/b?c=d#frag", "http://example.com/a/b?c=d", "example.com"},
		{"HTTPS://Example.COM:443/x", "https://example.com/x", "example.com"},
		{"https://example.com:8443", "https://example.com:8443/", "example.com:8443"},
		{"http://[::1]:8080/p", "http://[::1]:8080/p", "[::1]:8080"},
		{"[::1]", "http://[::1]/", "[::1]"},
		{"host?q=1", "http://host/?q=1", "host"},
		{"host/a b/é", "http://host/a%20b/%C3%A9", "host"},
	}
	for _, c := range good {
		tg, err := ParseTarget(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if tg.String() != c.url || tg.HostHeader() != c.hostHeader {
			t.Errorf("%q: got %s host %s, want %s host %s", c.in, tg, tg.HostHeader(), c.url, c.hostHeader)
		}
	}
	bad := []string{"", "ftp://x", "http://", "http:///path", "http://u:p@host/", "host:0", "host:99999", "host:abc", "exa mple.com",
		"a..b", "héllo.com", "http://x/\r\nInjected: 1", "[::1", "http://" + strings.Repeat("a", 64) + ".com", "-x\x00"}
	for _, in := range bad {
		if _, err := ParseTarget(in); err == nil || !probe.IsUsage(err) {
			t.Errorf("%q: err %v, want a usage error", in, err)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8000", "https://[::1]:443/x?y", "example.com/a b", "http://u@h", "h:0", "[fe80::1%25eth0]:80", "x#y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if tg.Host == "" || tg.Port < 1 || tg.Port > 65535 || !strings.HasPrefix(tg.Path, "/") {
			t.Fatalf("accepted %q as %+v", s, tg)
		}
		req := RequestSpec{}.Build(tg).Bytes()
		head := string(req[:len(req)-4])
		if strings.Count(head, "\r\n") != 5 || strings.ContainsAny(strings.ReplaceAll(head, "\r\n", ""), "\r\n\x00") {
			t.Fatalf("target %q splits the request: %q", s, req)
		}
		if strings.Count(strings.SplitN(head, "\r\n", 2)[0], " ") != 2 {
			t.Fatalf("request line of %q is not three tokens: %q", s, head)
		}
		again, err := ParseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("round trip %q -> %s -> %+v %v", s, tg, again, err)
		}
	})
}

func TestRequestBuild(t *testing.T) {
	tg, _ := ParseTarget("127.0.0.1:8000/x")
	spec := RequestSpec{UserAgent: "nettool/1.2.3"}
	got := string(spec.Build(tg).Bytes())
	want := "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: nettool/1.2.3\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: close\r\n\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	edits := []string{"accept: text/plain", "X-Foo: 1", "X-Foo: 2", "Accept-Encoding:", "X-Empty;", "user-agent: mine"}
	for _, e := range edits {
		h, err := ParseHeaderEdit(e)
		if err != nil {
			t.Fatal(err)
		}
		spec.Edits = append(spec.Edits, h)
	}
	spec.Body, spec.HasBody, spec.HTTP10 = []byte("a=1"), true, true
	got = string(spec.Build(tg).Bytes())
	want = "POST /x HTTP/1.0\r\nHost: 127.0.0.1:8000\r\nuser-agent: mine\r\naccept: text/plain\r\nConnection: close\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Foo: 1\r\nX-Foo: 2\r\nX-Empty: \r\n\r\na=1"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"X: a\r\nInjected: 1", "no colon", ": v", "Bad Name: v", "X: a\x00", "X; junk"} {
		if _, err := ParseHeaderEdit(bad); err == nil || !probe.IsUsage(err) {
			t.Errorf("-H %q accepted", bad)
		}
	}
	if ValidMethod("GET /") || ValidMethod("") || !ValidMethod("PURGE") {
		t.Fatal("method validation")
	}
}

// FuzzParseHeaderEdit: no -H argument can smuggle a line break into the
// request.
func FuzzParseHeaderEdit(f *testing.F) {
	for _, s := range []string{"X-Foo: bar", "X-Foo:", "X-Foo;", "Host: a:b", "a: b\r\nc: d", "x;y", ":", "é: 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHeaderEdit(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		tg, _ := ParseTarget("127.0.0.1")
		req := string(RequestSpec{Edits: []HeaderEdit{h}}.Build(tg).Bytes())
		head := strings.TrimSuffix(req, "\r\n\r\n")
		for _, l := range strings.Split(head, "\r\n") {
			if strings.ContainsAny(l, "\r\n\x00") {
				t.Fatalf("-H %q splits the request: %q", s, req)
			}
		}
		if !h.Remove && strings.Count(head, "\r\n") < 4 {
			t.Fatalf("-H %q lost lines: %q", s, req)
		}
	})
}

// A -H value goes on the wire exactly as typed after the colon, as curl
// sends it; its trimmed value is what JSON shows.
func TestHeaderAsTyped(t *testing.T) {
	tg := Target{Scheme: "http", Host: "h", Port: 80, Path: "/"}
	for in, wire := range map[string]string{
		"X-T:   padded  ": "X-T:   padded  \r\n",
		"X-T:\tv\t":       "X-T:\tv\t\r\n",
		"X-T:tight":       "X-T:tight\r\n",
		"X-T: one":        "X-T: one\r\n",
		"Accept:  a/b ":   "Accept:  a/b \r\n", // replacing nettool's own field
	} {
		e, err := ParseHeaderEdit(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		r := RequestSpec{Edits: []HeaderEdit{e}}.Build(tg)
		if b := string(r.Bytes()); !strings.Contains(b, "\r\n"+wire) {
			t.Errorf("%q: sent\n%q", in, b)
		}
		if i := indexField(r.Headers, strings.ToLower(e.Name)); i < 0 || r.Headers[i].Value != strings.Trim(in[strings.IndexByte(in, ':')+1:], " \t") {
			t.Errorf("%q: value %+v", in, r.Headers)
		}
	}
	if e, err := ParseHeaderEdit("X-T:   \t "); err != nil || !e.Remove {
		t.Errorf("whitespace alone removes the field: %+v %v", e, err)
	}
}
