package resolve

import (
	"bytes"
	"context"
	"crypto/tls"
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

// sameQuestion reports whether reply r answers query q: same ID and the same
// question (name compared without regard to case). A reply with no question
// section is accepted only when it carries an error rcode (FORMERR, NOTIMP
// replies often drop it).
func sameQuestion(q, r *dns.Msg) bool {
	if len(q.Question) != 1 {
		return false
	}
	a := q.Question[0]
	return answers(r, q.Id, a.Name, a.Qtype, a.Qclass)
}

// answers reports whether r is the reply to query id asking name, qtype and
// qclass.
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
	return qtype == b.Qtype && qclass == b.Qclass && strings.EqualFold(name, b.Name)
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
	// Room for what we advertised and more: a longer datagram is cut and
	// then fails to unpack, so it is ignored like any other bad reply.
	buf := make([]byte, min(max(size, DefaultUDPSize)+1024, maxMsg))
	ignored, why := 0, ""
	for {
		n, err := conn.Read(buf)
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
		r := new(dns.Msg)
		uerr := r.Unpack(buf[:n])
		if uerr != nil {
			// A truncated reply may not unpack; its header still tells.
			if n >= 12 && r.Id == q.Id && buf[2]&0x80 != 0 && buf[2]&0x02 != 0 {
				r.Truncated = true
				return r, rtt, nil
			}
			ignored, why = ignored+1, "garbage"
			continue
		}
		if !sameQuestion(q, r) {
			ignored, why = ignored+1, "wrong ID or question"
			continue
		}
		return r, rtt, nil
	}
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
	co := &dns.Conn{Conn: c}
	if err := co.WriteMsg(q); err != nil {
		return nil, 0, err
	}
	for i := 0; i < 16; i++ {
		r, err := co.ReadMsg()
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, 0, err
			}
			return nil, 0, fmt.Errorf("%w: %v", ErrBadReply, err)
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
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMsg+1))
	rtt := time.Since(start)
	if err != nil {
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
	r := new(dns.Msg)
	if err := r.Unpack(body); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if !sameQuestion(q, r) {
		return nil, 0, fmt.Errorf("%w: the reply does not answer the query (ID or question differ)", ErrBadReply)
	}
	return r, rtt, nil
}
