package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// DNSZone is one zone the DNS server answers for, loaded from an RFC 1035
// master file. It is read-only once loaded and safe for concurrent use.
//
// Names are keyed by their canonical wire form (see dnsKey). NSEC3 records
// live apart from the other names (RFC 5155 7.2.8): their owners are not
// names of the zone, make no empty non-terminals and match no query.
type DNSZone struct {
	origin string // apex, presentation format: lower case, fully qualified
	okey   string // apex, key
	file   string
	soa    *dns.SOA
	nxSOA  *dnsRRset // the SOA and its RRSIGs for negative answers (RFC 2308 3)
	apex   *dnsNode
	names  map[string]*dnsNode // every owner name and empty non-terminal, by key
	sorted []*dnsNode          // the same, in canonical order (RFC 4034 6.1)
	nsec3  []*dnsNode          // NSEC3 owners, in hash order
	n3keys map[string]*dnsNode // the same, by key
	param  *dns.NSEC3PARAM     // the apex's NSEC3PARAM: the zone is signed with NSEC3
	signed bool                // the apex has a DNSKEY: answer DO queries with RRSIGs and proofs
	count  int                 // records
}

// dnsNode is the data at one name. An empty non-terminal has no sets.
type dnsNode struct {
	key  string
	name string      // presentation format, as the zone file wrote it first
	sets []*dnsRRset // in the order the zone file gave them
	sigs []dns.RR    // every RRSIG at the name, for RRSIG queries
	cut  bool        // NS below the apex: a delegation
	idx  int         // position in DNSZone.sorted
}

// dnsRRset is the records of one type at one name and the RRSIGs that
// cover them.
type dnsRRset struct {
	t    uint16
	rrs  []dns.RR
	sigs []dns.RR
}

// set returns the records of type t (nil when there are none).
func (n *dnsNode) set(t uint16) *dnsRRset {
	if n == nil {
		return nil
	}
	for _, s := range n.sets {
		if s.t == t && len(s.rrs) > 0 {
			return s
		}
	}
	return nil
}

// rrs returns the records of type t.
func (n *dnsNode) rrs(t uint16) []dns.RR {
	if s := n.set(t); s != nil {
		return s.rrs
	}
	return nil
}

// node returns the node of a presentation name, nil when there is none.
func (z *DNSZone) node(name string) *dnsNode { return z.names[dnsKey(name)] }

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
type dnsIncludeFS struct {
	b *dnsZoneBudget
	t *dnsLineTracker
}

func (f dnsIncludeFS) Open(name string) (fs.File, error) {
	file, err := os.Open("/" + name)
	if err != nil {
		return nil, err
	}
	bf := &dnsBudgetFile{File: file}
	bf.lr = f.t.reader(&dnsBudgetReader{r: file, b: f.b}, "/"+name)
	return bf, nil
}

// dnsBudgetFile is an included file, read through the zone's budget and
// the line tracker (the parser reads it byte by byte with ReadByte).
type dnsBudgetFile struct {
	*os.File
	lr *dnsLineReader
}

func (f *dnsBudgetFile) Read(p []byte) (int, error) { return f.lr.Read(p) }
func (f *dnsBudgetFile) ReadByte() (byte, error)    { return f.lr.ReadByte() }

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
			zp.name, zp.fsys = abs, dnsIncludeFS{b: b}
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

// dnsLineTracker follows the zone parser through the files it reads, so
// that a record it returns can be given its file and line, and keeps the
// text of that record for the checks the parser does not make.
type dnsLineTracker struct {
	cur *dnsLineReader // the reader that gave the last byte
	raw []byte         // the text read since the last record came back
	err error          // a read error other than the end of a file
}

// dnsLineReader is one file's text, read byte by byte.
type dnsLineReader struct {
	br   *bufio.Reader
	name string
	line int
	last byte
	t    *dnsLineTracker
}

// dnsMaxRecordText caps the text kept for one record's checks; a longer
// record is checked on its first part only (the parser refuses tokens
// that long anyway).
const dnsMaxRecordText = 1 << 20

