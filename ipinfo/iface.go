package ipinfo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
)

// Interface is one network interface of this host.
type Interface struct {
	Type         string      `json:"type"` // "interface"
	Name         string      `json:"name"`
	Index        int         `json:"index"`
	State        string      `json:"state"` // "up", "no_carrier" (up, no link) or "down"
	MTU          int         `json:"mtu"`
	HardwareAddr string      `json:"hardware_addr,omitempty"`
	Flags        []string    `json:"flags"`
	Addresses    []IfaceAddr `json:"addresses"`
}

// IfaceAddr is one address of an interface.
type IfaceAddr struct {
	Type      string `json:"type"` // "interface_address"
	Address   string `json:"address"`
	PrefixLen int    `json:"prefix_len"`
	Family    string `json:"family"` // "ipv4" or "ipv6"
	Class     Class  `json:"class"`

	addr netip.Addr
}

// Addr returns the parsed address.
func (a IfaceAddr) Addr() netip.Addr { return a.addr }

// Interfaces lists the interfaces of this host with their addresses, in index
// order. family 0 keeps every address; 4 or 6 keeps that family only (the
// interface stays listed even with no address of it).
func Interfaces(family Family) ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		it := Interface{
			Type:         "interface",
			Name:         ifc.Name,
			Index:        ifc.Index,
			MTU:          ifc.MTU,
			HardwareAddr: ifc.HardwareAddr.String(),
			State:        stateOf(ifc.Flags),
			Flags:        flagNames(ifc.Flags),
			Addresses:    []IfaceAddr{},
		}
		addrs, err := ifc.Addrs()
		if err == nil {
			for _, a := range addrs {
				ia, ok := ifaceAddr(a)
				if !ok || (family != 0 && FamilyOf(ia.addr) != family) {
					continue
				}
				it.Addresses = append(it.Addresses, ia)
			}
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

func ifaceAddr(a net.Addr) (IfaceAddr, bool) {
	var ip net.IP
	bits := -1
	switch v := a.(type) {
	case *net.IPNet:
		ip = v.IP
		bits, _ = v.Mask.Size()
	case *net.IPAddr:
		ip = v.IP
	default:
		return IfaceAddr{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return IfaceAddr{}, false
	}
	if addr.Is4In6() && bits >= 96 {
		bits -= 96 // an IPv4 address with a 16-byte mask
	}
	addr = addr.Unmap()
	if bits < 0 || bits > addr.BitLen() {
		bits = addr.BitLen()
	}
	return IfaceAddr{
		Type:      "interface_address",
		Address:   addr.String(),
		PrefixLen: bits,
		Family:    FamilyOf(addr).Key(),
		Class:     Classify(addr),
		addr:      addr,
	}, true
}

func stateOf(f net.Flags) string {
	switch {
	case f&net.FlagUp != 0 && f&net.FlagRunning != 0:
		return "up"
	case f&net.FlagUp != 0:
		return "no_carrier"
	}
	return "down"
}

func flagNames(f net.Flags) []string {
	var names []string
	for _, x := range []struct {
		f    net.Flags
		name string
	}{
		{net.FlagUp, "up"}, {net.FlagRunning, "running"}, {net.FlagLoopback, "loopback"},
		{net.FlagPointToPoint, "pointtopoint"}, {net.FlagBroadcast, "broadcast"}, {net.FlagMulticast, "multicast"},
	} {
		if f&x.f != 0 {
			names = append(names, x.name)
		}
	}
	if names == nil {
		names = []string{}
	}
	return names
}

// FindAddr returns the interface that holds a, if any.
func FindAddr(ifs []Interface, a netip.Addr) (string, bool) {
	a = a.Unmap().WithZone("")
	for _, it := range ifs {
		for _, ia := range it.Addresses {
			if ia.addr == a {
				return it.Name, true
			}
		}
	}
	return "", false
}

// Outbound is the source address the kernel picks for traffic to the
// internet in one family: the address a NAT rewrites on the way out.
type Outbound struct {
	Type      string `json:"type"` // "outbound_source"
	Family    string `json:"family"`
	OK        bool   `json:"ok"`
	Address   string `json:"address,omitempty"`
	Class     Class  `json:"class,omitempty"`
	Interface string `json:"interface,omitempty"`
	Failure   string `json:"failure,omitempty"`
	Error     string `json:"error,omitempty"`

	addr netip.Addr
}

// Addr returns the parsed address (invalid when !OK).
func (o Outbound) Addr() netip.Addr { return o.addr }

// RouteProbe is the destination whose route picks the outbound source: a
// well-known internet address, so the default route is the one consulted.
// Connecting a UDP socket only asks the kernel for a route and a source
// address; no packet is sent to it.
var RouteProbe = map[Family]netip.AddrPort{
	IPv4: netip.MustParseAddrPort("8.8.8.8:9"),
	IPv6: netip.MustParseAddrPort("[2001:4860:4860::8888]:9"),
}

// OutboundSource finds the outbound source address for family by connecting
// a UDP socket towards dest (RouteProbe[family] when dest is invalid): a
// connect(2) on UDP picks the route and the source address and sends nothing.
// ifs, when given, names the interface that holds the address.
func OutboundSource(ctx context.Context, family Family, dest netip.AddrPort, ifs []Interface) Outbound {
	o := Outbound{Type: "outbound_source", Family: family.Key()}
	if !dest.IsValid() {
		dest = RouteProbe[family]
	}
	network := "udp4"
	if family == IPv6 {
		network = "udp6"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, dest.String())
	if err != nil {
		o.Failure = failureCode(err)
		o.Error = cleanDialError(err)
		return o
	}
	defer conn.Close()
	ua, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok {
		o.Failure, o.Error = FailUnknown, "no local address"
		return o
	}
	addr, _ := netip.AddrFromSlice(ua.IP)
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsUnspecified() {
		o.Failure, o.Error = FailUnknown, "no source address"
		return o
	}
	o.OK = true
	o.addr = addr
	o.Address = addr.String()
	o.Class = Classify(addr)
	o.Interface, _ = FindAddr(ifs, addr)
	return o
}

// cleanDialError shortens "dial udp4 8.8.8.8:9: connect: network is
// unreachable" to what a person needs: "network is unreachable".
func cleanDialError(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		s := oe.Err.Error()
		if i := strings.LastIndex(s, ": "); i >= 0 {
			s = s[i+2:]
		}
		return s
	}
	return err.Error()
}
