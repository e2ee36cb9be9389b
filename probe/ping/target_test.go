package ping

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
)

func TestParseHost(t *testing.T) {
	good := []struct {
		in   string
		fam  Family
		name string
		addr string
	}{
		{"127.0.0.1", FamilyAny, "127.0.0.1", "127.0.0.1"},
		{"::1", FamilyAny, "::1", "::1"},
		{"[::1]", FamilyV6, "::1", "::1"},
		{"::ffff:127.0.0.1", FamilyV4, "::ffff:127.0.0.1", "127.0.0.1"},
		{"fe80::1%lo", FamilyAny, "fe80::1%lo", "fe80::1%lo"},
		{"localhost", FamilyAny, "localhost", ""},
		{"www.example.com.", FamilyV6, "www.example.com.", ""},
		{"_srv.x-y.example", FamilyAny, "_srv.x-y.example", ""},
	}
	for _, c := range good {
		h, err := ParseHost(c.in, c.fam)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		want := netip.Addr{}
		if c.addr != "" {
			want = netip.MustParseAddr(c.addr)
		}
		if h.Name != c.name || h.Addr != want {
			t.Errorf("%q: got %+v", c.in, h)
		}
	}
	bad := []struct {
		in, fam, msg string
	}{
		{"", "", "empty host"},
		{"127.0.0.1:80", "", "not host:port"},
		{"example.com:22", "", "not host:port"},
		{"127.0.0.1", "6", "but -6 was given"},
		{"::1", "4", "but -4 was given"},
		{"a..b", "", "empty label"},
		{"-a.example", "", "not allowed"},
		{"a b", "", "not allowed"},
		{"\x1b[31mred", "", `"\x1b[31mred"`},
		{strings.Repeat("a", 64) + ".com", "", "longer than 63"},
		{strings.Repeat("a.", 130) + "com", "", "longer than 253"},
		{"[127.0.0.1", "", "not allowed"},
	}
	for _, c := range bad {
		fam := FamilyAny
		switch c.fam {
		case "4":
			fam = FamilyV4
		case "6":
			fam = FamilyV6
		}
		_, err := ParseHost(c.in, fam)
		if err == nil || !probe.IsUsage(err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: err %v, want a usage error with %q", c.in, err, c.msg)
		}
	}
}