func (t *dnsLineTracker) reader(r io.Reader, name string) *dnsLineReader {
	return &dnsLineReader{br: bufio.NewReaderSize(r, 32<<10), name: name, line: 1, t: t}
}

func (r *dnsLineReader) ReadByte() (byte, error) {
	c, err := r.br.ReadByte()
	if err != nil {
		if err != io.EOF && r.t.err == nil {
			r.t.err = err
		}
		return c, err
	}
	if r.last == '\n' {
		r.line++
	}
	r.last = c
	r.t.cur = r
	if len(r.t.raw) < dnsMaxRecordText {
		r.t.raw = append(r.t.raw, c)
	}
	return c, nil
}

func (r *dnsLineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	return n, nil
}

// where is "file:line" of the record the parser returned last: the line
// it starts on (a record in parentheses goes on over several lines).
func (t *dnsLineTracker) where() string {
	if t.cur == nil {
		return "zone"
	}
	return t.cur.name + ":" + strconv.Itoa(t.cur.line-dnsRecordLines(t.raw))
}

// dnsRecordLines counts the line ends inside the record at the end of raw
// (the text since the record before it): from the start of its first line
// (not blank, not only a comment, not a $ directive) to its last byte.
func dnsRecordLines(raw []byte) int {
	body := bytes.TrimRight(raw, "\n")
	start := 0
	for start < len(body) {
		end := bytes.IndexByte(body[start:], '\n')
		if end < 0 {
			break
		}
		line := bytes.TrimSpace(body[start : start+end])
		if len(line) != 0 && line[0] != ';' && line[0] != '$' {
			break
		}
		start += end + 1
	}
	return bytes.Count(body[start:], []byte("\n"))
}

// dnsZoneRR is a record and where the zone text has it.
type dnsZoneRR struct {
	rr    dns.RR
	where string
}

