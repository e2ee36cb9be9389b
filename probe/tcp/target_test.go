package tcp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nettool/nettool/probe"
)

func TestParseTarget(t *testing.T) {
	good := map[string]int{"127.0.0.1": 1, "::1": 1, "[::1]": 1, "localhost": 1, "10.0.0.0/24": 256, "10.0.0.7/30": 4, "192.168.0.0/16": 65536, "fd00::/120": 256, "example.com.": 1, "a_b.example": 1}
	for in, size := range good {
		tg, err := ParseTarget(in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", in, err)
			continue
		}
		if tg.Size() != size {
			t.Errorf("ParseTarget(%q).Size() = %d, want %d", in, tg.Size(), size)
		}
		if tg.Name == "" && len(tg.Addrs()) != size {
			t.Errorf("ParseTarget(%q): %d addrs", in, len(tg.Addrs()))
		}
	}
	tg, _ := ParseTarget("10.0.0.7/30")
	if a := tg.Addrs(); a[0].String() != "10.0.0.4" || a[3].String() != "10.0.0.7" {
		t.Errorf("10.0.0.7/30 -> %v", a)
	}
	bad := []string{"", "10.0.0.0/8", "::/64", "10.0.0.0/33", "host:80", "1.2.3.4:80", "a..b", "-x y", "bad name", strings.Repeat("a", 64) + ".com", "héllo", "10.0.0.0/", "[::1]:80"}
	for _, in := range bad {
		if _, err := ParseTarget(in); err == nil || !probe.IsUsage(err) {
			t.Errorf("ParseTarget(%q) err = %v, want a usage error", in, err)
		}
	}
}

func TestParseConnectTarget(t *testing.T) {
	for _, in := range []string{"127.0.0.1:80", "[::1]:22", "localhost:10000"} {
		if _, err := ParseConnectTarget(in); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	for _, in := range []string{"127.0.0.1", "localhost", "host:0", "host:99999", "a..b:80", "::1", ":80"} {
		if _, err := ParseConnectTarget(in); err == nil || !probe.IsUsage(err) {
			t.Errorf("%q: err %v, want usage error", in, err)
		}
	}
}

func TestParseSendData(t *testing.T) {
	good := map[string]string{`hello`: "hello", `a\nb`: "a\nb", `\r\n\t\0\\`: "\r\n\t\x00\\", `\x1b[31m`: "\x1b[31m", `GET / HTTP/1.0\r\n\r\n`: "GET / HTTP/1.0\r\n\r\n", ``: ""}
	for in, want := range good {
		got, err := ParseSendData(in)
		if err != nil || string(got) != want {
			t.Errorf("ParseSendData(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`\`, `\q`, `\x1`, `\xzz`, `abc\`} {
		if _, err := ParseSendData(in); err == nil || !probe.IsUsage(err) {
			t.Errorf("ParseSendData(%q): err %v, want usage error", in, err)
		}
	}
}

func TestServiceNames(t *testing.T) {
	m := map[int]string{}
	parseServices(strings.NewReader("ssh 22/tcp # SSH\nfoo 22/tcp\ndomain 53/udp\nhttp\t80/tcp www\n# 1 x\nbad 99999/tcp\n"), m)
	if m[22] != "ssh" || m[80] != "http" || m[53] != "" || len(m) != 2 {
		t.Errorf("parseServices: %v", m)
	}
	m = map[int]string{}
	parseServices(strings.NewReader(builtinServices), m)
	if m[22] != "ssh" || m[443] != "https" || m[6379] != "redis" || len(m) < 80 {
		t.Errorf("built-in table: %d entries, 22=%q", len(m), m[22])
	}
	if ServiceName(22) != "ssh" || ServiceName(80) != "http" {
		t.Errorf("ServiceName(22)=%q ServiceName(80)=%q", ServiceName(22), ServiceName(80))
	}
}

func TestStats(t *testing.T) {
	var s Stats
	for _, ms := range []int{1, 2, 3, 4} {
		s.AddSuccess(msDur(ms))
	}
	s.AddFailure()
	if s.Attempts != 5 || s.Connected != 4 || s.LossPct() != 20 || s.Min() != msDur(1) || s.Max() != msDur(4) || s.Avg() != msDur(2)+msDur(1)/2 {
		t.Errorf("stats: %+v loss %v min %v avg %v max %v", s, s.LossPct(), s.Min(), s.Avg(), s.Max())
	}
	// population std-dev of 1,2,3,4 ms = sqrt(1.25) ms
	if d := s.Mdev(); d < 1118000 || d > 1118100 {
		t.Errorf("mdev = %v", d)
	}
	var z Stats
	if z.LossPct() != 0 || z.Mdev() != 0 {
		t.Error("zero stats")
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.0.0.0/24", "::1", "[::1]", "fe80::1%eth0", "localhost", "a..b", "1.2.3.4:80", "0.0.0.0/0", "::/0", "x/y"} {
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
		if n := tg.Size(); n < 1 || n > MaxScanHosts {
			t.Fatalf("%q: size %d", s, n)
		}
		if tg.Name == "" && !tg.Prefix.IsValid() {
			t.Fatalf("%q: no name and no prefix", s)
		}
		if _, err := ParseConnectTarget(s); err != nil && !probe.IsUsage(err) {
			t.Fatalf("ParseConnectTarget(%q): non-usage error %v", s, err)
		}
	})
}

func FuzzParseSendData(f *testing.F) {
	for _, s := range []string{"hello", `a\nb`, `\x00\xff`, `\`, `\x`, `\\\\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseSendData(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if len(b) > len(s) {
			t.Fatalf("%q decoded to more bytes (%d)", s, len(b))
		}
		if !bytes.ContainsRune([]byte(s), '\\') && string(b) != s {
			t.Fatalf("%q changed without escapes", s)
		}
	})
}
