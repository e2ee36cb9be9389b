package exporter

import (
	"strings"
	"testing"
	"time"
)

// The module file is user input: any bytes load or fail with one line
// naming the file, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(loopbackModules))
	f.Add([]byte("modules:\n  m:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: '('\n"))
	f.Add([]byte("modules:\n  m:\n    prober: dns\n    dns:\n      query_name: a\n      validate_answer_rrs: {fail_if_matches_regexp: [x]}\n"))
	f.Add([]byte("modules: {a: {prober: http, timeout: 1d2h, http: {headers: {Host: x}}}}"))
	f.Add([]byte("modules:\n  m: &a\n    prober: icmp\n  n: *a\n"))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		var err error
		done := make(chan struct{})
		go func() { _, err = Parse(b, "f.yml"); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse did not return within 5 s on %q", b)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "f.yml") || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("error %q", err)
		}
	})
}
