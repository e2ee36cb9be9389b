package serve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// DNSZone is one zone the DNS server answers for, loaded from an RFC 1035
// master file. It is read-only once loaded and safe for concurrent use.
type DNSZone struct {
	origin string // apex, canonical: lower case, fully qualified
	file   string
	soa    *dns.SOA
	names  map[string]*dnsNode // every owner name and empty non-terminal, canonical
	cuts   map[string]bool     // names below the apex that carry NS: delegations
	count  int                 // records
}

// dnsNode is the data at one name. An empty non-terminal has no rrsets.
type dnsNode struct {
	rrsets map[uint16][]dns.RR
}

// Origin returns the zone's apex, in lower case and fully qualified.
func (z *DNSZone) Origin() string { return z.origin }

// File returns the name the zone was loaded from.
func (z *DNSZone) File() string { return z.file }

// Records returns the number of resource records in the zone.
func (z *DNSZone) Records() int { return z.count }

// dnsMaxZoneRecords bounds one zone so that a runaway $GENERATE or a huge
// file cannot eat the machine's memory.
const dnsMaxZoneRecords = 1_000_000

// dnsMaxZoneBytes bounds what one zone reads, its $INCLUDE files included:
// the parser holds a token whole in memory, so an endless file (/dev/zero,
// or a $INCLUDE of it) would otherwise eat all the machine's memory.
const dnsMaxZoneBytes = 64 << 20

var errDNSZoneTooBig = errors.New("zone text too large")

// dnsZoneBudget is the bytes a zone may still read, shared by its files.
type dnsZoneBudget struct{ left, max int64 }

type dnsZoneTooBig struct{ max int64 }

func (e dnsZoneTooBig) Error() string {
	return fmt.Sprintf("zone text larger than %d MiB, $INCLUDE files included", e.max>>20)
}

func (e dnsZoneTooBig) Is(target error) bool { return target == errDNSZoneTooBig }

type dnsBudgetReader struct {
	r io.Reader
	b *dnsZoneBudget
}

func (r *dnsBudgetReader) Read(p []byte) (int, error) {
	if r.b.left <= 0 {
		return 0, dnsZoneTooBig{r.b.max}
	}
	if int64(len(p)) > r.b.left {
		p = p[:r.b.left]
	}
	n, err := r.r.Read(p)
	r.b.left -= int64(n)
	return n, err
}

// dnsIncludeFS opens $INCLUDE files, which the parser names from the root,
// through the zone's budget.
type dnsIncludeFS struct{ b *dnsZoneBudget }

func (f dnsIncludeFS) Open(name string) (fs.File, error) {
	file, err := os.Open("/" + name)
	if err != nil {
		return nil, err
	}
	return &dnsBudgetFile{File: file, r: dnsBudgetReader{r: file, b: f.b}}, nil
}

type dnsBudgetFile struct {
	*os.File
	r dnsBudgetReader
}

func (f *dnsBudgetFile) Read(p []byte) (int, error) { return f.r.Read(p) }

// dnsDefaultTTL is the TTL of records that have none, in a file without
// $TTL (as nsd does).
const dnsDefaultTTL = 3600

// DNSLoadZoneFile reads the zone file at path. origin is the zone's name
// when the file does not say it with $ORIGIN ("" means: take the owner of
// the file's SOA record; relative names then need $ORIGIN). $INCLUDE is
// allowed. A record without a TTL, in a file without $TTL, gets 3600 s.
// Errors name the file and, for syntax errors, the line and column
// (file:line:col: message).
func DNSLoadZoneFile(path, origin string) (*DNSZone, error) {
	return dnsLoadZoneFile(path, origin, dnsMaxZoneBytes)
}

func dnsLoadZoneFile(path, origin string, maxBytes int64) (*DNSZone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zone file: %w", err)
	}
	defer f.Close()
	b := &dnsZoneBudget{left: maxBytes, max: maxBytes}
	zp := dnsZoneSource{r: &dnsBudgetReader{r: f, b: b}, name: path, include: true}
	if filepath.Separator == '/' {
		// $INCLUDE files are opened through the budget too. The parser
		// names them from the root when given a file system, so it is
		// given the file's absolute name, and errors are given back the
		// name the user wrote.
		if abs, err := filepath.Abs(path); err == nil {
			zp.name, zp.fsys = abs, dnsIncludeFS{b}
		}
	}
	return dnsParseZone(zp, origin, path, dnsMaxZoneRecords)
}

