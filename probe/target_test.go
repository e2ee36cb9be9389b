package probe

import "testing"

func TestParseHostPort(t *testing.T) {
	good := []struct {
		in   string
		def  int
		host string
		port int
	}{
		{"example.com", 80, "example.com", 80},
		{"example.com:8080", 80, "example.com", 8080},
		{"127.0.0.1:53", 0, "127.0.0.1", 53},
		{"127.0.0.1", 0, "127.0.0.1", 0},
		{"[::1]:5353", 53, "::1", 5353},
		{"[::1]", 53, "::1", 53},
		{"::1", 53, "::1", 53},
		{"fe80::1%eth0", 53, "fe80::1%eth0", 53},
		{"[fe80::1%eth0]:8", 53, "fe80::1%eth0", 8},
	}
	for _, c := range good {
		hp, err := ParseHostPort(c.in, c.def)
		if err != nil {
			t.Errorf("ParseHostPort(%q): %v", c.in, err)
			continue
		}
		if hp.Host != c.host || hp.Port != c.port {
			t.Errorf("ParseHostPort(%q) = %q %d, want %q %d", c.in, hp.Host, hp.Port, c.host, c.port)
		}
	}
	bad := []string{"", "host:", "host:0", "host:65536", "host:http", "[::1", "[::1]x", "[nothost]:53", ":53", "1:2:3", "a b", "[::1]:", "host:+1", "host:-1"}
	for _, in := range bad {
		if _, err := ParseHostPort(in, 53); err == nil || !IsUsage(err) {
			t.Errorf("ParseHostPort(%q) err = %v, want a usage error", in, err)
		}
	}
}

func TestHostPortString(t *testing.T) {
	for in, want := range map[string]string{"::1": "[::1]:53", "127.0.0.1:5": "127.0.0.1:5", "h": "h:53"} {
		hp, err := ParseHostPort(in, 53)
		if err != nil {
			t.Fatal(err)
		}
		if got := hp.String(); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"example.com", "[::1]:53", "1.2.3.4:5353", "fe80::1%eth0", "[", "]:", "::", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hp, err := ParseHostPort(s, 53)
		if err != nil {
			if !IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if hp.Host == "" || hp.Port < 1 || hp.Port > 65535 {
			t.Fatalf("accepted %q as %+v", s, hp)
		}
		again, err := ParseHostPort(hp.String(), 53)
		if err != nil || again != hp {
			t.Fatalf("round trip %q -> %q -> %+v, %v", s, hp.String(), again, err)
		}
	})
}
