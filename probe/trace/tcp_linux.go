//go:build linux

package trace

import (
	"errors"
	"os"
	"sync"
	"time"

	"github.com/nettool/nettool/probe/ping"
	"golang.org/x/sys/unix"
)

// tcpTransport opens one TCP connection per probe with the probe's TTL (no
// raw socket: connect(2) sends the SYN). A router's time exceeded or
// unreachable aborts the connection attempt and lands on the socket's error
// queue; a SYN-ACK or a RST means the destination answered.
type tcpTransport struct {
	e     *engine
	mu    sync.Mutex
	files map[uint16]*os.File
	wg    sync.WaitGroup
}

func newTCP(e *engine) (*tcpTransport, error) {
	// Fail early, before the first probe, when sockets cannot be opened.
	fd, err := newSocket(e.v6, unix.SOCK_STREAM, e.o.Source)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return &tcpTransport{e: e, files: make(map[uint16]*os.File)}, nil
}

func (t *tcpTransport) kind() ping.SocketKind { return "tcp" }
func (t *tcpTransport) drain()                {}

func (t *tcpTransport) send(p *pending) (time.Time, error) {
	e := t.e
	fd, err := newSocket(e.v6, unix.SOCK_STREAM, e.o.Source)
	if err != nil {
		return time.Now(), err
	}
	if err := setTTL(fd, e.v6, p.ttl); err != nil {
		unix.Close(fd)
		return time.Now(), err
	}
	// Close with a RST: no TIME_WAIT left behind by a probe that connected.
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	sent := time.Now()
	err = unix.Connect(fd, sockaddrOf(e.dst, e.o.Port))
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return sent, err
	}
	f, rc, err := fileOf(fd, "tcp")
	if err != nil {
		return sent, err
	}
	_ = f.SetWriteDeadline(sent.Add(e.o.Wait))
	t.mu.Lock()
	t.files[p.key] = f
	t.mu.Unlock()
	key, flow := p.key, p.flow
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		buf := make([]byte, 512)
		oob := make([]byte, 512)
		var a answer
		have := false
		_ = rc.Write(func(fd uintptr) bool {
			n, oobn, _, _, rerr := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE)
			if rerr == nil {
				_ = n
				q := parseErrCmsg(oob[:oobn])
				if q.ok && (q.origin == eeOriginICMP || q.origin == eeOriginICMP6) {
					a = answer{key: key, from: q.offender, when: q.when, typ: int(q.typ), code: int(q.code), qTTL: -1, ipid: -1}
					if mtuCarrying(e.v6, a.typ, a.code) {
						a.mtu = int(q.info)
					}
					have = true
				}
				return true
			}
			soerr, _ := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case soerr == int(unix.ECONNREFUSED):
				a = answer{key: key, from: e.dst, when: time.Now(), reached: true, typ: -1, code: -1, qTTL: -1, ipid: -1}
				have = true
				return true
			case soerr != 0:
				return true // aborted without an ICMP error we can read
			}
			if _, err := unix.Getpeername(int(fd)); err == nil {
				a = answer{key: key, from: e.dst, when: time.Now(), reached: true, typ: -1, code: -1, qTTL: -1, ipid: -1}
				have = true
				return true
			}
			return false // still connecting
		})
		if have {
			a.flow = flow
			e.answer(a)
		}
		t.forget(key)
	}()
	return sent, nil
}

func (t *tcpTransport) forget(k uint16) {
	t.mu.Lock()
	f := t.files[k]
	delete(t.files, k)
	t.mu.Unlock()
	if f != nil {
		f.Close()
	}
}

func (t *tcpTransport) close() {
	t.mu.Lock()
	for k, f := range t.files {
		f.Close()
		delete(t.files, k)
	}
	t.mu.Unlock()
	t.wg.Wait()
}
