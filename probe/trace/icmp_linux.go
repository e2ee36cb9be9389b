//go:build linux

package trace

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
)

// icmpTransport sends echo requests on probe/ping's sockets: one raw socket
// (the flow is the ICMP ID, picked here), or one unprivileged datagram
// socket per flow (the kernel picks its ID).
type icmpTransport struct {
	e       *engine
	socks   []*ping.Socket
	ttls    []int // TTL set on each socket
	ids     []uint16
	raw     bool
	payload int
	buf     []byte
	wg      sync.WaitGroup
	drainMu sync.Mutex
	done    atomic.Bool
	dbuf    []byte
	doob    []byte
}

func newICMP(e *engine, size int) (*icmpTransport, error) {
	hdr := ipv4Header
	if e.v6 {
		hdr = ipv6Header
	}
	t := &icmpTransport{e: e, payload: size - hdr - icmpHeaderLen,
		dbuf: make([]byte, readBuf), doob: make([]byte, 512)}
	first, err := ping.OpenSocket(e.v6, e.o.Socket)
	if err != nil {
		var pe *ping.PermissionError
		if errors.As(err, &pe) {
			return nil, &probe.LocalError{Err: err}
		}
		return nil, probe.Localf("%v", err)
	}
	t.socks = append(t.socks, first)
	t.raw = first.Kind() == ping.KindRaw
	if t.raw {
		base := uint16(e.cookie >> 16)
		for f := 0; f < e.o.Flows; f++ {
			t.ids = append(t.ids, base+uint16(f))
		}
	} else {
		t.ids = append(t.ids, first.ID())
		for f := 1; f < e.o.Flows; f++ {
			s, err := ping.OpenSocket(e.v6, ping.SocketDgram)
			if err != nil {
				t.closeSocks()
				return nil, probe.Localf("%v", err)
			}
			t.socks = append(t.socks, s)
			t.ids = append(t.ids, s.ID())
		}
	}
	for i, s := range t.socks {
		if err := bindSource(s, e.o.Source); err != nil {
			t.closeSocks()
			return nil, probe.Localf("bind %s: %v", e.o.Source, err)
		}
		if e.o.PMTU {
			if err := s.Control(func(fd uintptr) { setDontFragment(int(fd), e.v6) }); err != nil {
				t.closeSocks()
				return nil, probe.Localf("%v", err)
			}
		}
		t.ttls = append(t.ttls, 0)
		t.wg.Add(1)
		go t.read(i, s)
	}
	return t, nil
}

const readBuf = 1 << 16

func (t *icmpTransport) kind() ping.SocketKind { return t.socks[0].Kind() }

func (t *icmpTransport) sockFor(flow int) (int, *ping.Socket) {
	if t.raw {
		return 0, t.socks[0]
	}
	return flow, t.socks[flow]
}

func (t *icmpTransport) send(p *pending) (time.Time, error) {
	i, s := t.sockFor(p.flow)
	if t.ttls[i] != p.ttl {
		if err := s.SetTTL(p.ttl); err != nil {
			return time.Now(), err
		}
		t.ttls[i] = p.ttl
	}
	id := uint16(0)
	if t.raw {
		id = t.ids[p.flow]
	}
	t.buf = buildEcho(t.buf, t.e.v6, id, p.key, t.e.cookie, t.payload)
	return s.Send(t.e.dst, t.buf)
}

func (t *icmpTransport) forget(uint16) {}

