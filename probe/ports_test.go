package probe

import (
	"strings"
	"testing"
)

func TestParsePortList(t *testing.T) {
	good := map[string]string{
		"22":                "22",
		"22,80,8000-8100":   "22,80,8000-8100",
		"80,22,22, 443":     "22,80,443",
		"1-10,5-20":         "1-20",
		"1-10,11-12":        "1-12",
		"-":                 "1-65535",
		"1-65535":           "1-65535",
		"-1024":             "1-1024",
		"60000-":            "60000-65535",
		"65535":             "65535",
		"8000 - 8002":       "8000-8002",
		"3,1,2":             "1-3",
		"100-100":           "100",
		"1,65535,2-65534,7": "1-65535",
	}
	for in, want := range good {
		l, err := ParsePortList(in)
		if err != nil {
			t.Errorf("ParsePortList(%q): %v", in, err)
			continue
		}
		if got := l.String(); got != want {
			t.Errorf("ParsePortList(%q) = %q, want %q", in, got, want)
		}
	}
	l, _ := ParsePortList("22,80,8000-8002")
	if got := l.Ports(); l.Len() != 5 || len(got) != 5 || got[0] != 22 || got[4] != 8002 || l.At(3) != 8001 {
		t.Errorf("Ports() = %v, Len %d", got, l.Len())
	}
	all, _ := ParsePortList("-")
	if all.Len() != 65535 || all.At(0) != 1 || all.At(65534) != 65535 {
		t.Errorf("all ports: len %d", all.Len())
	}
	bad := []string{"", " ", "0", "65536", "22,", ",22", "a", "22-a", "10-5", "1--2", "+5", "-5-", "1-2-3", "99999", "0-10", "http", "1.5", "22;80", "00000080", "١٢"}
	for _, in := range bad {
		if _, err := ParsePortList(in); err == nil || !IsUsage(err) {
			t.Errorf("ParsePortList(%q) err = %v, want a usage error", in, err)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParsePortList(%q): multi-line error", in)
		}
	}
}

func FuzzParsePortList(f *testing.F) {
	for _, s := range []string{"22", "22,80,8000-8100", "-", "-1024", "60000-", "1-65535", "10-5", ",", "0", "65536", "1,,2", " 7 - 9 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParsePortList(s)
		if err != nil {
			if !IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		ports := l.Ports()
		if len(ports) != l.Len() || len(ports) == 0 || len(ports) > 65535 {
			t.Fatalf("%q: %d ports, Len %d", s, len(ports), l.Len())
		}
		for i, p := range ports {
			if p < 1 || p > 65535 || (i > 0 && p <= ports[i-1]) {
				t.Fatalf("%q: bad or unsorted port %d at %d", s, p, i)
			}
		}
		again, err := ParsePortList(l.String())
		if err != nil || again.String() != l.String() {
			t.Fatalf("round trip %q -> %q -> %q, %v", s, l.String(), again.String(), err)
		}
	})
}
