package serve

import (
	"strings"
	"sync"
)

// The built-in example zones: what `nettool serve dns` answers when no
// --zone is given, and what `nettool demo` and the tests query. Every address
// in them is a loopback address, so a client that follows an answer stays on
// this machine.

const dnsExampleForward = `; nettool's built-in example zone (nettool serve dns --show-zone prints it).
; Every address is a loopback address.
$ORIGIN example.test.
$TTL 300
@       3600 IN SOA ns1 hostmaster (
                2026112501 ; serial
                3600       ; refresh
                600        ; retry
                86400      ; expire
                60 )       ; minimum: the TTL of negative answers (NXDOMAIN, NODATA)
        IN NS     ns1
        IN MX     10 mail
        IN TXT    "v=spf1 -all"
ns1     IN A      127.0.0.1
        IN AAAA   ::1
; www is an alias: resolvers follow the CNAME to host.
www     IN CNAME  host
host    IN A      127.0.0.1
        IN AAAA   ::1
mail    IN A      127.0.0.2
; alias -> www -> host: a CNAME chain of two steps.
alias   IN CNAME  www
; A CNAME to a name that does not exist: the answer is NXDOMAIN after the CNAME.
dangling IN CNAME nowhere
txt     IN TXT    "hello from nettool" "a second string"
_http._tcp IN SRV 0 0 8000 host
; deep.example.test exists only as a parent of leaf.deep: an empty non-terminal (NODATA).
leaf.deep IN A    127.0.0.3
; big has 40 TXT records, about 2.9 KB: too big for UDP (1232 bytes), so the
; server sets TC and the client retries over TCP.
big     IN TXT    "big.example.test record 01 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 02 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 03 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 04 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 05 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 06 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 07 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 08 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 09 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 10 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 11 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 12 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 13 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 14 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 15 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 16 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 17 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 18 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 19 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 20 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 21 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 22 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 23 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 24 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 25 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 26 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 27 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 28 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 29 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 30 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 31 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 32 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 33 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 34 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 35 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 36 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 37 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 38 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 39 of 40: padding so the whole answer needs TCP"
        IN TXT    "big.example.test record 40 of 40: padding so the whole answer needs TCP"
`

const dnsExampleReverse4 = `; Reverse zone for the example zone's IPv4 loopback addresses (-x 127.0.0.1).
$ORIGIN 127.in-addr.arpa.
$TTL 300
@       3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60
        IN NS     ns1.example.test.
1.0.0   IN PTR    host.example.test.
2.0.0   IN PTR    mail.example.test.
3.0.0   IN PTR    leaf.deep.example.test.
`

const dnsExampleReverse6 = `; Reverse zone for ::1 (-x ::1): ::/124 in nibble form.
$ORIGIN 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.
$TTL 300
@       3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60
        IN NS     ns1.example.test.
1       IN PTR    host.example.test.
`

// DNSExampleZoneText returns the built-in zones as master-file text, the
// forward zone example.test. first.
func DNSExampleZoneText() string {
	return dnsExampleForward + "\n" + dnsExampleReverse4 + "\n" + dnsExampleReverse6
}

var (
	dnsExampleOnce  sync.Once
	dnsExampleZones []*DNSZone
)

// DNSExampleZones returns the built-in zones: example.test. and the reverse
// zones of its addresses. They are parsed once and shared (zones are
// read-only).
func DNSExampleZones() []*DNSZone {
	dnsExampleOnce.Do(func() {
		for _, text := range []string{dnsExampleForward, dnsExampleReverse4, dnsExampleReverse6} {
			z, err := DNSParseZone(strings.NewReader(text), "", "built-in")
			if err != nil {
				panic("serve: built-in zone: " + err.Error()) // a test catches this
			}
			dnsExampleZones = append(dnsExampleZones, z)
		}
	})
	return dnsExampleZones
}
