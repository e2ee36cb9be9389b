package resolve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Queries over TCP and TLS share long-lived connections in a batch: RFC 7766
// (6.2.1.1) lets a client send many queries on one connection without waiting,
// and a server answer them in any order. Each connection has a reader that
// hands every reply to the query whose ID it carries, and only when the reply
// also asks that query's question (the same check a lone exchange makes, per
// message, never per connection). A reply nobody waits for is dropped.
//
// A connection that closes or breaks fails the queries still waiting on it
// with errConnLost; they are sent again on a new connection without using up
// a try, a few times at most, so a server that closes after N queries (as nsd
// and unbound may) costs no answers.

const (
	// pipeConns is the number of connections kept per server.
	pipeConns = 4
	// pipeResends bounds how often one query is sent again after its
	// connection was lost.
	pipeResends = 3
)

// errConnLost: the connection ended before the reply came.
var errConnLost = fmt.Errorf("connection lost before the reply: %w", io.ErrUnexpectedEOF)

type pipeReply struct {
	msg *dns.Msg
	rtt time.Duration
	err error
}

type pipeWaiter struct {
	name          string
	qtype, qclass uint16
	sent          time.Time
	ch            chan pipeReply // buffered, one reply at most
}

// pipeConn is one connection with many queries in flight.
type pipeConn struct {
	conn net.Conn

	// Queries are written in batches: a query appends its frame to wbuf and
	// the first writer writes everything waiting, so a burst of queries
	// costs one system call, not one each.
	wmu     sync.Mutex
	wbuf    []byte
	writing bool

	mu      sync.Mutex
	waiting map[uint16]*pipeWaiter
	dead    error     // set once, when the connection ended
	lastIn  time.Time // when the last reply (any) was read
	ignored int       // replies read that matched no waiting query
}

func dialPipe(ctx context.Context, addr string, tlsConf *tls.Config) (*pipeConn, error) {
	var c net.Conn
	var err error
	if tlsConf != nil {
		d := tls.Dialer{Config: tlsConf}
		c, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	p := &pipeConn{conn: c, waiting: make(map[uint16]*pipeWaiter)}
	go p.read()
	return p, nil
}

// read hands replies to their waiters until the connection ends.
func (p *pipeConn) read() {
	var lenBuf [2]byte
	buf := make([]byte, maxMsg)
	// Buffered: one read takes in every reply that has arrived.
	br := bufio.NewReaderSize(p.conn, 32<<10)
	for {
		if _, err := io.ReadFull(br, lenBuf[:]); err != nil {
			p.fail(err)
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			p.fail(err)
			return
		}
		now := time.Now()
		r, bad, uerr := unpackReply(buf[:n])
		p.mu.Lock()
		p.lastIn = now
		var w *pipeWaiter
		if n >= 2 {
			id := binary.BigEndian.Uint16(buf[:2])
			w = p.waiting[id]
			switch {
			case w == nil:
			case uerr != nil:
				// A reply with our ID that does not unpack: the same
				// verdict a lone exchange gives.
				if r.Id != id {
					r.Id = id
				}
			case bad != "" && malformedReplyTo(r, id, w.name, w.qtype, w.qclass):
			case !answers(r, id, w.name, w.qtype, w.qclass):
				w = nil
			}
			if w != nil {
				delete(p.waiting, id)
			} else {
				p.ignored++
			}
		}
		p.mu.Unlock()
		if w == nil {
			continue
		}
		if uerr != nil {
			w.ch <- pipeReply{err: fmt.Errorf("%w: %v", ErrBadReply, uerr)}
			continue
		}
		if bad != "" {
			w.ch <- pipeReply{msg: r, rtt: now.Sub(w.sent), err: &malformedError{msg: r, why: bad}}
			continue
		}
		w.ch <- pipeReply{msg: r, rtt: now.Sub(w.sent)}
	}
}

// fail ends the connection and every query waiting on it.
func (p *pipeConn) fail(err error) {
	p.mu.Lock()
	if p.dead == nil {
		p.dead = err
	}
	waiting := p.waiting
	p.waiting = map[uint16]*pipeWaiter{}
	p.mu.Unlock()
	p.conn.Close()
	for _, w := range waiting {
		w.ch <- pipeReply{err: errConnLost}
	}
}

func (p *pipeConn) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead == nil
}

