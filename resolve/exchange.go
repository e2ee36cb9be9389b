package resolve

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// Errors a try can end with besides the network's own.
var (
	// ErrBadReply: the server sent bytes that are not a DNS reply to our query.
	ErrBadReply = errors.New("malformed reply")
)

// maxMsg caps the size of a reply read from the network.
const maxMsg = 65535

// sameQuestion reports whether reply r answers query q (see answers).
func sameQuestion(q, r *dns.Msg) bool {
	if len(q.Question) != 1 {
		return false
	}
	a := q.Question[0]
	return answers(r, q.Id, a.Name, a.Qtype, a.Qclass)
}

// answers reports whether r is the reply to query id asking name, qtype and
// qclass: the same ID, QR set, and the same question (matchQuestion). A reply
// with no question section is accepted only when it carries an error rcode
// (FORMERR, NOTIMP replies often drop it). Every exchange checks each message
// on its own: over a shared connection, a reply to another query does not
// match.
func answers(r *dns.Msg, id uint16, name string, qtype, qclass uint16) bool {
	if r.Id != id || !r.Response {
		return false
	}
	if len(r.Question) == 0 {
		return r.Rcode != dns.RcodeSuccess
	}
	if len(r.Question) != 1 {
		return false
	}
	b := r.Question[0]
	return matchQuestion(name, qtype, qclass, b.Name, b.Qtype, b.Qclass)
}

// matchQuestion is the one question match that every transport and the
// batch's fast path use: the types and classes are equal and the names are
// the same DNS name (sameName).
func matchQuestion(name string, qtype, qclass uint16, rname string, rtype, rclass uint16) bool {
	return qtype == rtype && qclass == rclass && sameName(name, rname)
}

// sameName reports whether two names in presentation form are the same DNS
// name, compared as DNS does (RFC 4343): label by label on the wire form,
// so escapes are decoded ("\032" and "\ " are one byte, "\126" is "~"),
// and case-insensitively on ASCII letters only (a UTF-8 byte is compared
// exactly).
func sameName(a, b string) bool {
	if strings.IndexByte(a, '\\') < 0 && strings.IndexByte(b, '\\') < 0 {
		return asciiEqualFold(a, b)
	}
	var ba, bb [256]byte
	wa, okA := wireName(ba[:], a)
	wb, okB := wireName(bb[:], b)
	return okA && okB && asciiEqualFold(string(wa), string(wb))
}

// wireName packs a fully qualified presentation-form name into buf.
func wireName(buf []byte, name string) ([]byte, bool) {
	off, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	return buf[:off], true
}

// asciiEqualFold compares a and b folding only ASCII letters (RFC 4343
// section 3: no Unicode case folding; strings.EqualFold folds the Kelvin
// sign to k). Wire-form length bytes are under 64, never letters.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// unpackReply unpacks a reply and checks it against its own header: a
// message whose header counts more (or fewer) records than it carries is
// malformed (miekg/dns quietly takes what is there; dig warns "Message
// parser reports malformed message packet", kdig refuses it). The message is
// returned with a description of what is wrong, so it can be shown as dig
// shows it and still be reported.
func unpackReply(buf []byte) (*dns.Msg, string, error) {
	m := new(dns.Msg)
	if err := m.Unpack(buf); err != nil {
		lm, lerr := lenientUnpack(buf)
		if lerr != nil {
			return m, "", err
		}
		m = lm
	}
	return m, malformed(buf, m), nil
}

// lenientUnpack reads a message in which miekg/dns refuses the data of a
// record that dig and kdig read (an SVCB ipv6hint holding an IPv4-mapped
// address, for one): such a record is kept in the RFC 3597 generic form
// (\# LEN HEX) instead of the whole reply being thrown away as garbage.
// Anything else that does not parse is still an error.
func lenientUnpack(buf []byte) (*dns.Msg, error) {
	if len(buf) < 12 {
		return nil, dns.ErrShortRead
	}
	hdr := make([]byte, 12)
	copy(hdr, buf[:4])
	m := new(dns.Msg)
	if err := m.Unpack(hdr); err != nil {
		return nil, err
	}
	off := 12
	for i := 0; i < int(binary.BigEndian.Uint16(buf[4:])); i++ {
		name, next, err := dns.UnpackDomainName(buf, off)
		if err != nil || next+4 > len(buf) {
			return nil, ErrBadReply
		}
		m.Question = append(m.Question, dns.Question{Name: name, Qtype: binary.BigEndian.Uint16(buf[next:]), Qclass: binary.BigEndian.Uint16(buf[next+2:])})
		off = next + 4
	}
	for si, sec := range []*[]dns.RR{&m.Answer, &m.Ns, &m.Extra} {
		for i := 0; i < int(binary.BigEndian.Uint16(buf[6+2*si:])); i++ {
			if off == len(buf) {
				break // fewer records than counted: malformed() says so
			}
			rr, next, err := dns.UnpackRR(buf, off)
			if err != nil {
				rr, next, err = genericRR(buf, off)
			}
			if err != nil {
				return nil, err
			}
			*sec = append(*sec, rr)
			off = next
		}
	}
	if opt := m.IsEdns0(); opt != nil {
		m.Rcode |= opt.ExtendedRcode()
	}
	return m, nil
}