// DNSParseZone reads a zone in RFC 1035 master format from r; file names it
// in error messages. $INCLUDE is refused (r has no directory to resolve it
// against). See DNSLoadZoneFile for origin.
func DNSParseZone(r io.Reader, origin, file string) (*DNSZone, error) {
	b := &dnsZoneBudget{left: dnsMaxZoneBytes, max: dnsMaxZoneBytes}
	return dnsParseZone(dnsZoneSource{r: &dnsBudgetReader{r: r, b: b}, name: file}, origin, file, dnsMaxZoneRecords)
}

// dnsZoneSource is what the zone parser reads: the text, the name it
// reports in errors, whether $INCLUDE is allowed and where included files
// are opened (nil: os.Open).
type dnsZoneSource struct {
	r       io.Reader
	name    string
	include bool
	fsys    fs.FS
}

func dnsParseZone(src dnsZoneSource, origin, file string, maxRecords int) (*DNSZone, error) {
	if origin != "" {
		if _, ok := dns.IsDomainName(origin); !ok {
			return nil, fmt.Errorf("%s: bad zone name %q", file, origin)
		}
		origin = dns.CanonicalName(origin)
	}
	zp := dns.NewZoneParser(src.r, origin, src.name)
	zp.SetIncludeAllowed(src.include)
	if src.fsys != nil {
		zp.SetIncludeFS(src.fsys)
	}
	zp.SetDefaultTTL(dnsDefaultTTL)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if len(rrs) >= maxRecords {
			return nil, fmt.Errorf("%s: more than %d records", file, maxRecords)
		}
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		if errors.Is(err, errDNSZoneTooBig) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		err = dnsZoneError(err)
		if src.fsys != nil {
			msg := err.Error()
			if strings.HasPrefix(msg, src.name+":") {
				msg = file + strings.TrimPrefix(msg, src.name)
			} else if !strings.HasPrefix(msg, "/") {
				msg = "/" + msg // an included file, named from the root
			}
			err = errors.New(msg)
		}
		return nil, err
	}
	return dnsBuildZone(rrs, origin, file)
}

// dnsParseErrRe picks miekg's "file: dns: msg: "tok" at line: L:C" apart.
var dnsParseErrRe = regexp.MustCompile(`^(?:(.*): )?dns: (.*) at line: (\d+):(\d+)$`)

// dnsZoneError rewrites a zone parser error as "file:line:col: message", the
// form editors and compilers use.
func dnsZoneError(err error) error {
	m := dnsParseErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	file := m[1]
	if file == "" {
		file = "zone"
	}
	return errors.New(file + ":" + m[3] + ":" + m[4] + ": " + m[2])
}

