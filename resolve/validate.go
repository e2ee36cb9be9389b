package resolve

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Verdicts, as RFC 4035 section 4.3 names the states.
const (
	Secure        = "secure"
	Insecure      = "insecure"
	Bogus         = "bogus"
	Indeterminate = "indeterminate"
)

// Reason codes of a bogus or indeterminate verdict (stable, in JSON as
// "code"); the text reason says the same as delv would.
const (
	BogusExpired      = "rrsig_expired"
	BogusNotYetValid  = "rrsig_not_yet_valid"
	BogusBadSignature = "bad_signature"
	BogusMissingRRSIG = "missing_rrsig"
	BogusNoKey        = "no_matching_dnskey" // an RRSIG names a key tag the zone does not have
	BogusDSNoKey      = "ds_no_matching_dnskey"
	BogusNoDNSKEY     = "no_dnskey"
	BogusNoDSProof    = "no_ds_proof"
	BogusNSECProof    = "bad_nsec_proof"
	IndetNoData       = "no_data" // a query needed for the chain got no usable reply
)

// Validation is the DNSSEC verdict on an answer and on each zone of its
// chain of trust.
type Validation struct {
	Type    string        `json:"type"` // "dnssec_validation"
	Verdict string        `json:"verdict"`
	Code    string        `json:"code,omitempty"`
	Reason  string        `json:"reason"`
	Anchor  []string      `json:"anchor"`
	Zones   []ZoneVerdict `json:"zones"`
}

// ZoneVerdict is one zone of the chain: DS in the parent, DNSKEY in the
// zone, and whether they hold.
type ZoneVerdict struct {
	Type    string   `json:"type"` // "dnssec_zone"
	Zone    string   `json:"zone"`
	Verdict string   `json:"verdict"`
	Code    string   `json:"code,omitempty"`
	Reason  string   `json:"reason"`
	DS      []string `json:"ds"`     // "KEYTAG ALG DIGESTTYPE" of the DS set that was trusted
	DNSKEY  []string `json:"dnskey"` // "KEYTAG ALG FLAGS"
}

// vErr is a validation failure with its code.
type vErr struct {
	code string
	msg  string
}

func (e *vErr) Error() string { return e.msg }

func verr(code, format string, args ...any) *vErr {
	return &vErr{code: code, msg: fmt.Sprintf(format, args...)}
}

// chainZone is what the chain needs of one zone.
type chainZone struct {
	zone   string
	dsMsg  *dns.Msg // the parent's reply with the DS set or its denial (nil at the anchor)
	keyMsg *dns.Msg // the zone's DNSKEY reply
	// fetchDS asks the parent for the DS set when dsMsg has neither the
	// set nor a denial (a referral may leave both out).
	fetchDS func() *dns.Msg
}

// rrsetOf returns the records of name/type in rrs and the RRSIGs over them.
func rrsetOf(rrs []dns.RR, name string, rtype uint16) ([]dns.RR, []*dns.RRSIG) {
	var set []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, name) {
			continue
		}
		if h.Rrtype == rtype {
			set = append(set, rr)
		} else if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == rtype {
			sigs = append(sigs, s)
		}
	}
	return set, sigs
}

// verifySet checks that some RRSIG by one of keys over set is valid now.
// The error, when none is, tells the most telling reason: an expired
// signature that verifies beats a bad one beats none at all.
func verifySet(set []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, signer string, now time.Time) *vErr {
	if len(set) == 0 {
		return verr(IndetNoData, "no records")
	}
	h := set[0].Header()
	what := fmt.Sprintf("%s %s", h.Name, TypeString(h.Rrtype))
	if len(sigs) == 0 {
		return verr(BogusMissingRRSIG, "no RRSIG over %s", what)
	}
	var best *vErr
	rank := func(e *vErr) int {
		switch e.code {
		case BogusExpired, BogusNotYetValid:
			return 3
		case BogusBadSignature:
			return 2
		}
		return 1
	}
	for _, sig := range sigs {
		if !strings.EqualFold(sig.SignerName, signer) {
			e := verr(BogusBadSignature, "RRSIG over %s is by %s, not by the zone %s", what, sig.SignerName, signer)
			if best == nil || rank(e) > rank(best) {
				best = e
			}
			continue
		}
		found := false
		for _, k := range keys {
			if k.KeyTag() != sig.KeyTag || k.Algorithm != sig.Algorithm {
				continue
			}
			found = true
			if err := sig.Verify(k, set); err != nil {
				e := verr(BogusBadSignature, "RRSIG over %s (key %d) does not verify: %v", what, sig.KeyTag, err)
				if best == nil || rank(e) > rank(best) {
					best = e
				}
				continue
			}
			if !sig.ValidityPeriod(now) {
				code, word := BogusExpired, "has expired"
				if now.Before(time.Unix(int64(sig.Inception), 0)) && uint32(now.Unix()) < sig.Inception {
					code, word = BogusNotYetValid, "is not yet valid"
				}
				e := verr(code, "RRSIG over %s (key %d) %s: valid %s to %s", what, sig.KeyTag, word,
					dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
				if best == nil || rank(e) > rank(best) {
					best = e
				}
				continue
			}
			return nil
		}
		if !found {
			e := verr(BogusNoKey, "RRSIG over %s names key %d, which is not in the DNSKEY set of %s", what, sig.KeyTag, signer)
			if best == nil || rank(e) > rank(best) {
				best = e
			}
		}
	}
	return best
}

func dnskeys(rrs []dns.RR) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			out = append(out, k)
		}
	}
	return out
}