// genericRR reads the record at off with its data as opaque bytes.
func genericRR(buf []byte, off int) (dns.RR, int, error) {
	name, next, err := dns.UnpackDomainName(buf, off)
	if err != nil || next+10 > len(buf) {
		return nil, 0, ErrBadReply
	}
	h := dns.RR_Header{Name: name, Rrtype: binary.BigEndian.Uint16(buf[next:]), Class: binary.BigEndian.Uint16(buf[next+2:]),
		Ttl: binary.BigEndian.Uint32(buf[next+4:]), Rdlength: binary.BigEndian.Uint16(buf[next+8:])}
	start := next + 10
	end := start + int(h.Rdlength)
	if end > len(buf) || h.Rrtype == dns.TypeOPT {
		return nil, 0, ErrBadReply
	}
	return &dns.RFC3597{Hdr: h, Rdata: hex.EncodeToString(buf[start:end])}, end, nil
}

// malformed compares the header's counts with the sections of m, unpacked
// from buf. Empty when they agree.
func malformed(buf []byte, m *dns.Msg) string {
	if len(buf) < 12 {
		return "shorter than a header"
	}
	var why []string
	for i, sec := range [4]struct {
		name string
		n    int
	}{{"question", len(m.Question)}, {"answer", len(m.Answer)}, {"authority", len(m.Ns)}, {"additional", len(m.Extra)}} {
		want := int(binary.BigEndian.Uint16(buf[4+2*i:]))
		if want != sec.n {
			why = append(why, fmt.Sprintf("header counts %d %s record(s), message carries %d", want, sec.name, sec.n))
		}
	}
	return strings.Join(why, "; ")
}

// ignoredError tells, at the deadline, that replies came but none fitted.
type ignoredError struct {
	err     error
	ignored int
	why     string
}

func (e *ignoredError) Error() string {
	return fmt.Sprintf("%v (ignored %s: %s)", e.err, probe.Count(e.ignored, "reply", "replies"), e.why)
}
func (e *ignoredError) Unwrap() error { return e.err }

// exchangeUDP sends q over a fresh connected UDP socket and waits until
// deadline for the reply to it. Replies with the wrong ID or question and
// garbage are ignored: a spoofer or a confused server cannot end the wait. A
// truncated reply (TC) is returned even when it does not unpack fully.
func exchangeUDP(ctx context.Context, addr string, q *dns.Msg, packed []byte, deadline time.Time, size int) (*dns.Msg, time.Duration, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	if _, err := conn.Write(packed); err != nil {
		return nil, 0, err
	}
	buf := make([]byte, udpBufSize(size))
	return readUDPReply(ctx, q, start, func() ([]byte, error) {
		n, err := conn.Read(buf)
		return buf[:n], err
	})
}

// udpBufSize is the room a UDP read has: what we advertised and more. A
// longer datagram is cut and then fails to unpack, so it is ignored like any
// other bad reply.
func udpBufSize(advertised int) int { return min(max(advertised, DefaultUDPSize)+1024, maxMsg) }

// readUDPReply takes datagrams from next until one is the reply to q (ID
// and question, see sameQuestion), a truncated reply to it, or a malformed
// reply to it; anything else is counted and ignored, and said in the error
// when no reply comes. Every UDP exchange, on its own socket or on a shared
// one (udpMux), goes through here.
func readUDPReply(ctx context.Context, q *dns.Msg, start time.Time, next func() ([]byte, error)) (*dns.Msg, time.Duration, error) {
	ignored, why := 0, ""
	for {
		buf, err := next()
		n := len(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			if ignored > 0 {
				return nil, 0, &ignoredError{err: err, ignored: ignored, why: why}
			}
			return nil, 0, err
		}
		rtt := time.Since(start)
		r, bad, uerr := unpackReply(buf[:n])
		if uerr != nil {
			// A truncated reply may not unpack; its header still tells.
			if n >= 12 && r.Id == q.Id && buf[2]&0x80 != 0 && buf[2]&0x02 != 0 {
				r.Truncated = true
				return r, rtt, nil
			}
			ignored, why = ignored+1, "garbage"
			continue
		}
		if bad != "" && replyTo(q, r) {
			return r, rtt, &malformedError{msg: r, why: bad}
		}
		if !sameQuestion(q, r) {
			ignored, why = ignored+1, "wrong ID or question"
			continue
		}
		return r, rtt, nil
	}
}

