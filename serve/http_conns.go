package serve

import (
	"container/list"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Connection management for serve http: a cap on connections that sheds
// the ones still waiting for a request head first (a slowloris flood cannot
// hold every slot), a short head deadline near the cap, a 408 for a head
// that did not arrive in time, and a lingering close (RFC 9112 section 9.6)
// so that a client still sending a body the server will not read receives
// the whole response instead of a reset.
const (
	// httpShedMinAge protects a connection that has just started waiting
	// for a head: it is not shed before its head has had time to arrive.
	httpShedMinAge = 500 * time.Millisecond
	// httpPressureHead is the head deadline once 3/4 of MaxConns are held.
	httpPressureHead = 2 * time.Second
	// A lingering close reads and discards what the client still sends for
	// at most httpLingerTotal, httpLingerIdle without a byte, or
	// httpLingerMax bytes, then closes.
	httpLingerTotal = 5 * time.Second
	httpLingerIdle  = 2 * time.Second
	httpLingerMax   = 64 << 20
)

// httpPool counts the connections held and keeps those waiting for a
// request head in the order they started waiting, oldest first.
type httpPool struct {
	max int

	mu      sync.Mutex
	n       int
	waiting list.List // of *httpConn
	freed   chan struct{}
	closed  chan struct{}
	close   sync.Once
	held    atomic.Int64 // n, for readers that do not take mu

	shedMu      sync.Mutex
	shed        int // shed since the last log line
	lastShedLog time.Time
	log         func(format string, args ...any)
}

func newHTTPPool(max int, log func(string, ...any)) *httpPool {
	return &httpPool{max: max, freed: make(chan struct{}, 1), closed: make(chan struct{}), log: log}
}

// pressure reports that the pool is near its cap.
func (p *httpPool) pressure() bool { return p.held.Load() >= int64(p.max-p.max/4) }

func (p *httpPool) shutdown() { p.close.Do(func() { close(p.closed) }) }

func (p *httpPool) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// admit takes a slot for c, shedding the connection that has waited longest
// for a head when the pool is full, or waiting for a slot when no waiting
// connection is old enough. It returns false when the pool was shut down.
func (p *httpPool) admit(c *httpConn) bool {
	p.mu.Lock()
	for p.n >= p.max {
		wait := time.Duration(-1)
		if e := p.waiting.Front(); e != nil {
			v := e.Value.(*httpConn)
			if age := time.Since(v.since); age >= httpShedMinAge {
				p.releaseLocked(v)
				p.mu.Unlock()
				v.abort()
				p.noteShed()
				p.mu.Lock()
				continue
			} else {
				wait = httpShedMinAge - age
			}
		}
		p.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-p.freed:
		case <-fire:
		case <-p.closed:
			if timer != nil {
				timer.Stop()
			}
			return false
		}
		if timer != nil {
			timer.Stop()
		}
		p.mu.Lock()
	}
	p.n++
	p.held.Store(int64(p.n))
	c.since = time.Now()
	c.elem = p.waiting.PushBack(c)
	p.mu.Unlock()
	return true
}

func (p *httpPool) releaseLocked(c *httpConn) {
	if c.gone {
		return
	}
	c.gone = true
	if c.elem != nil {
		p.waiting.Remove(c.elem)
		c.elem = nil
	}
	p.n--
	p.held.Store(int64(p.n))
	p.wake()
}