func dnsParseZone(src dnsZoneSource, origin, file string, maxRecords int) (*DNSZone, error) {
	if origin != "" {
		if _, ok := dns.IsDomainName(origin); !ok {
			return nil, fmt.Errorf("%s: bad zone name %q", file, origin)
		}
		origin = dns.CanonicalName(origin)
	}
	t := &dnsLineTracker{}
	top := t.reader(src.r, file)
	zp := dns.NewZoneParser(top, origin, src.name)
	zp.SetIncludeAllowed(src.include)
	if fsys, ok := src.fsys.(dnsIncludeFS); ok {
		fsys.t = t
		zp.SetIncludeFS(fsys)
	} else if src.fsys != nil {
		zp.SetIncludeFS(src.fsys)
	}
	zp.SetDefaultTTL(dnsDefaultTTL)
	var rrs []dnsZoneRR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if len(rrs) >= maxRecords {
			return nil, fmt.Errorf("%s: more than %d records", file, maxRecords)
		}
		if t.err != nil {
			break // the record is cut short: report why
		}
		where := t.where()
		if err := dnsCheckRecord(rr, t.raw); err != nil {
			return nil, fmt.Errorf("%s: %s", where, err)
		}
		t.raw = t.raw[:0]
		rrs = append(rrs, dnsZoneRR{rr, where})
	}
	err := zp.Err()
	if err == nil {
		err = t.err
	}
	if err != nil {
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
var dnsParseErrRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:(.*): )?dns: (.*) at line: (\d+):(\d+)$`) })

// dnsZoneError rewrites a zone parser error as "file:line:col: message", the
// form editors and compilers use.
func dnsZoneError(err error) error {
	m := dnsParseErrRe().FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	file := m[1]
	if file == "" {
		file = "zone"
	}
	return errors.New(file + ":" + m[3] + ":" + m[4] + ": " + m[2])
}

// dnsCheckRecord makes the checks of one record that the parser leaves
// out and nsd-checkzone and named-checkzone make: every name at most 255
// octets on the wire (RFC 1035 2.3.4), every \DDD escape a byte (at most
// 255, three digits), every character-string at most 255 octets (the
// parser splits a longer TXT string in two without a word). raw is the
// record's text.
func dnsCheckRecord(rr dns.RR, raw []byte) error {
	if _, err := dnsKeyAppend(nil, rr.Header().Name); err != nil {
		return fmt.Errorf("%s: owner name: %v", dnsShort(rr.Header().Name), err)
	}
	if err := dnsCheckRdataNames(rr); err != nil {
		return err
	}
	strs := false
	switch rr.Header().Rrtype {
	case dns.TypeTXT, dns.TypeSPF, dns.TypeHINFO, dns.TypeNAPTR, dns.TypeISDN, dns.TypeX25, dns.TypeAVC, dns.TypeRESINFO:
		strs = true
	}
	return dnsCheckText(raw, strs)
}

// dnsShort cuts a name for an error message.
func dnsShort(s string) string {
	if len(s) > 60 {
		return s[:40] + "..." + s[len(s)-12:]
	}
	return s
}

// dnsCheckRdataNames checks the names in a record's data (the fields miekg
// tags as domain names).
func dnsCheckRdataNames(rr dns.RR) error {
	v := reflect.ValueOf(rr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	typ := v.Type()
	for i := 0; i < v.NumField(); i++ {
		tag := typ.Field(i).Tag.Get("dns")
		if tag != "domain-name" && tag != "cdomain-name" {
			continue
		}
		f := v.Field(i)
		var names []string
		switch f.Kind() {
		case reflect.String:
			names = []string{f.String()}
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				for j := 0; j < f.Len(); j++ {
					names = append(names, f.Index(j).String())
				}
			}
		}
		for _, n := range names {
			if _, err := dnsKeyAppend(nil, n); err != nil {
				return fmt.Errorf("%s %s: %s: %v", dns.TypeToString[rr.Header().Rrtype], typ.Field(i).Name, dnsShort(n), err)
			}
		}
	}
	return nil
}

// dnsCheckText goes through a record's text as the zone parser reads it
// (comments, quoted strings, escapes) and refuses bad escapes and, when
// strs is set, tokens (character-strings) longer than 255 octets.
func dnsCheckText(raw []byte, strs bool) error {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == ';':
			for i < len(raw) && raw[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')':
			i++
		default:
			quoted := c == '"'
			if quoted {
				i++
			}
			n := 0 // octets of the token
			for i < len(raw) {
				c = raw[i]
				if quoted && c == '"' {
					i++
					break
				}
				if !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == ';' || c == '"') {
					break
				}
				if c == '\\' {
					if i+1 >= len(raw) {
						return errors.New(`bad escape: "\" at the end`)
					}
					if d := raw[i+1]; d >= '0' && d <= '9' {
						if !dnsDigits(raw[i+1 : min(i+4, len(raw))]) {
							return fmt.Errorf("bad escape \"%s\": \\DDD needs three digits", dnsEscText(raw[i:min(i+4, len(raw))]))
						}
						if v := int(raw[i+1]-'0')*100 + int(raw[i+2]-'0')*10 + int(raw[i+3]-'0'); v > 255 {
							return fmt.Errorf("bad escape \"%s\": \\DDD is a byte, at most \\255", dnsEscText(raw[i:i+4]))
						}
						i += 4
					} else {
						i += 2
					}
				} else {
					i++
				}
				n++
			}
			if strs && n > 255 {
				return fmt.Errorf("a character-string of %d octets: at most 255 (split it into several quoted strings)", n)
			}
		}
	}
	return nil
}

