package serve

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// Names are compared as DNS compares them (RFC 4343, RFC 1035 5.1): by
// their wire form, escapes decoded, with ASCII letters folded to lower case
// and every other byte compared as it is. The server keys its data by that
// canonical wire form ("key" below): "A\032b.Example." and "a\ b.example."
// are one name, "É.example." and "é.example." are two.

var errDNSLongName = errors.New("domain name longer than 255 octets")

// dnsKeyAppend appends the key of the presentation name name (made fully
// qualified) to dst.
func dnsKeyAppend(dst []byte, name string) ([]byte, error) {
	var buf [dnsMaxWireName + 64]byte
	name = dns.Fqdn(name)
	// miekg packs names of any length; the check is ours.
	if len(name) > 4*dnsMaxWireName {
		return dst, errDNSLongName
	}
	off, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		if errors.Is(err, dns.ErrBuf) {
			return dst, errDNSLongName
		}
		return dst, err
	}
	if off > dnsMaxWireName {
		return dst, errDNSLongName
	}
	start := len(dst)
	dst = append(dst, buf[:off]...)
	dnsLowerWire(dst[start:])
	return dst, nil
}

// dnsMaxWireName is the longest name on the wire (RFC 1035 2.3.4).
const dnsMaxWireName = 255

// dnsKey returns the key of a presentation name, or "" when it is not a
// valid name.
func dnsKey(name string) string {
	b, err := dnsKeyAppend(nil, name)
	if err != nil {
		return ""
	}
	return string(b)
}

// dnsLowerWire folds the ASCII letters of a wire-form name to lower case.
// Length octets are below 64 and so never letters.
func dnsLowerWire(b []byte) {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// dnsKeyParent returns the key without its first label ("" for the root).
func dnsKeyParent(k string) string {
	if len(k) <= 1 {
		return ""
	}
	return k[1+int(k[0]):]
}

// dnsKeyLabels counts the labels of a key (0 for the root).
func dnsKeyLabels(k string) int {
	n := 0
	for i := 0; i < len(k) && k[i] != 0; i += 1 + int(k[i]) {
		n++
	}
	return n
}

// dnsKeyIsSub reports whether k is parent or below it.
func dnsKeyIsSub(parent, k string) bool {
	for ; k != ""; k = dnsKeyParent(k) {
		if len(k) == len(parent) {
			return k == parent
		}
		if len(k) < len(parent) {
			return false
		}
	}
	return false
}

// dnsKeyName turns a key back into presentation format (lower case).
func dnsKeyName(k string) string {
	s, _, err := dns.UnpackDomainName([]byte(k), 0)
	if err != nil {
		return "."
	}
	return s
}

// dnsKeyLabelsOf returns the labels of k, leftmost first, as slices of k.
func dnsKeyLabelsOf(k string, into []string) []string {
	into = into[:0]
	for i := 0; i < len(k) && k[i] != 0; i += 1 + int(k[i]) {
		into = append(into, k[i+1:i+1+int(k[i])])
	}
	return into
}

// dnsKeyCompare orders keys canonically (RFC 4034 6.1): label by label
// from the root, each label as a string of octets (keys are lower case
// already).
func dnsKeyCompare(a, b string) int {
	var la, lb [128]string
	x, y := dnsKeyLabelsOf(a, la[:0]), dnsKeyLabelsOf(b, lb[:0])
	for i, j := len(x)-1, len(y)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(x[i], y[j]); c != 0 {
			return c
		}
	}
	return len(x) - len(y)
}