// exchange sends q (its ID is replaced by a free one) and waits for its reply
// until deadline.
func (p *pipeConn) exchange(ctx context.Context, q *dns.Msg, deadline time.Time) (*dns.Msg, time.Duration, error) {
	if len(q.Question) != 1 {
		return nil, 0, fmt.Errorf("%w: a query must have one question", ErrBadReply)
	}
	qq := q.Question[0]
	w := &pipeWaiter{name: qq.Name, qtype: qq.Qtype, qclass: qq.Qclass, ch: make(chan pipeReply, 1)}
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		return nil, 0, errConnLost
	}
	if len(p.waiting) >= 1<<15 {
		p.mu.Unlock()
		return nil, 0, errConnLost
	}
	id := queryID()
	for p.waiting[id] != nil {
		id++
	}
	p.waiting[id] = w
	p.mu.Unlock()

	m := *q // the caller's message keeps its ID
	m.Id = id
	packed, err := m.Pack()
	if err != nil {
		p.forget(id)
		return nil, 0, err
	}
	w.sent = time.Now()
	if err := p.write(packed, deadline); err != nil {
		// A write cut short leaves the stream out of step: the connection
		// is done for.
		p.fail(err)
		return nil, 0, errConnLost
	}

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case r := <-w.ch:
		if r.msg != nil {
			r.msg.Id = q.Id // also the message a malformedError holds
		}
		return r.msg, r.rtt, r.err
	case <-timer.C:
	case <-ctx.Done():
	}
	p.forget(id)
	p.mu.Lock()
	// No reply at all since this query went out: the server no longer
	// answers on this connection, so later queries get a new one.
	stale := !p.lastIn.After(w.sent)
	ignored := p.ignored
	p.mu.Unlock()
	if stale && ctx.Err() == nil {
		p.fail(errConnLost)
	}
	if ctx.Err() != nil {
		return nil, 0, ctx.Err()
	}
	if ignored > 0 {
		return nil, 0, &ignoredError{err: errPipeTimeout, ignored: ignored, why: "wrong ID or question"}
	}
	return nil, 0, errPipeTimeout
}

// write queues one framed message and, unless another caller is writing
// already, writes everything queued.
func (p *pipeConn) write(msg []byte, deadline time.Time) error {
	p.wmu.Lock()
	p.wbuf = binary.BigEndian.AppendUint16(p.wbuf, uint16(len(msg)))
	p.wbuf = append(p.wbuf, msg...)
	if p.writing {
		p.wmu.Unlock()
		return nil
	}
	p.writing = true
	var spare []byte
	for {
		out := p.wbuf
		if len(out) == 0 {
			p.wbuf = spare[:0]
			p.writing = false
			p.wmu.Unlock()
			return nil
		}
		p.wbuf = spare[:0]
		p.wmu.Unlock()
		_ = p.conn.SetWriteDeadline(deadline)
		_, err := p.conn.Write(out)
		p.wmu.Lock()
		if err != nil {
			p.writing = false
			p.wmu.Unlock()
			return err
		}
		spare = out
	}
}

func (p *pipeConn) forget(id uint16) {
	p.mu.Lock()
	delete(p.waiting, id)
	p.mu.Unlock()
}

// errPipeTimeout: no reply by the query's deadline.
var errPipeTimeout error = &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}

// timeoutError is the net.Error a query's own deadline ends with.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// pipePool keeps pipeConns connections per server address.
type pipePool struct {
	mu    sync.Mutex
	slots map[string]*pipeSlots
}

type pipeSlots struct {
	next  uint32
	conns [pipeConns]pipeSlot
}

type pipeSlot struct {
	mu sync.Mutex // held while dialing, so callers share one dial
	c  *pipeConn
}

func (pp *pipePool) slot(addr string) *pipeSlot {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.slots == nil {
		pp.slots = make(map[string]*pipeSlots)
	}
	s := pp.slots[addr]
	if s == nil {
		s = &pipeSlots{}
		pp.slots[addr] = s
	}
	s.next++
	return &s.conns[s.next%pipeConns]
}

// conn returns a live connection of the slot, dialing one when needed.
func (sl *pipeSlot) conn(ctx context.Context, addr string, tlsConf *tls.Config, deadline time.Time) (*pipeConn, error) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.c != nil && sl.c.alive() {
		return sl.c, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := dialPipe(dctx, addr, tlsConf)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	sl.c = c
	return c, nil
}

// exchange sends q to addr on a shared connection and waits for its reply
// until deadline; a lost connection is replaced and the query sent again.
func (pp *pipePool) exchange(ctx context.Context, addr string, tlsConf *tls.Config, q *dns.Msg, deadline time.Time) (*dns.Msg, time.Duration, error) {
	var err error
	for i := 0; i <= pipeResends; i++ {
		var c *pipeConn
		c, err = pp.slot(addr).conn(ctx, addr, tlsConf, deadline)
		if err != nil {
			return nil, 0, err
		}
		var r *dns.Msg
		var rtt time.Duration
		r, rtt, err = c.exchange(ctx, q, deadline)
		if !errors.Is(err, errConnLost) {
			return r, rtt, err
		}
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if !time.Now().Before(deadline) {
			// The connection was given up while this query waited out
			// its time: a timeout, like any other.
			return nil, 0, errPipeTimeout
		}
	}
	return nil, 0, err
}

// close ends every connection of the pool.
func (pp *pipePool) close() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, s := range pp.slots {
		for i := range s.conns {
			sl := &s.conns[i]
			sl.mu.Lock()
			if sl.c != nil {
				sl.c.fail(net.ErrClosed)
			}
			sl.mu.Unlock()
		}
	}
	pp.slots = nil
}