func dnsDigits(b []byte) bool {
	if len(b) != 3 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// dnsEscText shows zone text in an error: printable ASCII as it is,
// anything else as \DDD.
func dnsEscText(b []byte) string {
	var out strings.Builder
	for _, c := range b {
		if c >= ' ' && c <= '~' {
			out.WriteByte(c)
		} else {
			fmt.Fprintf(&out, "\\%03d", c)
		}
	}
	return out.String()
}

func dnsBuildZone(rrs []dnsZoneRR, origin, file string) (*DNSZone, error) {
	if origin == "" {
		for _, r := range rrs {
			if r.rr.Header().Rrtype == dns.TypeSOA {
				origin = dns.CanonicalName(r.rr.Header().Name)
				break
			}
		}
		if origin == "" {
			return nil, fmt.Errorf("%s: no SOA record: a zone needs one at its apex", file)
		}
	}
	okey := dnsKey(origin)
	if okey == "" {
		return nil, fmt.Errorf("%s: bad zone name %q", file, origin)
	}
	origin = dnsKeyName(okey)
	z := &DNSZone{origin: origin, okey: okey, file: file, names: map[string]*dnsNode{}, n3keys: map[string]*dnsNode{}}
	z.apex = &dnsNode{key: okey, name: origin}
	z.names[okey] = z.apex
	// The first two records of each set (indexes into rrs), so that an
	// error names the record that broke a rule, as the checkers do.
	recs := map[*dnsRRset][]int{}
	nth := func(set *dnsRRset, i int) string {
		if l := recs[set]; i < len(l) {
			return rrs[l[i]].where
		}
		return file
	}
	later := func(a, b *dnsRRset) string {
		if recs[a][0] > recs[b][0] {
			return nth(a, 0)
		}
		return nth(b, 0)
	}
	for ri, r := range rrs {
		rr := r.rr
		h := rr.Header()
		if h.Class != dns.ClassINET {
			return nil, fmt.Errorf("%s: %s: class %s is not served (only IN)", r.where, h.Name, dns.ClassToString[h.Class])
		}
		key := dnsKey(h.Name)
		if !dnsKeyIsSub(okey, key) {
			return nil, fmt.Errorf("%s: %s is outside the zone %s", r.where, h.Name, origin)
		}
		if h.Rrtype == dns.TypeSOA && key != okey {
			return nil, fmt.Errorf("%s: SOA record at %s, below the zone's apex %s", r.where, h.Name, origin)
		}
		if h.Rrtype == dns.TypeOPT {
			return nil, fmt.Errorf("%s: %s: OPT is not a zone record", r.where, h.Name)
		}
		// NSEC3 records and the RRSIGs over them are kept apart.
		nsec3 := h.Rrtype == dns.TypeNSEC3
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeNSEC3 {
			nsec3 = true
		}
		var n *dnsNode
		if nsec3 {
			if n = z.n3keys[key]; n == nil {
				n = &dnsNode{key: key, name: h.Name}
				z.n3keys[key] = n
			}
		} else if n = z.names[key]; n == nil {
			n = &dnsNode{key: key, name: h.Name}
			z.names[key] = n
			// Every name between it and the apex exists (empty non-terminals).
			for p := dnsKeyParent(key); p != "" && p != okey; p = dnsKeyParent(p) {
				if z.names[p] != nil {
					break
				}
				z.names[p] = &dnsNode{key: p, name: dnsKeyName(p)}
			}
		}
		t := h.Rrtype
		if sig, ok := rr.(*dns.RRSIG); ok {
			t = sig.TypeCovered
		}
		var set *dnsRRset
		for _, s := range n.sets {
			if s.t == t {
				set = s
				break
			}
		}
		if set == nil {
			set = &dnsRRset{t: t}
			n.sets = append(n.sets, set)
		}
		list := &set.rrs
		if h.Rrtype == dns.TypeRRSIG {
			list = &set.sigs
		}
		dup := false
		for _, old := range *list {
			if dns.IsDuplicate(old, rr) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		*list = append(*list, rr)
		if h.Rrtype != dns.TypeRRSIG && len(recs[set]) < 2 {
			recs[set] = append(recs[set], ri)
		}
		if h.Rrtype == dns.TypeRRSIG {
			n.sigs = append(n.sigs, rr)
		}
		z.count++
	}
	soas := z.apex.rrs(dns.TypeSOA)
	switch len(soas) {
	case 0:
		return nil, fmt.Errorf("%s: no SOA record at the apex %s", file, origin)
	case 1:
		z.soa = soas[0].(*dns.SOA)
		ttl := min(z.soa.Hdr.Ttl, z.soa.Minttl)
		z.nxSOA = &dnsRRset{t: dns.TypeSOA}
		for _, rr := range append([]dns.RR{z.soa}, z.apex.set(dns.TypeSOA).sigs...) {
			c := dns.Copy(rr)
			c.Header().Ttl = ttl
			if c.Header().Rrtype == dns.TypeSOA {
				z.nxSOA.rrs = append(z.nxSOA.rrs, c)
			} else {
				z.nxSOA.sigs = append(z.nxSOA.sigs, c)
			}
		}
	default:
		return nil, fmt.Errorf("%s: %d SOA records at %s, want one", nth(z.apex.set(dns.TypeSOA), 1), len(soas), origin)
	}
	for key, n := range z.names {
		if c := n.rrs(dns.TypeCNAME); len(c) > 0 {
			if len(c) > 1 {
				return nil, fmt.Errorf("%s: %s has %d CNAME records, want one", nth(n.set(dns.TypeCNAME), 1), n.name, len(c))
			}
			for _, s := range n.sets {
				if len(s.rrs) > 0 && s.t != dns.TypeCNAME && s.t != dns.TypeNSEC {
					return nil, fmt.Errorf("%s: %s has a CNAME and %s records (a CNAME must stand alone, RFC 1034 3.6.2)", later(n.set(dns.TypeCNAME), s), n.name, dnsTypeName(s.t))
				}
			}
			if key == okey {
				return nil, fmt.Errorf("%s: CNAME at the zone's apex %s", nth(n.set(dns.TypeCNAME), 0), n.name)
			}
		}
		if d := n.rrs(dns.TypeDNAME); len(d) > 1 {
			return nil, fmt.Errorf("%s: %s has %d DNAME records, want one (RFC 6672 2.4)", nth(n.set(dns.TypeDNAME), 1), n.name, len(d))
		}
		if key != okey && len(n.rrs(dns.TypeNS)) > 0 {
			n.cut = true
		}
	}
	for _, n := range z.names {
		z.sorted = append(z.sorted, n)
	}
	sort.Slice(z.sorted, func(i, j int) bool { return dnsKeyCompare(z.sorted[i].key, z.sorted[j].key) < 0 })
	for i, n := range z.sorted {
		n.idx = i
	}
	for _, n := range z.n3keys {
		z.nsec3 = append(z.nsec3, n)
	}
	sort.Slice(z.nsec3, func(i, j int) bool { return dnsKeyCompare(z.nsec3[i].key, z.nsec3[j].key) < 0 })
	z.signed = len(z.apex.rrs(dns.TypeDNSKEY)) > 0
	for _, rr := range z.apex.rrs(dns.TypeNSEC3PARAM) {
		if p := rr.(*dns.NSEC3PARAM); p.Hash == dns.SHA1 && p.Flags == 0 {
			z.param = p
			break
		}
	}
	return z, nil
}

// WriteTo writes the zone in master-file format, sorted by name (canonical
// order) and type; the NSEC3 records come last.
func (z *DNSZone) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "; zone %s from %s: %s\n$ORIGIN %s\n", z.origin, z.file, probe.Count(z.count, "record", "records"), z.origin)
	write := func(n *dnsNode) {
		sets := append([]*dnsRRset(nil), n.sets...)
		sort.SliceStable(sets, func(i, j int) bool {
			// The SOA first, as every zone file has it.
			if (sets[i].t == dns.TypeSOA) != (sets[j].t == dns.TypeSOA) {
				return sets[i].t == dns.TypeSOA
			}
			return sets[i].t < sets[j].t
		})
		for _, s := range sets {
			for _, rr := range s.rrs {
				b.WriteString(rr.String())
				b.WriteByte('\n')
			}
			for _, rr := range s.sigs {
				b.WriteString(rr.String())
				b.WriteByte('\n')
			}
		}
	}
	for _, n := range z.sorted {
		write(n)
	}
	for _, n := range z.nsec3 {
		write(n)
	}
	k, err := io.WriteString(w, b.String())
	return int64(k), err
}
