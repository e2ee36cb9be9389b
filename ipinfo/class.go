// Package ipinfo answers "what are my addresses?": the internal picture
// (interfaces, their addresses and classes, the source address the kernel
// picks for outbound traffic) and the external one (what providers on the
// other side of any NAT see), with a quorum of providers that must agree
// before an external address is believed. It never prints; cmd/nettool does.
package ipinfo

import "net/netip"

// Class is the kind of an address, as a stable snake_case string.
type Class string

// Address classes. Codes are added, never renamed.
const (
	ClassUnspecified   Class = "unspecified"   // 0.0.0.0, ::
	ClassLoopback      Class = "loopback"      // 127/8, ::1
	ClassPrivate       Class = "private"       // RFC 1918: 10/8, 172.16/12, 192.168/16
	ClassCGNAT         Class = "cgnat"         // RFC 6598 shared address space 100.64/10
	ClassLinkLocal     Class = "link_local"    // 169.254/16, fe80::/10
	ClassULA           Class = "ula"           // RFC 4193 unique local fc00::/7
	ClassDocumentation Class = "documentation" // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
	ClassMulticast     Class = "multicast"     // 224/4, ff00::/8
	ClassBroadcast     Class = "broadcast"     // 255.255.255.255
	ClassReserved      Class = "reserved"      // 0/8, 240/4, 192.0.0/24, 198.18/15, 100::/64, 2001:2::/48, fec0::/10, ...
	ClassPublic        Class = "public"        // globally routable unicast
)

// Description is a few words for people.
func (c Class) Description() string {
	switch c {
	case ClassUnspecified:
		return "unspecified address"
	case ClassLoopback:
		return "loopback, this host only"
	case ClassPrivate:
		return "private (RFC 1918)"
	case ClassCGNAT:
		return "carrier-grade NAT (RFC 6598, 100.64/10)"
	case ClassLinkLocal:
		return "link-local"
	case ClassULA:
		return "unique local (RFC 4193)"
	case ClassDocumentation:
		return "documentation range (RFC 5737/3849), not routed"
	case ClassMulticast:
		return "multicast"
	case ClassBroadcast:
		return "broadcast"
	case ClassReserved:
		return "reserved, not routed"
	case ClassPublic:
		return "public"
	}
	return string(c)
}

var (
	prefixCGNAT = netip.MustParsePrefix("100.64.0.0/10")
	prefixDoc   = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
		netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
		netip.MustParsePrefix("2001:db8::/32"),   // RFC 3849
		netip.MustParsePrefix("3fff::/20"),       // RFC 9637
	}
	prefixReserved = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
		netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
		netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
		netip.MustParsePrefix("240.0.0.0/4"),    // future use
		netip.MustParsePrefix("100::/64"),       // discard-only
		netip.MustParsePrefix("2001:2::/48"),    // benchmarking
		netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
		netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
		netip.MustParsePrefix("::/96"),          // deprecated IPv4-compatible
		netip.MustParsePrefix("2001::/32"),      // Teredo: not an address of this host
		netip.MustParsePrefix("2002::/16"),      // 6to4: a tunnel, not an address of this host
	}
	broadcast4     = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
)

// Classify returns the class of a. IPv4-mapped IPv6 addresses are unmapped
// first; the zone is ignored. The invalid zero Addr is ClassUnspecified.
func Classify(a netip.Addr) Class {
	if !a.IsValid() {
		return ClassUnspecified
	}
	a = a.Unmap().WithZone("")
	switch {
	case a.IsUnspecified():
		return ClassUnspecified
	case a.IsLoopback():
		return ClassLoopback
	case a == broadcast4:
		return ClassBroadcast
	case a.IsMulticast():
		return ClassMulticast
	case a.IsLinkLocalUnicast():
		return ClassLinkLocal
	case a.Is4() && a.IsPrivate():
		return ClassPrivate
	case a.Is6() && a.IsPrivate():
		return ClassULA
	case prefixCGNAT.Contains(a):
		return ClassCGNAT
	}
	for _, p := range prefixDoc {
		if p.Contains(a) {
			return ClassDocumentation
		}
	}
	for _, p := range prefixReserved {
		if p.Contains(a) {
			return ClassReserved
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		// Outside global unicast space: unassigned by IANA.
		return ClassReserved
	}
	if !a.IsGlobalUnicast() {
		return ClassReserved
	}
	return ClassPublic
}

// Family is 4 or 6.
type Family int

// Families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// Key is the JSON spelling: "ipv4" or "ipv6".
func (f Family) Key() string {
	if f == IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// FamilyOf reports the family of a (IPv4-mapped counts as IPv4).
func FamilyOf(a netip.Addr) Family {
	if a.Unmap().Is4() {
		return IPv4
	}
	return IPv6
}
