package resolve

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe"
)

// muxClient is a Client whose UDP queries share one socket per server, as
// a trace's do.
func muxClient(o Options) *Client {
	return &Client{Opts: o, udp: newUDPMux()}
}

// Many queries in flight on one shared socket, answered in the reverse of
// the order they came in: each gets the reply to its own question.
func TestUDPMuxRoutesRepliesByID(t *testing.T) {
	const n = 40
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		type q struct {
			b    []byte
			addr net.Addr
		}
		var got []q
		buf := make([]byte, 65535)
		for len(got) < n {
			k, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got = append(got, q{append([]byte(nil), buf[:k]...), addr})
		}
		for i := len(got) - 1; i >= 0; i-- {
			m := new(dns.Msg)
			if m.Unpack(got[i].b) != nil {
				continue
			}
			r := new(dns.Msg)
			r.SetReply(m)
			r.Answer = append(r.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{m.Question[0].Name}})
			b, _ := r.Pack()
			_, _ = pc.WriteTo(b, got[i].addr)
		}
	}()
	c := muxClient(Options{Timeout: 5 * time.Second})
	defer c.Close()
	s, err := ParseServer(pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("q%d.example.test.", i)
			r := c.Lookup(context.Background(), s, NewQuestion(name, dns.TypeTXT, dns.ClassINET))
			if !r.OK || r.Msg == nil || len(r.Msg.Answer) != 1 || r.Msg.Answer[0].(*dns.TXT).Txt[0] != name {
				errs <- fmt.Sprintf("%s: ok=%v %s %v", name, r.OK, r.Error, r.Msg)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if len(c.udp.conns) != 1 {
		t.Errorf("%d sockets for one server, want 1", len(c.udp.conns))
	}
}

// aReply is the packed answer 192.0.2.1 to query q, with ID id (nil when q
// does not unpack).
func aReply(q []byte, id uint16) []byte {
	m := new(dns.Msg)
	if m.Unpack(q) != nil {
		return nil
	}
	r := new(dns.Msg)
	r.SetReply(m)
	r.Id = id
	r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.IPv4(192, 0, 2, 1)})
	b, _ := r.Pack()
	return b
}

// On a shared socket, datagrams that answer no query in flight (a wrong
// ID, garbage) are ignored, counted and said, as on a socket of its own;
// the real reply after them is taken.
func TestUDPMuxIgnoresStrays(t *testing.T) {
	good, _ := rawUDP(t, func(q []byte) [][]byte {
		id := binary.BigEndian.Uint16(q)
		return [][]byte{aReply(q, id+1), []byte("\x00"), aReply(q, id)}
	})
	silent, _ := rawUDP(t, func(q []byte) [][]byte {
		id := binary.BigEndian.Uint16(q)
		return [][]byte{aReply(q, id^0x5555)}
	})
	c := muxClient(Options{Timeout: 300 * time.Millisecond})
	defer c.Close()
	s, _ := ParseServer(good)
	r := c.Lookup(context.Background(), s, NewQuestion("a.example.test.", dns.TypeA, dns.ClassINET))
	if !r.OK || r.Rcode != "NOERROR" {
		t.Fatalf("reply after strays: ok=%v %s", r.OK, r.Error)
	}
	s, _ = ParseServer(silent)
	r = c.Lookup(context.Background(), s, NewQuestion("b.example.test.", dns.TypeA, dns.ClassINET))
	if r.OK || r.Failure != probe.FailTimeout || !strings.Contains(r.Error, "ignored 1 reply: wrong ID or question") {
		t.Fatalf("wrong IDs only: ok=%v failure=%s error=%q, want a timeout saying what was ignored", r.OK, r.Failure, r.Error)
	}
}