// replyTo is the match for a malformed message: the ID and QR, and the
// question when it has one. Such a message is reported, not waited past.
func replyTo(q, r *dns.Msg) bool {
	if len(q.Question) != 1 {
		return false
	}
	a := q.Question[0]
	return malformedReplyTo(r, q.Id, a.Name, a.Qtype, a.Qclass)
}

// malformedReplyTo is replyTo for query id asking name, qtype and qclass.
func malformedReplyTo(r *dns.Msg, id uint16, name string, qtype, qclass uint16) bool {
	if r.Id != id || !r.Response || len(r.Question) > 1 {
		return false
	}
	return len(r.Question) == 0 || matchQuestion(name, qtype, qclass, r.Question[0].Name, r.Question[0].Qtype, r.Question[0].Qclass)
}

// malformedError: the reply to the query came, but its header and its
// content disagree. msg holds what could be read.
type malformedError struct {
	msg *dns.Msg
	why string
}

func (e *malformedError) Error() string { return fmt.Sprintf("%v: %s", ErrBadReply, e.why) }
func (e *malformedError) Unwrap() error { return ErrBadReply }

// writeStreamMsg sends a packed message with its two-byte length (RFC 1035
// section 4.2.2).
func writeStreamMsg(c net.Conn, packed []byte) error {
	b := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(b, uint16(len(packed)))
	copy(b[2:], packed)
	_, err := c.Write(b)
	return err
}

// readStreamMsg reads one length-prefixed message into buf (which holds a
// maximal message).
func readStreamMsg(c net.Conn, buf []byte) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < 12 {
		return nil, fmt.Errorf("%w: %d-byte message, shorter than a DNS header", ErrBadReply, n)
	}
	if _, err := io.ReadFull(c, buf[:n]); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// exchangeStream sends q over TCP or TLS (one connection per exchange) and
// reads replies until the one for q comes or the deadline passes.
func exchangeStream(ctx context.Context, addr string, useTLS bool, tlsConf *tls.Config, q *dns.Msg, deadline time.Time) (*dns.Msg, time.Duration, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	start := time.Now()
	var c net.Conn
	var err error
	if useTLS {
		d := tls.Dialer{Config: tlsConf}
		c, err = d.DialContext(dctx, "tcp", addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if err := c.SetDeadline(deadline); err != nil {
		return nil, 0, err
	}
	packed, err := q.Pack()
	if err != nil {
		return nil, 0, err
	}
	if err := writeStreamMsg(c, packed); err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	buf := make([]byte, maxMsg)
	for i := 0; i < 16; i++ {
		b, err := readStreamMsg(c, buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			return nil, 0, err
		}
		r, bad, err := unpackReply(b)
		if err != nil {
			// The stream is out of step after a message that does not
			// parse: nothing after it can be trusted.
			return nil, 0, fmt.Errorf("%w: %v", ErrBadReply, err)
		}
		if bad != "" && replyTo(q, r) {
			return r, time.Since(start), &malformedError{msg: r, why: bad}
		}
		if sameQuestion(q, r) {
			return r, time.Since(start), nil
		}
	}
	return nil, 0, fmt.Errorf("%w: too many replies that do not answer the query", ErrBadReply)
}

// exchangeHTTPS sends q as an RFC 8484 POST (ID 0) and reads the reply.
func exchangeHTTPS(ctx context.Context, hc *http.Client, url string, q *dns.Msg, deadline time.Time) (*dns.Msg, time.Duration, error) {
	packed, err := q.Pack()
	if err != nil {
		return nil, 0, err
	}
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(packed))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/dns-message")
	req.Header.Set("Accept", "application/dns-message")
	start := time.Now()
	resp, err := hc.Do(req)
	if err == nil && rctx.Err() != nil {
		// net/http hands back a response that raced the cancel at our
		// deadline: a server that answers only when the client goes away
		// (the handler returns with an empty 200 once the connection
		// closes) got in under it. Anything that comes once the deadline
		// has passed is a timeout, not a reply.
		resp.Body.Close()
		err = rctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMsg+1))
	rtt := time.Since(start)
	if err == nil && rctx.Err() != nil {
		err = rctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%w: HTTP status %d", ErrBadReply, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/dns-message") {
		return nil, 0, fmt.Errorf("%w: content type %q, want application/dns-message", ErrBadReply, ct)
	}
	if len(body) > maxMsg {
		return nil, 0, fmt.Errorf("%w: reply over %d bytes", ErrBadReply, maxMsg)
	}
	r, bad, err := unpackReply(body)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if bad != "" && replyTo(q, r) {
		return r, rtt, &malformedError{msg: r, why: bad}
	}
	if !sameQuestion(q, r) {
		return nil, 0, fmt.Errorf("%w: the reply does not answer the query (ID or question differ)", ErrBadReply)
	}
	return r, rtt, nil
}