func dnsBuildZone(rrs []dns.RR, origin, file string) (*DNSZone, error) {
	if origin == "" {
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeSOA {
				origin = dns.CanonicalName(rr.Header().Name)
				break
			}
		}
		if origin == "" {
			return nil, fmt.Errorf("%s: no SOA record: a zone needs one at its apex", file)
		}
	}
	z := &DNSZone{origin: origin, file: file, names: map[string]*dnsNode{}, cuts: map[string]bool{}}
	z.names[origin] = &dnsNode{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			return nil, fmt.Errorf("%s: %s: class %s is not served (only IN)", file, h.Name, dns.ClassToString[h.Class])
		}
		name := dns.CanonicalName(h.Name)
		if !dns.IsSubDomain(origin, name) {
			return nil, fmt.Errorf("%s: %s is outside the zone %s", file, h.Name, origin)
		}
		if h.Rrtype == dns.TypeSOA && name != origin {
			return nil, fmt.Errorf("%s: SOA record at %s, below the zone's apex %s", file, h.Name, origin)
		}
		if h.Rrtype == dns.TypeOPT {
			return nil, fmt.Errorf("%s: %s: OPT is not a zone record", file, h.Name)
		}
		n := z.names[name]
		if n == nil {
			n = &dnsNode{}
			z.names[name] = n
			// Every name between it and the apex exists (empty non-terminals).
			for p := dnsParent(name); p != "" && p != origin; p = dnsParent(p) {
				if z.names[p] != nil {
					break
				}
				z.names[p] = &dnsNode{}
			}
		}
		if n.rrsets == nil {
			n.rrsets = map[uint16][]dns.RR{}
		}
		dup := false
		for _, old := range n.rrsets[h.Rrtype] {
			if dns.IsDuplicate(old, rr) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		n.rrsets[h.Rrtype] = append(n.rrsets[h.Rrtype], rr)
		z.count++
	}
	soas := z.names[origin].rrsets[dns.TypeSOA]
	switch len(soas) {
	case 0:
		return nil, fmt.Errorf("%s: no SOA record at the apex %s", file, origin)
	case 1:
		z.soa = soas[0].(*dns.SOA)
	default:
		return nil, fmt.Errorf("%s: %d SOA records at %s, want one", file, len(soas), origin)
	}
	for name, n := range z.names {
		if c := n.rrsets[dns.TypeCNAME]; len(c) > 0 {
			if len(c) > 1 {
				return nil, fmt.Errorf("%s: %s has %d CNAME records, want one", file, name, len(c))
			}
			for t := range n.rrsets {
				if t != dns.TypeCNAME && t != dns.TypeRRSIG && t != dns.TypeNSEC {
					return nil, fmt.Errorf("%s: %s has a CNAME and %s records (a CNAME must stand alone, RFC 1034 3.6.2)", file, name, dns.TypeToString[t])
				}
			}
			if name == origin {
				return nil, fmt.Errorf("%s: CNAME at the zone's apex %s", file, name)
			}
		}
		if name != origin && len(n.rrsets[dns.TypeNS]) > 0 {
			z.cuts[name] = true
		}
	}
	return z, nil
}

// dnsParent returns name without its first label ("" for the root).
func dnsParent(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return ""
	}
	return name[off:]
}

// negativeSOA is the SOA for the authority section of NXDOMAIN and NODATA
// answers: its TTL is the smaller of the SOA's TTL and its MINIMUM field
// (RFC 2308 section 3).
func (z *DNSZone) negativeSOA() dns.RR {
	soa := *z.soa
	if soa.Minttl < soa.Hdr.Ttl {
		soa.Hdr.Ttl = soa.Minttl
	}
	return &soa
}

// WriteTo writes the zone in master-file format, sorted by name and type.
func (z *DNSZone) WriteTo(w io.Writer) (int64, error) {
	names := make([]string, 0, len(z.names))
	for n := range z.names {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return dnsCanonicalLess(names[i], names[j]) })
	var b strings.Builder
	fmt.Fprintf(&b, "; zone %s from %s: %s\n$ORIGIN %s\n", z.origin, z.file, probe.Count(z.count, "record", "records"), z.origin)
	for _, name := range names {
		n := z.names[name]
		types := make([]int, 0, len(n.rrsets))
		for t := range n.rrsets {
			types = append(types, int(t))
		}
		sort.Ints(types)
		// The SOA first, as every zone file has it.
		if name == z.origin {
			sort.SliceStable(types, func(i, j int) bool { return types[i] == int(dns.TypeSOA) && types[j] != int(dns.TypeSOA) })
		}
		for _, t := range types {
			for _, rr := range n.rrsets[uint16(t)] {
				b.WriteString(rr.String())
				b.WriteByte('\n')
			}
		}
	}
	k, err := io.WriteString(w, b.String())
	return int64(k), err
}

// dnsCanonicalLess orders names as DNSSEC does (RFC 4034 6.1): by labels
// from the right, so a zone's apex comes first and children follow parents.
func dnsCanonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if la[i] != lb[j] {
			return la[i] < lb[j]
		}
	}
	return len(la) < len(lb)
}