// Two queries in flight to one server with the same ID: the second gets
// another, so each reply still has exactly one taker.
func TestUDPMuxUniqueIDs(t *testing.T) {
	addr := startServer(t, testZone)
	m := newUDPMux()
	defer m.close()
	mk := func(name string) (*dns.Msg, []byte) {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.Id = 4242
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return q, b
	}
	// Hold the first ID as a query in flight would.
	mc, err := m.conn(context.Background(), addr, 0)
	if err != nil {
		t.Fatal(err)
	}
	hold := &muxWaiter{note: make(chan struct{}, 1)}
	mc.mu.Lock()
	mc.waiters[4242] = hold
	mc.mu.Unlock()
	q, b := mk("v4.example.test.")
	r, _, err := m.exchange(context.Background(), addr, q, b, time.Now().Add(5*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	if q.Id == 4242 || r.Id != q.Id || len(r.Answer) != 1 {
		t.Fatalf("query kept the ID in use (%d) or reply is not its own: %v", q.Id, r)
	}
	mc.mu.Lock()
	held := len(hold.queue)
	mc.mu.Unlock()
	if held != 0 {
		t.Fatalf("the holder of ID 4242 was handed another query's reply")
	}
}

// Closing the mux ends the queries still waiting, and later queries fail
// at once instead of dialling.
func TestUDPMuxClose(t *testing.T) {
	silent, seen := rawUDP(t, func([]byte) [][]byte { return nil })
	m := newUDPMux()
	q := new(dns.Msg)
	q.SetQuestion("x.test.", dns.TypeA)
	b, _ := q.Pack()
	done := make(chan error, 1)
	go func() {
		_, _, err := m.exchange(context.Background(), silent, q, b, time.Now().Add(time.Minute), 0)
		done <- err
	}()
	<-seen // the query is out: its socket exists and it waits
	m.close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a waiting query ended without error on close")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("close did not end a waiting query")
	}
	if _, _, err := m.exchange(context.Background(), silent, q, b, time.Now().Add(time.Minute), 0); err != errMuxClosed {
		t.Fatalf("after close: %v, want errMuxClosed", err)
	}
}

// A flood of garbage before the reply does not crowd it out: the query's
// backlog is bounded, and its own reply takes the place of a stray.
func TestUDPMuxFloodBeforeReply(t *testing.T) {
	addr, _ := rawUDP(t, func(q []byte) [][]byte {
		id := binary.BigEndian.Uint16(q)
		var out [][]byte
		for i := 0; i < 3*maxQueued; i++ {
			out = append(out, []byte{byte(id>>8) ^ 0xff, byte(i), 0, 0})
		}
		return append(out, aReply(q, id))
	})
	c := muxClient(Options{Timeout: 5 * time.Second})
	defer c.Close()
	s, _ := ParseServer(addr)
	r := c.Lookup(context.Background(), s, NewQuestion("flood.example.test.", dns.TypeA, dns.ClassINET))
	if !r.OK {
		t.Fatalf("reply after %d garbage datagrams: %s %s", 3*maxQueued, r.Failure, r.Error)
	}
	mc := c.udp.conns[addr]
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if len(mc.waiters) != 0 {
		t.Errorf("%d queries still registered after the exchange", len(mc.waiters))
	}
}

// The backlog of one query is bounded; when it is full of strays, a
// datagram with the query's own ID (or an error) still gets in, in place
// of the oldest stray, and further strays are dropped.
func TestMuxWaiterQueueBound(t *testing.T) {
	w := &muxWaiter{note: make(chan struct{}, 1)}
	for i := 0; i < 3*maxQueued; i++ {
		w.put(muxRead{b: []byte{0xff, byte(i)}, stray: true})
	}
	if len(w.queue) != maxQueued {
		t.Fatalf("backlog %d after a flood, want the bound %d", len(w.queue), maxQueued)
	}
	w.put(muxRead{b: []byte{0x12, 0x34}})
	w.put(muxRead{err: errMuxClosed})
	w.put(muxRead{b: []byte{0xff, 0xff}, stray: true})
	if len(w.queue) != maxQueued {
		t.Fatalf("backlog %d, want %d", len(w.queue), maxQueued)
	}
	last, prev := w.queue[len(w.queue)-1], w.queue[len(w.queue)-2]
	if last.err != errMuxClosed || prev.stray || prev.b[0] != 0x12 {
		t.Fatalf("the reply and the error did not take the place of strays: %+v %+v", prev, last)
	}
	if w.queue[0].b[1] != 2 {
		t.Errorf("the oldest strays should have given way first; first left is %v", w.queue[0].b)
	}
}
