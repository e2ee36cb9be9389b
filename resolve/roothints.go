package resolve

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// NameServer is one server of a zone: its name and the addresses known for
// it, with where they came from ("hint", "glue", "resolved", "start").
type NameServer struct {
	Name   string
	Addrs  []netip.Addr
	Source string
}

// rootHintsText is IANA's named.root (version of the root zone 2024052801):
// the thirteen root server names and their addresses. It is data only:
// nothing in nettool's tests ever sends to these addresses.
const rootHintsText = `
.                        3600000      NS    A.ROOT-SERVERS.NET.
A.ROOT-SERVERS.NET.      3600000      A     198.41.0.4
A.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:ba3e::2:30
.                        3600000      NS    B.ROOT-SERVERS.NET.
B.ROOT-SERVERS.NET.      3600000      A     170.247.170.2
B.ROOT-SERVERS.NET.      3600000      AAAA  2801:1b8:10::b
.                        3600000      NS    C.ROOT-SERVERS.NET.
C.ROOT-SERVERS.NET.      3600000      A     192.33.4.12
C.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2::c
.                        3600000      NS    D.ROOT-SERVERS.NET.
D.ROOT-SERVERS.NET.      3600000      A     199.7.91.13
D.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2d::d
.                        3600000      NS    E.ROOT-SERVERS.NET.
E.ROOT-SERVERS.NET.      3600000      A     192.203.230.10
E.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:a8::e
.                        3600000      NS    F.ROOT-SERVERS.NET.
F.ROOT-SERVERS.NET.      3600000      A     192.5.5.241
F.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:2f::f
.                        3600000      NS    G.ROOT-SERVERS.NET.
G.ROOT-SERVERS.NET.      3600000      A     192.112.36.4
G.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:12::d0d
.                        3600000      NS    H.ROOT-SERVERS.NET.
H.ROOT-SERVERS.NET.      3600000      A     198.97.190.53
H.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:1::53
.                        3600000      NS    I.ROOT-SERVERS.NET.
I.ROOT-SERVERS.NET.      3600000      A     192.36.148.17
I.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fe::53
.                        3600000      NS    J.ROOT-SERVERS.NET.
J.ROOT-SERVERS.NET.      3600000      A     192.58.128.30
J.ROOT-SERVERS.NET.      3600000      AAAA  2001:503:c27::2:30
.                        3600000      NS    K.ROOT-SERVERS.NET.
K.ROOT-SERVERS.NET.      3600000      A     193.0.14.129
K.ROOT-SERVERS.NET.      3600000      AAAA  2001:7fd::1
.                        3600000      NS    L.ROOT-SERVERS.NET.
L.ROOT-SERVERS.NET.      3600000      A     199.7.83.42
L.ROOT-SERVERS.NET.      3600000      AAAA  2001:500:9f::42
.                        3600000      NS    M.ROOT-SERVERS.NET.
M.ROOT-SERVERS.NET.      3600000      A     202.12.27.33
M.ROOT-SERVERS.NET.      3600000      AAAA  2001:dc3::35
`

// rootAnchorText is the root zone's trust anchor as IANA publishes it
// (root-anchors.xml): the DS records of KSK-2017 and KSK-2024.
const rootAnchorText = `
. 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. 172800 IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

// RootHints returns the built-in root servers (IANA's named.root).
func RootHints() []NameServer {
	ns, err := ParseRootHints(strings.NewReader(rootHintsText), "built-in hints")
	if err != nil {
		panic(err) // the built-in data is checked by a test
	}
	return ns
}

// RootAnchors returns the built-in root trust anchor (DS records).
func RootAnchors() []dns.RR {
	rrs, err := ParseTrustAnchor(strings.NewReader(rootAnchorText), "built-in anchor")
	if err != nil {
		panic(err)
	}
	return rrs
}

// maxHintsFile caps a hints or anchor file.
const maxHintsFile = 4 << 20

// ParseRootHints reads a hints file (named.root) or a zone file: the NS
// records of "." and the A/AAAA records of their names. Names without an
// address are kept (they are resolved on the way). Any problem is a usage
// error naming the file.
func ParseRootHints(r io.Reader, name string) ([]NameServer, error) {
	zp := dns.NewZoneParser(io.LimitReader(r, maxHintsFile), ".", name)
	zp.SetIncludeAllowed(false)
	zp.SetDefaultTTL(3600000)
	var order []string
	byName := map[string]*NameServer{}
	addrs := map[string][]netip.Addr{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		switch v := rr.(type) {
		case *dns.NS:
			if h.Name != "." || v.Ns == "" {
				continue
			}
			k := strings.ToLower(dns.Fqdn(v.Ns))
			if byName[k] == nil {
				byName[k] = &NameServer{Name: k, Source: "hint"}
				order = append(order, k)
			}
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				k := strings.ToLower(h.Name)
				addrs[k] = append(addrs[k], a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
				k := strings.ToLower(h.Name)
				addrs[k] = append(addrs[k], a)
			}
		}
	}
	if err := zp.Err(); err != nil {
		return nil, probe.Usagef("bad root hints %s: %v", name, err)
	}
	if len(order) == 0 {
		return nil, probe.Usagef("bad root hints %s: no NS records for \".\"", name)
	}
	out := make([]NameServer, 0, len(order))
	for _, k := range order {
		ns := byName[k]
		ns.Addrs = addrs[k]
		out = append(out, *ns)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ParseTrustAnchor reads a trust anchor file: DS or DNSKEY records in
// zone-file form (as root.key or a `dnssec-dsfromkey` output), all for one
// zone. A BIND trust-anchors { } block is not read.
func ParseTrustAnchor(r io.Reader, name string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(io.LimitReader(r, maxHintsFile), ".", name)
	zp.SetIncludeAllowed(false)
	zp.SetDefaultTTL(3600000)
	var out []dns.RR
	owner := ""
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.(type) {
		case *dns.DS, *dns.DNSKEY:
		default:
			continue
		}
		o := strings.ToLower(rr.Header().Name)
		if owner != "" && o != owner {
			return nil, probe.Usagef("bad trust anchor %s: records for %s and %s: give one zone's keys", name, owner, o)
		}
		owner = o
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, probe.Usagef("bad trust anchor %s: %v", name, err)
	}
	if len(out) == 0 {
		return nil, probe.Usagef("bad trust anchor %s: no DS or DNSKEY record", name)
	}
	return out, nil
}

func (n NameServer) String() string {
	return fmt.Sprintf("%s %v", n.Name, n.Addrs)
}