func TestParseSeconds(t *testing.T) {
	good := map[string]time.Duration{"1": time.Second, "0.2": 200 * time.Millisecond, "0": 0, "0.002": 2 * time.Millisecond,
		"200ms": 200 * time.Millisecond, "1m": time.Minute, " 3 ": 3 * time.Second, "0s": 0}
	for in, want := range good {
		got, err := ParseSeconds(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "1e12", "NaN", "Inf", "0x10", "1e-12", "-5ms", "1_0", "99999999h"} {
		if _, err := ParseSeconds(in); err == nil || !probe.IsUsage(err) {
			t.Errorf("%q: err %v, want a usage error", in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Options{Count: 4, Interval: time.Second, Wait: time.Second, Size: 56}
	if err := ok.Validate(false); err != nil {
		t.Fatal(err)
	}
	bad := []Options{
		{Count: -1, Interval: time.Second},
		{Interval: 0},
		{Interval: time.Millisecond},
		{Interval: time.Second, Size: 70000},
		{Interval: time.Second, Size: -1},
		{Interval: time.Second, TTL: 256},
		{Interval: time.Second, Wait: -1},
	}
	for _, o := range bad {
		if err := o.Validate(false); err == nil || !probe.IsUsage(err) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
	fast := Options{Interval: time.Millisecond}
	if err := fast.Validate(true); err != nil {
		t.Errorf("root may use 1ms: %v", err)
	}
}

func TestResolveLiteralsAndLocalhost(t *testing.T) {
	hosts, err := ParseHosts([]string{"127.0.0.2", "localhost"}, FamilyV4)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := Resolve(context.Background(), nil, hosts, FamilyV4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Addr != netip.MustParseAddr("127.0.0.2") || !ts[1].Addr.Is4() || !ts[1].Addr.IsLoopback() {
		t.Fatalf("resolved %+v", ts)
	}
	if ts[1].String() != "localhost ("+ts[1].Addr.String()+")" || ts[0].String() != "127.0.0.2" {
		t.Errorf("String: %q %q", ts[1].String(), ts[0].String())
	}
}

// A name the (loopback, fake) DNS server does not know is a ResolveError
// naming it; nothing leaves loopback.
func TestResolveNXDomainFromLoopbackServer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			resp[2] |= 0x80            // QR
			resp[3] = resp[3]&0xf0 | 3 // NXDOMAIN
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	hosts, err := ParseHosts([]string{"127.0.0.1", "nothing-here.example."}, FamilyAny)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resolve(context.Background(), r, hosts, FamilyAny, 5*time.Second)
	var re *ResolveError
	if !errors.As(err, &re) || re.Name != "nothing-here.example." || !strings.Contains(err.Error(), `cannot resolve "nothing-here.example.": no such host`) {
		t.Fatalf("err %v", err)
	}
	pc.Close()
	<-done
}

func TestWindowSize(t *testing.T) {
	cases := []struct {
		o    Options
		want int
	}{
		{Options{Count: 3, Interval: time.Second, Wait: 2 * time.Second}, 4},
		{Options{Count: 0, Interval: time.Second, Wait: 2 * time.Second}, 4},
		{Options{Count: 0, Interval: time.Millisecond, Wait: 10 * time.Second}, 16384},
		{Options{Count: 0, Interval: time.Microsecond, Wait: time.Hour}, maxWindow},
		{Options{Count: 0, Interval: time.Second, Wait: 0}, defaultWindowCap},
		{Options{Count: 1, Interval: time.Second}, 1},
	}
	// Many hosts share the budget.
	if got := windowSize(Options{Interval: time.Millisecond, Wait: 10 * time.Second}, 65536); got != 32 {
		t.Errorf("65536 hosts: window %d, want 32", got)
	}
	if got := windowSize(Options{Interval: time.Second, Wait: 2 * time.Second}, 65536); got != 4 {
		t.Errorf("65536 hosts, 1s/2s: window %d, want 4", got)
	}
	for _, c := range cases {
		if got := windowSize(c.o, 1); got != c.want {
			t.Errorf("%+v: %d want %d", c.o, got, c.want)
		}
	}
}

func TestWelfordMatchesTwoPass(t *testing.T) {
	xs := []time.Duration{44, 82, 154, 31, 1000, 7, 7, 7}
	var w welford
	var sum float64
	for _, x := range xs {
		w.add(x * time.Microsecond)
		sum += float64(x * time.Microsecond)
	}
	mean := sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		d := float64(x*time.Microsecond) - mean
		ss += d * d
	}
	wantMdev := time.Duration(sqrt(ss / float64(len(xs))))
	if diff := time.Duration(w.mean) - time.Duration(mean); diff < -1 || diff > 1 {
		t.Errorf("mean %v want %v", time.Duration(w.mean), time.Duration(mean))
	}
	if diff := w.mdev() - wantMdev; diff < -1 || diff > 1 {
		t.Errorf("mdev %v want %v", w.mdev(), wantMdev)
	}
	if w.min != 7*time.Microsecond || w.max != 1000*time.Microsecond {
		t.Errorf("min/max %v %v", w.min, w.max)
	}
}

func sqrt(x float64) float64 {
	z := x / 2
	for i := 0; i < 100; i++ {
		z -= (z*z - x) / (2 * z)
	}
	return z
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "[::1]", "localhost", "a.b.c", "1.2.3.4:80", "fe80::1%eth0", "", "[", "a..b", "-x", "\x00"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, famSel uint8) {
		fam := []Family{FamilyAny, FamilyV4, FamilyV6}[famSel%3]
		h, err := ParseHost(s, fam)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b\n") {
				t.Fatalf("raw control byte in error %q", err.Error())
			}
			return
		}
		if h.Addr.IsValid() {
			if fam == FamilyV4 && !h.Addr.Is4() || fam == FamilyV6 && h.Addr.Is4() {
				t.Fatalf("%q accepted with the wrong family: %v", s, h.Addr)
			}
			return
		}
		if h.Name == "" || len(h.Name) > 254 || strings.ContainsAny(h.Name, " :/\x00") {
			t.Fatalf("accepted bad name %q", h.Name)
		}
	})
}

func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"1", "0.2", "200ms", "0", "-1", "1e3", "NaN", "1h2m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSeconds(s)
		if err != nil {
			if !probe.IsUsage(err) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if d < 0 || d > maxTimeFlag {
			t.Fatalf("%q accepted as %v", s, d)
		}
	})
}
