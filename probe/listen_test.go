package probe

import "testing"

func TestParseListenAddr(t *testing.T) {
	cases := map[string]string{
		"":              "127.0.0.1:5353",
		"0":             "127.0.0.1:0",
		"5300":          "127.0.0.1:5300",
		":5300":         "127.0.0.1:5300",
		":0":            "127.0.0.1:0",
		"127.0.0.2":     "127.0.0.2:5353",
		"127.0.0.1:53":  "127.0.0.1:53",
		"localhost:0":   "127.0.0.1:0",
		"[::1]:5353":    "[::1]:5353",
		"::1":           "[::1]:5353",
		"[::1]":         "[::1]:5353",
		"0.0.0.0:53":    "0.0.0.0:53",
		"[::]:53":       "[::]:53",
		"127.0.0.1:-1":  "",
		"127.0.0.1:abc": "",
		"127.0.0.1:+5":  "",
		"example.com":   "",
		"nothost:0":     "",
		"1.2.3.4:5:6":   "",
		"70000":         "",
	}
	for in, want := range cases {
		got, err := ParseListenAddr(in, 5353)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
		if err != nil && !IsUsage(err) {
			t.Errorf("%q: %v is not a usage error", in, err)
		}
	}
}
