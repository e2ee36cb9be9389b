package resolve

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// udpMux carries the UDP queries of one run that asks many questions of
// the same few servers (a trace asks each server of a level the question,
// the zone's SOA and NS sets and the glue checks, all at once): one
// connected socket per server address, shared by every query in flight to
// that server, instead of a socket per query. The kernel still drops
// datagrams from any other address and port, each query keeps its own ID
// (unique among the queries in flight on its socket), deadline and retries,
// and every datagram is checked by readUDPReply exactly as on a socket of
// its own: a reply goes to the query with its ID, and a datagram whose ID no
// query in flight has (garbage, a wrong ID) is shown to every query waiting
// on that server, which counts it as ignored.
type udpMux struct {
	mu     sync.Mutex
	conns  map[string]*muxConn
	closed bool
}

type muxConn struct {
	ready   chan struct{} // closed once dialled: c or err is set
	err     error
	c       *net.UDPConn
	mu      sync.Mutex
	waiters map[uint16]*muxWaiter
}

// muxWaiter is one query in flight on a shared socket: the datagrams and
// errors handed to it, oldest first, at most maxQueued (as a socket of its
// own holds a bounded backlog), and a note that something came.
type muxWaiter struct {
	queue []muxRead
	note  chan struct{}
}

// maxQueued bounds what waits unread for one query: a server flooding
// garbage costs at most this many datagrams per query in memory.
const maxQueued = 64

// muxRead is one datagram, or the socket's error (a port unreachable
// reported by ICMP, the socket closed), handed to a waiting query.
type muxRead struct {
	b     []byte
	err   error
	stray bool // it carried no ID in flight: shown to every query waiting
}

// errMuxClosed ends the queries still waiting when the run closes its mux.
var errMuxClosed = errors.New("shared socket closed")

func newUDPMux() *udpMux { return &udpMux{conns: map[string]*muxConn{}} }

// conn returns the socket for addr, dialling it on first use (outside the
// mux's lock: queries to other servers go on meanwhile).
func (m *udpMux) conn(ctx context.Context, addr string, size int) (*muxConn, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errMuxClosed
	}
	mc := m.conns[addr]
	if mc == nil {
		mc = &muxConn{ready: make(chan struct{}), waiters: map[uint16]*muxWaiter{}}
		m.conns[addr] = mc
		m.mu.Unlock()
		var d net.Dialer
		c, err := d.DialContext(ctx, "udp", addr)
		m.mu.Lock()
		switch {
		case err != nil:
			mc.err = err
			delete(m.conns, addr) // the next query dials again
		case m.closed:
			c.Close()
			mc.err = errMuxClosed
		default:
			mc.c = c.(*net.UDPConn)
			go mc.read(size)
		}
		close(mc.ready)
		m.mu.Unlock()
	} else {
		m.mu.Unlock()
	}
	select {
	case <-mc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if mc.err != nil {
		return nil, mc.err
	}
	return mc, nil
}

// close closes every socket; queries still waiting end with errMuxClosed.
func (m *udpMux) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, mc := range m.conns {
		select {
		case <-mc.ready:
			if mc.c != nil {
				mc.c.Close()
			}
		default: // still dialling: conn closes it when it sees closed
		}
	}
}

// read hands each datagram to the query whose ID it carries, or to every
// waiting query when no query has that ID. A read error other than the
// socket's closing (an ICMP port unreachable shows as ECONNREFUSED on a
// connected socket) goes to every waiting query, as it would on their own
// sockets.
func (mc *muxConn) read(size int) {
	// The same room as readUDPReply has: a longer datagram is cut here as
	// it would be there, and then fails to unpack.
	buf := make([]byte, udpBufSize(size))
	for {
		n, err := mc.c.Read(buf)
		closed := errors.Is(err, net.ErrClosed)
		if closed {
			err = errMuxClosed
		}
		mc.mu.Lock()
		var to []*muxWaiter
		if err == nil && n >= 2 {
			if w := mc.waiters[binary.BigEndian.Uint16(buf)]; w != nil {
				to = append(to, w)
			}
		}
		stray := len(to) == 0
		if stray {
			for _, w := range mc.waiters {
				to = append(to, w)
			}
		}
		var b []byte
		if err == nil {
			b = append([]byte(nil), buf[:n]...)
		}
		for _, w := range to {
			w.put(muxRead{b: b, err: err, stray: stray && err == nil})
		}
		mc.mu.Unlock()
		if closed {
			return
		}
	}
}

// put queues r for the waiter (the socket's lock held). When the queue is
// full, a datagram that carries the waiter's ID (or an error) takes the
// place of the oldest stray one, so a flood of garbage cannot crowd out
// the reply; a stray datagram is dropped.
func (w *muxWaiter) put(r muxRead) {
	if len(w.queue) >= maxQueued {
		if r.stray {
			return
		}
		i := 0
		for i < len(w.queue) && !w.queue[i].stray {
			i++
		}
		if i == len(w.queue) {
			return // full of datagrams with its own ID: no stray to give way
		}
		w.queue = append(w.queue[:i], w.queue[i+1:]...)
	}
	w.queue = append(w.queue, r)
	select {
	case w.note <- struct{}{}:
	default:
	}
}

// exchange sends q (packed) on the shared socket for addr and waits for
// its reply until deadline, with the checks of readUDPReply.
func (m *udpMux) exchange(ctx context.Context, addr string, q *dns.Msg, packed []byte, deadline time.Time, size int) (*dns.Msg, time.Duration, error) {
	mc, err := m.conn(ctx, addr, size)
	if err != nil {
		return nil, 0, err
	}
	w := &muxWaiter{note: make(chan struct{}, 1)}
	mc.mu.Lock()
	for mc.waiters[q.Id] != nil {
		q.Id = queryID()
	}
	mc.waiters[q.Id] = w
	mc.mu.Unlock()
	defer func() {
		mc.mu.Lock()
		delete(mc.waiters, q.Id)
		mc.mu.Unlock()
	}()
	out := append([]byte(nil), packed...)
	binary.BigEndian.PutUint16(out, q.Id)
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	start := time.Now()
	if _, err := mc.c.Write(out); err != nil {
		return nil, 0, err
	}
	return readUDPReply(ctx, q, start, func() ([]byte, error) {
		for {
			mc.mu.Lock()
			if len(w.queue) > 0 {
				r := w.queue[0]
				w.queue = w.queue[1:]
				mc.mu.Unlock()
				return r.b, r.err
			}
			mc.mu.Unlock()
			select {
			case <-w.note:
			case <-timer.C:
				return nil, os.ErrDeadlineExceeded // as a read deadline on a socket of its own
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	})
}
