//go:build linux

package trace

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
	"golang.org/x/sys/unix"
)

// udpTransport sends UDP datagrams on one connected socket per flow (the
// flow is the socket's source port; the destination port stays the same,
// paris-style). The ICMP errors they cause come back on each socket's
// error queue, so no privilege is needed, as with tracepath.
type udpTransport struct {
	e       *engine
	files   []*os.File
	rcs     []syscall.RawConn
	ttls    []int
	payload int
	buf     []byte
	wg      sync.WaitGroup
	drainMu sync.Mutex
	done    atomic.Bool
	dbuf    []byte
	doob    []byte
}

func newUDP(e *engine, size int) (*udpTransport, error) {
	hdr := ipv4Header
	if e.v6 {
		hdr = ipv6Header
	}
	t := &udpTransport{e: e, payload: size - hdr - udpHeader, dbuf: make([]byte, readBuf), doob: make([]byte, 512)}
	for f := 0; f < e.o.Flows; f++ {
		fd, err := newSocket(e.v6, unix.SOCK_DGRAM, e.o.Source)
		if err != nil {
			t.close()
			return nil, err
		}
		if e.o.PMTU {
			setDontFragment(fd, e.v6)
		}
		if err := unix.Connect(fd, sockaddrOf(e.dst, e.o.Port)); err != nil {
			unix.Close(fd)
			t.close()
			return nil, probe.Localf("connect: %v", err)
		}
		file, rc, err := fileOf(fd, "udp")
		if err != nil {
			t.close()
			return nil, probe.Localf("%v", err)
		}
		t.files = append(t.files, file)
		t.rcs = append(t.rcs, rc)
		t.ttls = append(t.ttls, 0)
		t.wg.Add(1)
		go t.read(f)
	}
	return t, nil
}

func (t *udpTransport) kind() ping.SocketKind { return "udp" }
func (t *udpTransport) forget(uint16)         {}

func (t *udpTransport) send(p *pending) (time.Time, error) {
	if cap(t.buf) < t.payload {
		t.buf = make([]byte, t.payload)
	}
	b := t.buf[:t.payload]
	for i := range b {
		b[i] = byte(0x40 + i%32)
	}
	putTag(b, t.e.cookie, p.key)
	var sent time.Time
	var serr error
	err := t.rcs[p.flow].Write(func(fd uintptr) bool {
		if t.ttls[p.flow] != p.ttl {
			if serr = setTTL(int(fd), t.e.v6, p.ttl); serr != nil {
				return true
			}
			t.ttls[p.flow] = p.ttl
		}
		for try := 0; try < 2; try++ {
			sent = time.Now()
			_, serr = unix.Write(int(fd), b)
			// An earlier probe's ICMP error is reported once by the next
			// call on a connected socket: send again.
			if !errors.Is(serr, unix.ECONNREFUSED) && !errors.Is(serr, unix.EHOSTUNREACH) && !errors.Is(serr, unix.ENETUNREACH) &&
				!errors.Is(serr, unix.EPROTO) && !errors.Is(serr, unix.EACCES) {
				break
			}
		}
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if errors.Is(err, unix.EMSGSIZE) && t.e.o.PMTU {
		err = nil // the error queue says the MTU
	}
	return sent, err
}

func (t *udpTransport) read(f int) {
	defer t.wg.Done()
	buf := make([]byte, readBuf)
	oob := make([]byte, 512)
	for {
		var n, oobn int
		var from unix.Sockaddr
		got := false
		err := t.rcs[f].Read(func(fd uintptr) bool {
			var rerr error
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE)
			if rerr == nil {
				got = true
				return true
			}
			// Not an error: a datagram from the destination, or the
			// pending error of a connected socket. Neither is a probe's
			// answer we can match; read it away.
			_, _, _, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			if t.done.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if got {
			t.handle(f, buf[:n], oob[:oobn], from)
		}
	}
}

func (t *udpTransport) drain() {
	t.drainMu.Lock()
	defer t.drainMu.Unlock()
	for f, rc := range t.rcs {
		for i := 0; i < 4096; i++ {
			var n, oobn int
			var from unix.Sockaddr
			var rerr error
			if err := rc.Read(func(fd uintptr) bool {
				n, oobn, _, from, rerr = unix.Recvmsg(int(fd), t.dbuf, t.doob, unix.MSG_ERRQUEUE)
				return true
			}); err != nil || rerr != nil {
				break
			}
			t.handle(f, t.dbuf[:n], t.doob[:oobn], from)
		}
	}
}

// handle reads an error-queue message: b is our UDP payload as quoted.
func (t *udpTransport) handle(f int, b, oob []byte, from unix.Sockaddr) {
	e := t.e
	q := parseErrCmsg(oob)
	if !q.ok {
		return
	}
	if q.origin == eeOriginLocal {
		if q.info > 0 && len(b) >= tagLen {
			e.localMTU(^binary.BigEndian.Uint16(b[4:]), f, int(q.info))
		}
		return
	}
	if (q.origin != eeOriginICMP && q.origin != eeOriginICMP6) || len(b) < tagLen || binary.BigEndian.Uint32(b) != e.cookie {
		e.countIgnored()
		return
	}
	key := ^binary.BigEndian.Uint16(b[4:])
	if dst := addrOf(from); dst.IsValid() && dst != e.dst {
		e.countIgnored()
		return
	}
	a := answer{key: key, flow: f, from: q.offender, when: q.when, typ: int(q.typ), code: int(q.code), qTTL: -1, ipid: -1}
	a.reached = q.offender == e.dst && isPortUnreach(e.v6, a.typ, a.code)
	if mtuCarrying(e.v6, a.typ, a.code) {
		a.mtu = int(q.info)
	}
	e.answer(a)
}

func addrOf(sa unix.Sockaddr) netip.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr).Unmap()
	}
	return netip.Addr{}
}

func (t *udpTransport) close() {
	t.done.Store(true)
	for _, f := range t.files {
		f.Close()
	}
	t.wg.Wait()
}
