package tcp

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// testServer is a loopback listener whose connections run handle; Close
// waits for every handler.
type testServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startServer(t *testing.T, handle func(net.Conn)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				if handle != nil {
					handle(c)
				}
			}()
		}
	}()
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *testServer) AddrPort() netip.AddrPort {
	return s.ln.Addr().(*net.TCPAddr).AddrPort()
}

// closedPort returns a loopback port that refuses connections: one that was
// just bound and released.
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	return probetest.ClosedTCPPort(t)
}

func msDur(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