// wake tells a blocked admit to look again: a slot freed, or a connection
// became sheddable.
func (p *httpPool) wake() {
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

func (p *httpPool) release(c *httpConn) {
	p.mu.Lock()
	p.releaseLocked(c)
	p.mu.Unlock()
}

// serving takes c out of the waiting list: its head has arrived.
func (p *httpPool) serving(c *httpConn) {
	p.mu.Lock()
	if c.elem != nil {
		p.waiting.Remove(c.elem)
		c.elem = nil
	}
	p.mu.Unlock()
}

// waitingAgain puts c at the end of the waiting list: its response is done
// and it waits for the next head.
func (p *httpPool) waitingAgain(c *httpConn) {
	p.mu.Lock()
	if !c.gone && c.elem == nil {
		c.since = time.Now()
		c.elem = p.waiting.PushBack(c)
	}
	p.mu.Unlock()
	p.wake()
}

// lingering puts c first in line to be shed: its response is complete.
func (p *httpPool) lingering(c *httpConn) {
	p.mu.Lock()
	if !c.gone {
		if c.elem != nil {
			p.waiting.Remove(c.elem)
		}
		c.since = time.Time{}
		c.elem = p.waiting.PushFront(c)
	}
	p.mu.Unlock()
	p.wake()
}

// noteShed logs shed connections, at most one line a second.
func (p *httpPool) noteShed() {
	p.shedMu.Lock()
	defer p.shedMu.Unlock()
	p.shed++
	if p.log != nil && time.Since(p.lastShedLog) >= time.Second {
		p.log("- shed %d connection%s that had not sent a request head (%d connections held, the cap)", p.shed, plural(p.shed), p.max)
		p.shed, p.lastShedLog = 0, time.Now()
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

const (
	connOpen = iota
	connLingering
	connClosed
)

// httpConn is an accepted TCP connection holding a slot of the pool.
type httpConn struct {
	net.Conn
	pool *httpPool

	// guarded by pool.mu
	elem  *list.Element
	since time.Time
	gone  bool

	linger atomic.Bool // close gracefully: the client may still be sending

	mu    sync.Mutex
	state int
}

// abort closes c at once (shed).
func (c *httpConn) abort() {
	c.mu.Lock()
	c.state = connClosed
	c.mu.Unlock()
	_ = c.Conn.Close()
}

// Close releases c's slot. When the client may still be sending what the
// server did not read, it shuts down the sending side (the client reads the
// whole response and an end of file), reads and discards within bounds, and
// only then closes: closing with unread bytes would send a reset, and the
// client's kernel would drop the response it had not read yet. A second
// Close (server shutdown) ends a lingering close at once.
func (c *httpConn) Close() error {
	c.mu.Lock()
	switch c.state {
	case connClosed:
		c.mu.Unlock()
		c.pool.release(c)
		return nil
	case connLingering:
		c.state = connClosed
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
		c.mu.Unlock()
		return nil
	}
	if !c.linger.Load() || c.pool.isClosed() {
		c.state = connClosed
		c.mu.Unlock()
		c.pool.release(c)
		return c.Conn.Close()
	}
	c.state = connLingering
	c.mu.Unlock()
	c.pool.lingering(c)
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	end := time.Now().Add(httpLingerTotal)
	buf := make([]byte, 32<<10)
	for read := 0; read < httpLingerMax; {
		c.mu.Lock()
		if c.state != connLingering {
			c.mu.Unlock()
			break
		}
		dl := time.Now().Add(httpLingerIdle)
		if dl.After(end) {
			dl = end
		}
		_ = c.Conn.SetReadDeadline(dl)
		c.mu.Unlock()
		n, err := c.Conn.Read(buf)
		read += n
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	c.state = connClosed
	c.mu.Unlock()
	c.pool.release(c)
	return c.Conn.Close()
}

// httpListener accepts TCP connections into the pool, with TLS on top when
// configured, and wraps each in an httpRecConn.
type httpListener struct {
	net.Listener
	pool  *httpPool
	tls   *tls.Config
	srv   *HTTPServer
	stall time.Duration
}

func (l *httpListener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &httpConn{Conn: raw, pool: l.pool}
	if !l.pool.admit(c) {
		raw.Close()
		return nil, net.ErrClosed
	}
	var nc net.Conn = c
	if l.tls != nil {
		nc = tls.Server(c, l.tls)
	}
	return &httpRecConn{Conn: nc, raw: c, srv: l.srv, stall: l.stall, headAt: time.Now()}, nil
}

func (l *httpListener) Close() error {
	l.pool.shutdown()
	return l.Listener.Close()
}

// headTimedOut reports a read that ended on its deadline.
func headTimedOut(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
