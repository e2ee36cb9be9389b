package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	cases := map[string]string{
		"plain text":            "plain text",
		"héllo wörld":           "héllo wörld",
		"\x1b[31mred\x1b[0m":    `\x1b[31mred\x1b[0m`,
		"a\nb\tc\r":             `a\nb\tc\r`,
		"del\x7f":               `del\x7f`,
		"bad\xffutf8":           `bad\xffutf8`,
		"c1\u009bx":             `c1\u009bx`,
		"bidi\u202eevil":        `bidi\u202eevil`,
		`back\slash`:            `back\\slash`,
		"\x00":                  `\x00`,
		"\xe2\x82":              `\xe2\x82`,
		"ok \u00e9 \u2603 done": "ok \u00e9 \u2603 done",
	}
	for in, want := range cases {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeMultiline(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nX: \x1b]0;title\x07\r\n\tfold\n"
	want := "HTTP/1.1 200 OK\nX: \\x1b]0;title\\x07\n\tfold\n"
	if got := EscapeMultiline(in); got != want {
		t.Errorf("EscapeMultiline = %q, want %q", got, want)
	}
	if got := EscapeMultiline("lone\rcr"); got != `lone\rcr` {
		t.Errorf("lone CR: %q", got)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "abc", "\x1b[2J", "\xff\xfe", "\u202e", "a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Escape(s), EscapeMultiline(s)} {
			for _, r := range out {
				if r == 0x1b || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfffd && !strings.ContainsRune(s, 0xfffd) || isBidiControl(r) {
					t.Fatalf("unsafe rune %U survived in %q from %q", r, out, s)
				}
			}
		}
		if strings.ContainsAny(Escape(s), "\n\r\t") {
			t.Fatalf("Escape kept a line break: %q", Escape(s))
		}
	})
}

func TestPrinterModes(t *testing.T) {
	type ev struct {
		Type string `json:"type"`
		N    int    `json:"n"`
	}
	var out, errb bytes.Buffer
	p := New(&out, &errb, Options{Format: JSONL})
	p.Stream(ev{"reply", 1})
	p.Textf("hidden\n")
	p.Doc(ev{"summary", 2})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("jsonl lines = %q", out.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["type"] == nil {
			t.Fatalf("bad jsonl line %q: %v", l, err)
		}
	}

	out.Reset()
	p = New(&out, &errb, Options{Format: JSON})
	p.Stream(ev{"reply", 1})
	p.Doc(ev{"summary", 2})
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m["type"] != "summary" {
		t.Fatalf("json doc %q: %v", out.String(), err)
	}

	out.Reset()
	errb.Reset()
	p = New(&out, &errb, Options{Format: Text, Quiet: true})
	p.Doc(ev{"summary", 2})
	p.Textf("hello %s\n", "world")
	p.Info("chatter")
	p.Warn("warning")
	p.Table([][]string{{"NAME", "TTL"}, {"a.example.", "300"}})
	p.Flush()
	if got := out.String(); got != "hello world\nNAME        TTL\na.example.  300\n" {
		t.Fatalf("text out = %q", got)
	}
	if errb.String() != "warning\n" {
		t.Fatalf("stderr = %q (Info must be quiet with -q)", errb.String())
	}
}

func TestColorPolicy(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	var buf bytes.Buffer
	if ColorWanted(&buf, false, env(nil)) {
		t.Error("colour on a non-terminal")
	}
	p := New(&buf, &buf, Options{Format: Text, Color: false})
	if p.Paint(Red, "x") != "x" {
		t.Error("Paint coloured with colour off")
	}
	p = New(&buf, &buf, Options{Format: Text, Color: true})
	if p.Paint(Red, "x") != "\x1b[31mx\x1b[0m" {
		t.Error("Paint did not colour with colour on")
	}
	p = New(&buf, &buf, Options{Format: JSON, Color: true})
	if p.Color() {
		t.Error("colour in JSON mode")
	}
}

func TestMapDocTypeFirst(t *testing.T) {
	var out bytes.Buffer
	p := New(&out, &out, Options{Format: JSONL})
	p.Doc(map[string]any{"address": "127.0.0.1:1", "type": "serve_http", "tls": false, "url": "http://x"})
	p.Doc(map[string]any{"type": "only"})
	want := `{"type":"serve_http","address":"127.0.0.1:1","tls":false,"url":"http://x"}` + "\n" + `{"type":"only"}` + "\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestEscapeLine(t *testing.T) {
	in := `bad method "GE\tT": ` + "\x1b[2J"
	if got, want := EscapeLine(in), `bad method "GE\tT": \x1b[2J`; got != want {
		t.Fatalf("EscapeLine = %q, want %q", got, want)
	}
}