func dsText(rrs []dns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		if d, ok := rr.(*dns.DS); ok {
			out = append(out, fmt.Sprintf("%d %s %d", d.KeyTag, dns.AlgorithmToString[d.Algorithm], d.DigestType))
		}
	}
	return out
}

func keyText(keys []*dns.DNSKEY) []string {
	out := []string{}
	for _, k := range keys {
		role := "ZSK"
		if k.Flags&dns.SEP != 0 {
			role = "KSK"
		}
		out = append(out, fmt.Sprintf("%d %s %s", k.KeyTag(), dns.AlgorithmToString[k.Algorithm], role))
	}
	return out
}

// matchDS returns the keys that a DS record (or a DNSKEY anchor) vouches for.
func matchDS(trusted []dns.RR, keys []*dns.DNSKEY) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range keys {
		for _, t := range trusted {
			switch v := t.(type) {
			case *dns.DS:
				if v.KeyTag != k.KeyTag() || v.Algorithm != k.Algorithm {
					continue
				}
				if ds := k.ToDS(v.DigestType); ds != nil && strings.EqualFold(ds.Digest, v.Digest) {
					out = append(out, k)
				}
			case *dns.DNSKEY:
				if v.Algorithm == k.Algorithm && v.PublicKey == k.PublicKey && v.Flags == k.Flags {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// walkChain checks every zone from the anchor down. It returns the zone
// verdicts, the validated keys of the last zone, and the state reached:
// secure, insecure (at a delegation without DS) or bogus, with reason.
func walkChain(anchors []dns.RR, zones []chainZone, now time.Time) ([]ZoneVerdict, []*dns.DNSKEY, string, *vErr) {
	var out []ZoneVerdict
	var parentKeys []*dns.DNSKEY
	state := Secure
	var why *vErr
	for i, z := range zones {
		zv := ZoneVerdict{Type: "dnssec_zone", Zone: z.zone, DS: []string{}, DNSKEY: []string{}}
		if state != Secure {
			zv.Verdict = state
			if state == Insecure {
				zv.Reason = "below an insecure delegation"
			} else {
				zv.Verdict = Indeterminate
				zv.Reason = "not checked: a zone above is bogus"
			}
			out = append(out, zv)
			continue
		}
		trusted := anchors
		if i > 0 {
			set, e := zoneDS(z, zones[i-1].zone, parentKeys, now)
			switch {
			case e != nil:
				state, why = Bogus, e
			case set == nil:
				state = Insecure
				zv.Verdict, zv.Reason = Insecure, fmt.Sprintf("no DS for %s in %s (proven): an insecure delegation", z.zone, zones[i-1].zone)
				out = append(out, zv)
				continue
			}
			trusted = set
		}
		zv.DS = dsText(trusted)
		if state == Secure {
			var keyRRs []dns.RR
			var sigs []*dns.RRSIG
			if z.keyMsg != nil {
				keyRRs, sigs = rrsetOf(z.keyMsg.Answer, z.zone, dns.TypeDNSKEY)
			}
			keys := dnskeys(keyRRs)
			zv.DNSKEY = keyText(keys)
			switch {
			case z.keyMsg == nil:
				state, why = Bogus, verr(IndetNoData, "no DNSKEY reply from %s", z.zone)
			case len(keys) == 0:
				state, why = Bogus, verr(BogusNoDNSKEY, "%s has DS records in its parent but no DNSKEY set", z.zone)
			default:
				sep := matchDS(trusted, keys)
				if len(sep) == 0 {
					state, why = Bogus, verr(BogusDSNoKey, "no DNSKEY of %s matches its DS records (DS %s; DNSKEY %s)", z.zone, strings.Join(dsText(trusted), ", "), strings.Join(keyText(keys), ", "))
				} else if e := verifySet(keyRRs, sigs, sep, z.zone, now); e != nil {
					state, why = Bogus, verr(e.code, "DNSKEY set of %s: %s", z.zone, e.msg)
				} else {
					parentKeys = zoneKeys(keys)
				}
			}
		}
		if state == Bogus {
			zv.Verdict, zv.Code, zv.Reason = Bogus, why.code, why.msg
			if why.code == IndetNoData {
				zv.Verdict = Indeterminate
			}
		} else {
			zv.Verdict, zv.Reason = Secure, "DS matches a DNSKEY, which signs the DNSKEY set"
		}
		out = append(out, zv)
	}
	return out, parentKeys, state, why
}

// zoneKeys are the keys that may sign zone data (the ZONE flag set).
func zoneKeys(keys []*dns.DNSKEY) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range keys {
		if k.Flags&dns.ZONE != 0 {
			out = append(out, k)
		}
	}
	return out
}

// zoneDS returns the validated DS set of z, nil with no error when the
// parent proves there is none.
func zoneDS(z chainZone, parent string, parentKeys []*dns.DNSKEY, now time.Time) ([]dns.RR, *vErr) {
	try := func(m *dns.Msg) ([]dns.RR, *vErr, bool) {
		if m == nil {
			return nil, nil, false
		}
		all := append(append([]dns.RR{}, m.Answer...), m.Ns...)
		set, sigs := rrsetOf(all, z.zone, dns.TypeDS)
		if len(set) > 0 {
			if e := verifySet(set, sigs, parentKeys, parent, now); e != nil {
				return nil, verr(e.code, "DS set of %s in %s: %s", z.zone, parent, e.msg), true
			}
			return set, nil, true
		}
		if e := provenNoDS(m, z.zone, parent, parentKeys, now); e == nil {
			return nil, nil, true
		} else if e.code != IndetNoData {
			return nil, e, true
		}
		return nil, nil, false
	}
	if set, e, done := try(z.dsMsg); done {
		return set, e
	}
	if z.fetchDS != nil {
		if set, e, done := try(z.fetchDS()); done {
			return set, e
		}
	}
	return nil, verr(BogusNoDSProof, "%s gives neither a DS set for %s nor a signed proof that there is none (insecurity proof failed)", parent, z.zone)
}

// denial holds the signed NSEC or NSEC3 records of a negative reply.
type denial struct {
	nsec  []*dns.NSEC
	nsec3 []*dns.NSEC3
}

// denials verifies the NSEC/NSEC3 records of m's authority section with
// the zone's keys.
func denials(m *dns.Msg, zone string, keys []*dns.DNSKEY, now time.Time) (denial, *vErr) {
	var d denial
	owners := map[string]uint16{}
	for _, rr := range m.Ns {
		switch rr.Header().Rrtype {
		case dns.TypeNSEC, dns.TypeNSEC3:
			owners[strings.ToLower(rr.Header().Name)] = rr.Header().Rrtype
		}
	}
	names := make([]string, 0, len(owners))
	for n := range owners {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		set, sigs := rrsetOf(m.Ns, n, owners[n])
		if e := verifySet(set, sigs, keys, zone, now); e != nil {
			return d, e
		}
		for _, rr := range set {
			switch v := rr.(type) {
			case *dns.NSEC:
				d.nsec = append(d.nsec, v)
			case *dns.NSEC3:
				if v.Hash != dns.SHA1 || v.Iterations > 500 {
					continue
				}
				d.nsec3 = append(d.nsec3, v)
			}
		}
	}
	return d, nil
}

func hasType(bitmap []uint16, t uint16) bool {
	for _, b := range bitmap {
		if b == t {
			return true
		}
	}
	return false
}

// provenNoDS checks a signed proof that child has no DS in parent: an NSEC
// at the child without DS (and without SOA), or an NSEC3 that matches it
// likewise, or an opt-out NSEC3 covering it.
func provenNoDS(m *dns.Msg, child, parent string, keys []*dns.DNSKEY, now time.Time) *vErr {
	d, e := denials(m, parent, keys, now)
	if e != nil {
		return verr(e.code, "the proof that %s has no DS: %s", child, e.msg)
	}
	if len(d.nsec) == 0 && len(d.nsec3) == 0 {
		return verr(IndetNoData, "no NSEC or NSEC3")
	}
	for _, n := range d.nsec {
		if strings.EqualFold(n.Hdr.Name, child) && hasType(n.TypeBitMap, dns.TypeNS) && !hasType(n.TypeBitMap, dns.TypeDS) && !hasType(n.TypeBitMap, dns.TypeSOA) {
			return nil
		}
	}
	for _, n := range d.nsec3 {
		if n.Match(child) && !hasType(n.TypeBitMap, dns.TypeDS) && !hasType(n.TypeBitMap, dns.TypeSOA) {
			return nil
		}
	}
	if ce, next, ok := closestEncloser(d.nsec3, child); ok && ce != "" {
		for _, n := range d.nsec3 {
			if nsec3Covers(n, next) && n.Flags&1 == 1 {
				return nil
			}
		}
	}
	return verr(BogusNoDSProof, "no NSEC/NSEC3 record proves that %s has no DS (insecurity proof failed)", child)
}

// nsec3Covers: the hash of name lies strictly between the owner's hash and
// the next one (RFC 5155 section 1.3). miekg's Cover also says yes when the
// hash equals the owner's, which is a match (the name exists), not a cover.
func nsec3Covers(n *dns.NSEC3, name string) bool {
	return n.Cover(name) && !n.Match(name)
}

// closestEncloser finds, with NSEC3, the closest encloser of name: an
// ancestor that an NSEC3 matches while the next closer name is covered
// (RFC 5155 section 8.3).
func closestEncloser(recs []*dns.NSEC3, name string) (string, string, bool) {
	labels := dns.Split(name)
	for i := 1; i <= len(labels); i++ {
		ce := "."
		if i < len(labels) {
			ce = name[labels[i]:]
		}
		next := name[labels[i-1]:]
		matched := false
		for _, n := range recs {
			if n.Match(ce) {
				matched = true
				break
			}
		}
		if !matched {
			continue
		}
		for _, n := range recs {
			if nsec3Covers(n, next) {
				return ce, next, true
			}
		}
		return ce, next, false
	}
	return "", "", false
}

// canonicalLess orders names as RFC 4034 section 6.1 does: label by label
// from the right, each compared as lowercase bytes.
func canonicalLess(a, b string) bool {
	la, lb := rawLabels(a), rawLabels(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		x, y := la[len(la)-i], lb[len(lb)-i]
		if x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}

// rawLabels splits a presentation-form name into lowercased wire labels
// (\DDD and \X escapes undone).
func rawLabels(name string) []string {
	var out []string
	var cur []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' && i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
			cur = append(cur, (name[i+1]-'0')*100+(name[i+2]-'0')*10+(name[i+3]-'0'))
			i += 3
		case c == '\\' && i+1 < len(name):
			cur = append(cur, name[i+1])
			i++
		case c == '.':
			out = append(out, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	for i := range out {
		out[i] = strings.ToLower(out[i])
	}
	return out
}

// nsecCovers reports whether n proves that name does not exist: name lies
// strictly between the owner and the next name, in canonical order (the
// last NSEC wraps around to the apex).
func nsecCovers(n *dns.NSEC, name string) bool {
	owner, next := n.Hdr.Name, n.NextDomain
	if canonicalLess(owner, next) {
		return canonicalLess(owner, name) && canonicalLess(name, next)
	}
	return canonicalLess(owner, name) || canonicalLess(name, next)
}

// nsecEncloser is the closest encloser of qname that an NSEC covering it
// shows: the longest ancestor of qname shared with the NSEC's owner or
// next name, within zone.
func nsecEncloser(cover *dns.NSEC, qname, zone string) string {
	ce := zone
	labels := dns.Split(qname)
	for _, other := range []string{cover.Hdr.Name, cover.NextDomain} {
		c := dns.CompareDomainName(qname, other)
		if c > 0 && c <= len(labels) {
			cand := qname[labels[len(labels)-c]:]
			if dns.CountLabel(cand) > dns.CountLabel(ce) && dns.IsSubDomain(zone, cand) {
				ce = cand
			}
		}
	}
	return ce
}

// wildcardAt is the wildcard name directly below ce.
func wildcardAt(ce string) string {
	if ce == "." {
		return "*."
	}
	return "*." + ce
}

// checkNegative checks the proof in a signed NXDOMAIN or NODATA reply.
func checkNegative(m *dns.Msg, qname string, qtype uint16, zone string, keys []*dns.DNSKEY, now time.Time) *vErr {
	soa, soaSigs := rrsetOf(m.Ns, zone, dns.TypeSOA)
	if len(soa) > 0 {
		if e := verifySet(soa, soaSigs, keys, zone, now); e != nil {
			return e
		}
	}
	d, e := denials(m, zone, keys, now)
	if e != nil {
		return e
	}
	nx := m.Rcode == dns.RcodeNameError
	kind := "NODATA"
	if nx {
		kind = "NXDOMAIN"
	}
	if len(d.nsec) == 0 && len(d.nsec3) == 0 {
		return verr(BogusNSECProof, "%s for %s comes with no NSEC or NSEC3 proof", kind, qname)
	}
	if len(d.nsec) > 0 {
		if !nx {
			for _, n := range d.nsec {
				if strings.EqualFold(n.Hdr.Name, qname) {
					if hasType(n.TypeBitMap, qtype) || hasType(n.TypeBitMap, dns.TypeCNAME) {
						return verr(BogusNSECProof, "the NSEC at %s lists %s: the NODATA proof fails", qname, TypeString(qtype))
					}
					return nil
				}
			}
			// A wildcard NODATA (RFC 4035 section 3.1.3.4): an NSEC covers
			// qname and the NSEC of the wildcard at its closest encloser
			// lacks the type.
			for _, cover := range d.nsec {
				if !nsecCovers(cover, qname) {
					continue
				}
				wild := wildcardAt(nsecEncloser(cover, qname, zone))
				for _, n := range d.nsec {
					if strings.EqualFold(n.Hdr.Name, wild) {
						if hasType(n.TypeBitMap, qtype) || hasType(n.TypeBitMap, dns.TypeCNAME) {
							return verr(BogusNSECProof, "the NSEC at the wildcard %s lists %s: the NODATA proof for %s fails", wild, TypeString(qtype), qname)
						}
						return nil
					}
				}
				return verr(BogusNSECProof, "an NSEC covers %s but none matches the wildcard %s: the NODATA proof fails", qname, wild)
			}
			return verr(BogusNSECProof, "no NSEC matches %s: the NODATA proof fails", qname)
		}
		var cover *dns.NSEC
		for _, n := range d.nsec {
			if nsecCovers(n, qname) {
				cover = n
			}
		}
		if cover == nil {
			return verr(BogusNSECProof, "no NSEC covers %s: the NXDOMAIN proof fails", qname)
		}
		// The wildcard at the closest encloser must not exist (covered):
		// an NSEC at the wildcard itself says it does, and then the name
		// would have been synthesised from it, not denied.
		wild := wildcardAt(nsecEncloser(cover, qname, zone))
		for _, n := range d.nsec {
			if nsecCovers(n, wild) {
				return nil
			}
		}
		return verr(BogusNSECProof, "no NSEC proves that %s does not exist: the NXDOMAIN proof fails", wild)
	}
	if !nx {
		for _, n := range d.nsec3 {
			if n.Match(qname) {
				if hasType(n.TypeBitMap, qtype) || hasType(n.TypeBitMap, dns.TypeCNAME) {
					return verr(BogusNSECProof, "the NSEC3 matching %s lists %s: the NODATA proof fails", qname, TypeString(qtype))
				}
				return nil
			}
		}
		if qtype == dns.TypeDS {
			if _, next, ok := closestEncloser(d.nsec3, qname); ok {
				for _, n := range d.nsec3 {
					if nsec3Covers(n, next) && n.Flags&1 == 1 {
						return nil
					}
				}
			}
		}
		// A wildcard NODATA (RFC 5155 section 8.7): the closest encloser
		// proof, and an NSEC3 matching the wildcard at the closest
		// encloser without the type.
		if ce, _, ok := closestEncloser(d.nsec3, qname); ce != "" && ok {
			wild := wildcardAt(ce)
			for _, n := range d.nsec3 {
				if n.Match(wild) {
					if hasType(n.TypeBitMap, qtype) || hasType(n.TypeBitMap, dns.TypeCNAME) {
						return verr(BogusNSECProof, "the NSEC3 matching the wildcard %s lists %s: the NODATA proof for %s fails", wild, TypeString(qtype), qname)
					}
					return nil
				}
			}
			return verr(BogusNSECProof, "no NSEC3 matches %s nor the wildcard %s: the NODATA proof fails", qname, wild)
		}
		return verr(BogusNSECProof, "no NSEC3 matches %s: the NODATA proof fails", qname)
	}
	ce, next, ok := closestEncloser(d.nsec3, qname)
	if ce == "" {
		return verr(BogusNSECProof, "no NSEC3 matches a closest encloser of %s: the NXDOMAIN proof fails", qname)
	}
	if !ok {
		return verr(BogusNSECProof, "no NSEC3 covers the next closer name %s: the NXDOMAIN proof fails", next)
	}
	wild := wildcardAt(ce)
	for _, n := range d.nsec3 {
		if nsec3Covers(n, wild) {
			return nil
		}
	}
	return verr(BogusNSECProof, "no NSEC3 covers the wildcard %s: the NXDOMAIN proof fails", wild)
}

// checkPositive verifies every RRset of the answer chain with the zone's keys.
func checkPositive(recs []dns.RR, zone string, keys []*dns.DNSKEY, now time.Time) *vErr {
	type key struct {
		name  string
		rtype uint16
	}
	var order []key
	seen := map[key]bool{}
	for _, rr := range recs {
		h := rr.Header()
		if h.Rrtype == dns.TypeRRSIG {
			continue
		}
		k := key{strings.ToLower(h.Name), h.Rrtype}
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	for _, k := range order {
		// A CNAME synthesised from a DNAME is not signed (RFC 6672).
		if k.rtype == dns.TypeCNAME && synthesised(recs, k.name) {
			continue
		}
		set, sigs := rrsetOf(recs, k.name, k.rtype)
		if e := verifySet(set, sigs, keys, zone, now); e != nil {
			return e
		}
	}
	return nil
}

// checkWildcard: an RRset whose RRSIG has fewer labels than its owner was
// expanded from a wildcard, and the reply must prove that the owner itself
// does not exist: with NSEC, a record that covers it (RFC 4035 section
// 5.3.4); with NSEC3, one that covers the next closer name, the owner cut
// to one label more than the wildcard's parent (RFC 5155 section 8.8).
func checkWildcard(final *dns.Msg, recs []dns.RR, zone string, keys []*dns.DNSKEY, now time.Time) *vErr {
	var d *denial
	for _, rr := range recs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || !strings.EqualFold(sig.SignerName, zone) {
			continue
		}
		owner := sig.Hdr.Name
		n := dns.CountLabel(owner)
		if int(sig.Labels) >= n || int(sig.Labels) == n-1 && strings.HasPrefix(owner, "*.") {
			continue // not expanded (a wildcard owner asked by its own name has labels n-1)
		}
		what := fmt.Sprintf("%s %s", owner, TypeString(sig.TypeCovered))
		if d == nil {
			got, e := denials(final, zone, keys, now)
			if e != nil {
				return verr(e.code, "the proof for the wildcard answer %s: %s", what, e.msg)
			}
			d = &got
		}
		idx := dns.Split(owner)
		next := owner[idx[n-int(sig.Labels)-1]:]
		proven := false
		for _, x := range d.nsec {
			proven = proven || nsecCovers(x, owner)
		}
		for _, x := range d.nsec3 {
			proven = proven || nsec3Covers(x, next)
		}
		if !proven {
			if len(d.nsec3) > 0 && len(d.nsec) == 0 {
				return verr(BogusNSECProof, "wildcard answer %s without a proof that %s does not exist (no NSEC3 covers the next closer name)", what, next)
			}
			return verr(BogusNSECProof, "wildcard answer %s without a proof that %s does not exist", what, owner)
		}
	}
	return nil
}

func synthesised(recs []dns.RR, name string) bool {
	for _, rr := range recs {
		if d, ok := rr.(*dns.DNAME); ok && dns.IsSubDomain(d.Hdr.Name, name) && !strings.EqualFold(d.Hdr.Name, name) {
			return true
		}
	}
	return false
}

// judgeAnswer combines a chain walk with the answer's own check.
func judgeAnswer(anchors []dns.RR, zones []chainZone, final *dns.Msg, qname string, qtype uint16, now time.Time) ([]ZoneVerdict, string, *vErr) {
	zv, keys, state, why := walkChain(anchors, zones, now)
	if state != Secure {
		return zv, state, why
	}
	zone := zones[len(zones)-1].zone
	var e *vErr
	if final.Rcode == dns.RcodeNameError || !hasData(chainRecords(final, qname), chainEndName(chainRecords(final, qname), qname), qtype) && final.Rcode == dns.RcodeSuccess && len(chainRecords(final, qname)) == 0 {
		e = checkNegative(final, qname, qtype, zone, keys, now)
	} else {
		e = checkPositive(chainRecords(final, qname), zone, keys, now)
		if e == nil {
			e = checkWildcard(final, chainRecords(final, qname), zone, keys, now)
		}
	}
	if e != nil {
		return zv, Bogus, e
	}
	return zv, Secure, nil
}

func anchorText(anchors []dns.RR) []string {
	out := []string{}
	for _, a := range anchors {
		switch v := a.(type) {
		case *dns.DS:
			out = append(out, fmt.Sprintf("%s DS %d %s %d", v.Hdr.Name, v.KeyTag, dns.AlgorithmToString[v.Algorithm], v.DigestType))
		case *dns.DNSKEY:
			out = append(out, fmt.Sprintf("%s DNSKEY %d %s", v.Hdr.Name, v.KeyTag(), dns.AlgorithmToString[v.Algorithm]))
		}
	}
	return out
}

// combine folds segment verdicts: bogus beats indeterminate beats insecure
// beats secure.
func combine(v *Validation, state string, why *vErr, zv []ZoneVerdict) {
	rank := map[string]int{Secure: 0, Insecure: 1, Indeterminate: 2, Bogus: 3}
	if why != nil && why.code == IndetNoData && state == Bogus {
		state = Indeterminate
	}
	for _, z := range zv {
		dup := false
		for _, have := range v.Zones {
			if have.Zone == z.Zone {
				dup = true
			}
		}
		if !dup {
			v.Zones = append(v.Zones, z)
		}
	}
	if v.Verdict == "" || rank[state] > rank[v.Verdict] {
		v.Verdict = state
		v.Code, v.Reason = "", ""
		if why != nil {
			v.Code, v.Reason = why.code, why.msg
		}
	}
}

func finishReason(v *Validation, negative bool) {
	if v.Reason != "" {
		return
	}
	switch v.Verdict {
	case Secure:
		v.Reason = "fully validated"
		if negative {
			v.Reason = "negative response, fully validated"
		}
	case Insecure:
		v.Reason = "unsigned answer"
	}
}

// validate runs the chain over what the trace collected.
func (t *tracer) validate(ctx context.Context) *Validation {
	anchors := t.o.Anchors
	if anchors == nil {
		anchors = RootAnchors()
	}
	v := &Validation{Type: "dnssec_validation", Anchor: anchorText(anchors), Zones: []ZoneVerdict{}}
	for _, seg := range t.res.segments {
		if seg.final == nil {
			continue
		}
		var zones []chainZone
		idx := map[string]int{}
		for _, li := range seg.levels {
			lv := t.res.Levels[li]
			k := strings.ToLower(lv.Zone)
			if _, ok := idx[k]; !ok {
				idx[k] = len(zones)
				zones = append(zones, chainZone{zone: lv.Zone})
			}
			cz := &zones[idx[k]]
			if cz.keyMsg == nil {
				cz.keyMsg = pickKeys(lv)
			}
			if lv.Outcome == "referral" && lv.chosen != nil {
				ck := strings.ToLower(lv.Referral)
				parentLv := lv
				childIdx := len(zones)
				idx[ck] = childIdx
				zones = append(zones, chainZone{zone: lv.Referral, dsMsg: lv.chosen})
				child := lv.Referral
				zones[childIdx].fetchDS = func() *dns.Msg { return t.askAny(ctx, parentLv, child, dns.TypeDS) }
			}
		}
		zv, state, why := judgeAnswer(anchors, zones, seg.final, seg.qname, t.res.Question.qtype, t.o.Now)
		combine(v, state, why, zv)
	}
	finishReason(v, t.res.Status != "answer")
	return v
}

// pickKeys is the first authoritative DNSKEY reply of a level, in server order.
func pickKeys(lv *TraceLevel) *dns.Msg {
	for _, s := range lv.Servers {
		if m := lv.keys[s.Addr]; m != nil && m.Rcode == dns.RcodeSuccess && m.Authoritative {
			return m
		}
	}
	for _, s := range lv.Servers {
		if m := lv.keys[s.Addr]; m != nil {
			return m
		}
	}
	return nil
}

// askAny asks the servers of a level, in order, until one replies.
func (t *tracer) askAny(ctx context.Context, lv *TraceLevel, name string, qtype uint16) *dns.Msg {
	for _, s := range lv.Servers {
		a, err := netip.ParseAddr(s.Addr)
		if err != nil {
			continue
		}
		if r := t.ask(ctx, a, name, qtype, dns.ClassINET); r.Msg != nil {
			return r.Msg
		}
	}
	return nil
}

// ValidateOptions shape the validation of an ordinary (recursive) answer.
type ValidateOptions struct {
	Anchors []dns.RR
	Now     time.Time
	Query   Options
}

// Validate asks server s (a recursive resolver, or an authoritative server
// of every zone on the way) for q with DO and CD set, then for the DS and
// DNSKEY sets up to the root, and checks the chain of trust from the anchor.
func Validate(ctx context.Context, s Server, q Question, o ValidateOptions) *Validation {
	anchors := o.Anchors
	if anchors == nil {
		anchors = RootAnchors()
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	v := &Validation{Type: "dnssec_validation", Anchor: anchorText(anchors), Zones: []ZoneVerdict{}}
	// DO and CD set: the resolver must pass bogus data on for us to judge
	// it. The queries go through Client.Lookup (retries, TCP on
	// truncation, ID and question matched); a malformed reply counts as
	// none.
	c := &Client{Opts: o.Query}
	c.Opts.DNSSEC, c.Opts.CD = true, true
	defer c.Close()
	ask := func(name string, qtype uint16) *dns.Msg {
		r := c.Lookup(ctx, s, NewQuestion(name, qtype, q.qclass))
		if r.Malformed != "" {
			return nil
		}
		return r.Msg
	}
	final := ask(q.Name, q.qtype)
	if final == nil {
		v.Verdict, v.Code, v.Reason = Indeterminate, IndetNoData, fmt.Sprintf("no reply from %s", s)
		return v
	}
	if final.Rcode != dns.RcodeSuccess && final.Rcode != dns.RcodeNameError {
		v.Verdict, v.Code, v.Reason = Indeterminate, IndetNoData, fmt.Sprintf("%s answered %s", s, RcodeString(final.Rcode))
		return v
	}
	recs := chainRecords(final, q.Name)
	negative := final.Rcode == dns.RcodeNameError || !hasData(recs, chainEndName(recs, q.Name), q.qtype)
	// Group the answer by the zone that signed it; a negative answer or an
	// unsigned one belongs to the zone of the SOA.
	type part struct {
		zone  string
		qname string
	}
	var parts []part
	for _, rr := range recs {
		if sig, ok := rr.(*dns.RRSIG); ok {
			dup := false
			for _, p := range parts {
				dup = dup || strings.EqualFold(p.zone, sig.SignerName)
			}
			if !dup {
				parts = append(parts, part{zone: sig.SignerName, qname: sig.Hdr.Name})
			}
		}
	}
	if len(parts) == 0 || negative {
		zone := soaOwner(final)
		if zone == "" {
			if m := ask(q.Name, dns.TypeSOA); m != nil {
				zone = soaOwner(m)
			}
		}
		if zone == "" {
			v.Verdict, v.Code, v.Reason = Indeterminate, IndetNoData, "cannot find the zone of "+q.Name
			return v
		}
		end := chainEndName(recs, q.Name)
		parts = append(parts[:0], part{zone: zone, qname: end})
	}
	for _, p := range parts {
		zones, e := discoverChain(ask, p.zone)
		if e != nil {
			combine(v, Indeterminate, e, nil)
			continue
		}
		sub := &dns.Msg{}
		sub.Rcode = final.Rcode
		sub.Ns = final.Ns
		for _, rr := range recs {
			h := rr.Header()
			signer := ""
			if sig, ok := rr.(*dns.RRSIG); ok {
				signer = sig.SignerName
			}
			if signer != "" && strings.EqualFold(signer, p.zone) || signer == "" && dns.IsSubDomain(p.zone, h.Name) {
				sub.Answer = append(sub.Answer, rr)
			}
		}
		if len(sub.Answer) == 0 && !negative {
			continue
		}
		first := q.Name
		if len(sub.Answer) > 0 {
			first = sub.Answer[0].Header().Name
		}
		if negative {
			first = p.qname
		}
		zv, state, why := judgeAnswer(anchors, zones, sub, first, q.qtype, o.Now)
		combine(v, state, why, zv)
	}
	finishReason(v, negative)
	return v
}

func soaOwner(m *dns.Msg) string {
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeSOA {
				return rr.Header().Name
			}
		}
	}
	return ""
}

// discoverChain finds the zones from the root down to zone by asking for
// DS sets: the signer of each DS set (or the SOA of its denial) is the
// parent.
func discoverChain(ask func(string, uint16) *dns.Msg, zone string) ([]chainZone, *vErr) {
	var up []chainZone
	cur := zone
	for i := 0; i < 32; i++ {
		cz := chainZone{zone: cur, keyMsg: ask(cur, dns.TypeDNSKEY)}
		if cur == "." {
			up = append(up, cz)
			break
		}
		ds := ask(cur, dns.TypeDS)
		if ds == nil {
			return nil, verr(IndetNoData, "no reply to the DS query for %s", cur)
		}
		cz.dsMsg = ds
		parent := ""
		if set, sigs := rrsetOf(ds.Answer, cur, dns.TypeDS); len(set) > 0 && len(sigs) > 0 {
			parent = sigs[0].SignerName
		} else {
			parent = soaOwner(ds)
		}
		if parent == "" || strings.EqualFold(parent, cur) || !dns.IsSubDomain(parent, cur) {
			// No signer and no SOA: take the name one label up.
			labels := dns.Split(cur)
			if len(labels) < 2 {
				parent = "."
			} else {
				parent = cur[labels[1]:]
			}
		}
		up = append(up, cz)
		cur = parent
	}
	if len(up) == 0 || up[len(up)-1].zone != "." {
		return nil, verr(IndetNoData, "the chain from %s does not reach the root", zone)
	}
	out := make([]chainZone, len(up))
	for i := range up {
		out[i] = up[len(up)-1-i]
	}
	return out, nil
}