func (t *icmpTransport) read(i int, s *ping.Socket) {
	defer t.wg.Done()
	buf := make([]byte, readBuf)
	oob := make([]byte, 512)
	for {
		r, err := s.Recv(buf, oob)
		if err != nil {
			if t.done.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		t.handle(i, buf[:r.N], r)
	}
}

func (t *icmpTransport) drain() {
	t.drainMu.Lock()
	defer t.drainMu.Unlock()
	for i, s := range t.socks {
		for n := 0; n < 4096; n++ {
			r, err := s.TryRecv(t.dbuf, t.doob)
			if err != nil {
				break
			}
			t.handle(i, t.dbuf[:r.N], r)
		}
	}
}

// handle reads one message from socket i.
func (t *icmpTransport) handle(i int, b []byte, r ping.Received) {
	e := t.e
	v6 := e.v6
	if !t.raw {
		if r.IsErr {
			t.handleQueued(i, b, r)
			return
		}
		m, ok := parseICMP(b, v6, false)
		if !ok || !m.reply || r.From.Unmap() != e.dst || !tagOK(m.payload, e.cookie, m.seq) {
			e.countIgnored()
			return
		}
		e.answer(answer{key: m.seq, flow: i, from: e.dst, when: r.When, reached: true, typ: m.typ, code: m.code, qTTL: -1, ipid: -1})
		return
	}
	m, ok := parseICMP(b, v6, !v6)
	if !ok {
		return // not an echo reply or an error: not for trace at all
	}
	from := r.From.Unmap()
	if !v6 {
		from = m.src
	}
	if m.reply {
		flow, mine := t.flowOf(m.id)
		if !mine {
			return // another program's echo reply
		}
		if from != e.dst || !tagOK(m.payload, e.cookie, m.seq) {
			e.countIgnored()
			return
		}
		e.answer(answer{key: m.seq, flow: flow, from: from, when: r.When, reached: true, typ: m.typ, code: m.code, qTTL: -1, ipid: -1})
		return
	}
	echo := icmp4Echo
	proto := protoICMP
	if v6 {
		echo, proto = icmp6Echo, protoICMP6
	}
	q := m.qL4
	if m.qProto != proto || len(q) < icmpHeaderLen || int(q[0]) != echo {
		return // an error about someone else's packet
	}
	flow, mine := t.flowOf(binary.BigEndian.Uint16(q[4:]))
	if !mine {
		return
	}
	seq := binary.BigEndian.Uint16(q[6:])
	if m.qDst != e.dst || !tagOK(q[icmpHeaderLen:], e.cookie, seq) {
		e.countIgnored()
		return
	}
	e.answer(answer{key: seq, flow: flow, from: from, when: r.When, reached: false, typ: m.typ, code: m.code,
		qTTL: m.qTTL, ipid: m.qIPID, mtu: m.mtu, mpls: m.mpls})
}

// handleQueued reads an error-queue message of a datagram socket: b is our
// echo request as the router quoted it.
func (t *icmpTransport) handleQueued(i int, b []byte, r ping.Received) {
	e := t.e
	echo := icmp4Echo
	if e.v6 {
		echo = icmp6Echo
	}
	if len(b) < icmpHeaderLen || int(b[0]) != echo || r.From.Unmap() != e.dst {
		e.countIgnored()
		return
	}
	seq := binary.BigEndian.Uint16(b[6:])
	if !tagOK(b[icmpHeaderLen:], e.cookie, seq) {
		e.countIgnored()
		return
	}
	a := answer{key: seq, flow: i, from: r.Offender.Unmap(), when: r.When, typ: -1, code: -1, qTTL: -1, ipid: -1}
	switch r.EEOrigin {
	case eeOriginICMP, eeOriginICMP6:
		a.typ, a.code = int(r.EEType), int(r.EECode)
		if mtuCarrying(e.v6, a.typ, a.code) {
			a.mtu = int(r.EEInfo)
		}
	case eeOriginLocal:
		// EMSGSIZE: the packet is bigger than the MTU the kernel knows.
		if r.EEInfo > 0 {
			e.localMTU(seq, i, int(r.EEInfo))
		}
		return
	default:
		e.countIgnored()
		return
	}
	e.answer(a)
}

func (t *icmpTransport) flowOf(id uint16) (int, bool) {
	for f, x := range t.ids {
		if x == id {
			return f, true
		}
	}
	return 0, false
}

func (t *icmpTransport) closeSocks() {
	for _, s := range t.socks {
		s.Close()
	}
}

func (t *icmpTransport) close() {
	t.done.Store(true)
	t.closeSocks()
	t.wg.Wait()
}
