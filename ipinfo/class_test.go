package ipinfo

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := map[string]Class{
		"0.0.0.0":              ClassUnspecified,
		"::":                   ClassUnspecified,
		"127.0.0.1":            ClassLoopback,
		"127.255.0.9":          ClassLoopback,
		"::1":                  ClassLoopback,
		"::ffff:127.0.0.1":     ClassLoopback,
		"10.1.2.3":             ClassPrivate,
		"172.16.0.1":           ClassPrivate,
		"172.31.255.255":       ClassPrivate,
		"172.32.0.1":           ClassPublic,
		"192.168.3.14":         ClassPrivate,
		"::ffff:192.168.1.1":   ClassPrivate,
		"100.64.0.1":           ClassCGNAT,
		"100.127.255.254":      ClassCGNAT,
		"100.128.0.1":          ClassPublic,
		"100.63.255.255":       ClassPublic,
		"169.254.1.1":          ClassLinkLocal,
		"fe80::1":              ClassLinkLocal,
		"fe80::1%eth0":         ClassLinkLocal,
		"fd00::2":              ClassULA,
		"fc00::1":              ClassULA,
		"192.0.2.2":            ClassDocumentation,
		"198.51.100.9":         ClassDocumentation,
		"203.0.113.7":          ClassDocumentation,
		"2001:db8::7":          ClassDocumentation,
		"3fff::1":              ClassDocumentation,
		"224.0.0.1":            ClassMulticast,
		"ff02::1":              ClassMulticast,
		"255.255.255.255":      ClassBroadcast,
		"240.0.0.1":            ClassReserved,
		"0.1.2.3":              ClassReserved,
		"198.18.0.1":           ClassReserved,
		"192.0.0.8":            ClassReserved,
		"2001:2::1":            ClassReserved,
		"2002:c000:204::1":     ClassReserved,
		"fec0::1":              ClassReserved,
		"4000::1":              ClassReserved,
		"8.8.8.8":              ClassPublic,
		"1.1.1.1":              ClassPublic,
		"2606:4700:4700::1111": ClassPublic,
		"2a00:1450:4001::1":    ClassPublic,
	}
	for s, want := range cases {
		if got := Classify(netip.MustParseAddr(s)); got != want {
			t.Errorf("Classify(%s) = %s, want %s", s, got, want)
		}
	}
	if got := Classify(netip.Addr{}); got != ClassUnspecified {
		t.Errorf("zero Addr: %s", got)
	}
	for _, c := range []Class{ClassUnspecified, ClassLoopback, ClassPrivate, ClassCGNAT, ClassLinkLocal, ClassULA, ClassDocumentation, ClassMulticast, ClassBroadcast, ClassReserved, ClassPublic} {
		if c.Description() == "" {
			t.Errorf("%s has no description", c)
		}
	}
}

func TestInterfacesHaveLoopback(t *testing.T) {
	ifs, err := Interfaces(0)
	if err != nil {
		t.Fatal(err)
	}
	name, ok := FindAddr(ifs, netip.MustParseAddr("127.0.0.1"))
	if !ok {
		t.Fatalf("127.0.0.1 on no interface: %+v", ifs)
	}
	for _, it := range ifs {
		if it.Name != name {
			continue
		}
		if it.State != "up" || it.MTU <= 0 {
			t.Errorf("%s: state %s mtu %d", it.Name, it.State, it.MTU)
		}
		for _, a := range it.Addresses {
			if a.Address == "127.0.0.1" && (a.PrefixLen != 8 || a.Class != ClassLoopback || a.Family != "ipv4") {
				t.Errorf("127.0.0.1: %+v", a)
			}
		}
	}
	v6, err := Interfaces(IPv6)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range v6 {
		for _, a := range it.Addresses {
			if a.Family != "ipv6" {
				t.Errorf("Interfaces(IPv6) kept %s", a.Address)
			}
		}
	}
}

func TestOutboundSourceLoopback(t *testing.T) {
	ifs, _ := Interfaces(0)
	o := OutboundSource(t.Context(), IPv4, netip.MustParseAddrPort("127.0.0.1:9"), ifs)
	if !o.OK || o.Address != "127.0.0.1" || o.Class != ClassLoopback || o.Interface == "" {
		t.Fatalf("outbound towards 127.0.0.1: %+v", o)
	}
	// An IPv6 destination asked over IPv4 is an error, reported, not a panic.
	o = OutboundSource(t.Context(), IPv4, netip.MustParseAddrPort("[::1]:9"), ifs)
	if o.OK || o.Error == "" || o.Failure == "" {
		t.Fatalf("wrong family accepted: %+v", o)
	}
}
