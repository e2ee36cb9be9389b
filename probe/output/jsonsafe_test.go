package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// jsonUnsafe reports a rune that must not reach a terminal raw.
func jsonUnsafe(s string) rune {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || isBidiControl(r) {
			return r
		}
	}
	return -1
}

// JSON output escapes what encoding/json leaves raw: C1 controls and bidi
// overrides from the network (a certificate subject, a TXT record, a header)
// reach a terminal as \uXXXX, and the JSON still decodes to the same string.
func TestJSONEscapesC1AndBidi(t *testing.T) {
	in := "a\x1b[2J\u009b31m\u202eevil\u2066x\u061cé日本"
	for _, f := range []Format{JSON, JSONL} {
		var out, errb bytes.Buffer
		p := New(&out, &errb, Options{Format: f})
		p.Doc(map[string]string{"type": "t", "s": in})
		p.Stream(map[string]string{"type": "t", "s": in})
		if r := jsonUnsafe(out.String()); r >= 0 {
			t.Fatalf("%v: raw %U in %q", f, r, out.String())
		}
		if !strings.Contains(out.String(), `\u009b31m\u202eevil\u2066x\u061cé日本`) {
			t.Fatalf("%v: %q", f, out.String())
		}
		dec := json.NewDecoder(&out)
		for dec.More() {
			var m map[string]string
			if err := dec.Decode(&m); err != nil || m["s"] != in {
				t.Fatalf("%v: decoded %q, %v", f, m["s"], err)
			}
		}
	}
}

func FuzzJSONSafe(f *testing.F) {
	for _, s := range []string{"", "abc", "\u009b", "\u202e", "\x1b[0m", "\xff\xfe", "é\u0085", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var out bytes.Buffer
		p := New(&out, &bytes.Buffer{}, Options{Format: JSONL})
		p.Stream(map[string]string{"s": s})
		if r := jsonUnsafe(out.String()); r >= 0 {
			t.Fatalf("raw %U in %q", r, out.String())
		}
		var m map[string]string
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", out.String(), err)
		}
		var want strings.Builder // encoding/json's view: each invalid byte is U+FFFD
		for _, r := range s {
			want.WriteRune(r)
		}
		if m["s"] != want.String() {
			t.Fatalf("round trip %q -> %q", s, m["s"])
		}
	})
}
