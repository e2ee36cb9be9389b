package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

// EchoDefaultAddr is where `nettool serve echo` listens by default: the
// tutorial's server address, on loopback only.
const EchoDefaultAddr = "127.0.0.1:10000"

// EchoOptions configure the tutorial's TCP echo server.
type EchoOptions struct {
	Chunk       int           // bytes read (and echoed) at a time; the tutorial's 16
	IdleTimeout time.Duration // a client silent this long is disconnected; 0: 5 minutes
	MaxClients  int           // connections served at once; 0: 1024
	Log         io.Writer     // one line per event; nil: discard
}

// EchoServer reads each client's bytes in small chunks and writes every chunk
// straight back, logging it (escaped) with the client's address and port, as
// the tutorial's server.py does.
type EchoServer struct {
	ln    net.Listener
	opts  EchoOptions
	logMu sync.Mutex

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// EchoListen binds addr ("127.0.0.1:0" picks a free port) and returns a
// server ready to Serve.
func EchoListen(addr string, o EchoOptions) (*EchoServer, error) {
	if o.Chunk <= 0 {
		o.Chunk = 16
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 5 * time.Minute
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 1024
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &EchoServer{ln: ln, opts: o, conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the bound address, with the port the OS picked for ":0".
func (s *EchoServer) Addr() net.Addr { return s.ln.Addr() }

func (s *EchoServer) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, "%s echo: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// Serve accepts clients until ctx is cancelled or Close is called, then
// closes every connection and waits for their goroutines. It returns nil
// after a clean shutdown.
func (s *EchoServer) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	sem := make(chan struct{}, s.opts.MaxClients)
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				s.wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || echoTemporaryAccept(err) {
				// EMFILE and friends: back off instead of spinning.
				backoff = min(max(backoff*2, 5*time.Millisecond), time.Second)
				s.logf("accept: %v (retrying in %s)", err, backoff)
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
				continue
			}
			s.Close()
			s.wg.Wait()
			return err
		}
		backoff = 0
		select {
		case sem <- struct{}{}:
		default:
			s.logf("%s refused: %s already connected", c.RemoteAddr(), probe.Count(s.opts.MaxClients, "client", "clients"))
			c.Close()
			continue
		}
		if !s.track(c) {
			c.Close()
			<-sem
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-sem }()
			s.handle(c)
		}()
	}
}

func (s *EchoServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *EchoServer) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

func (s *EchoServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops accepting and closes every client connection. Serve returns
// once their goroutines are done.
func (s *EchoServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	return err
}

func (s *EchoServer) handle(c net.Conn) {
	defer s.untrack(c)
	defer c.Close()
	peer := c.RemoteAddr().String()
	s.logf("connection from %s", peer)
	buf := make([]byte, s.opts.Chunk)
	total := 0
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.opts.IdleTimeout))
		n, err := c.Read(buf)
		if n > 0 {
			s.logf("%s received %d bytes \"%s\", sending it back", peer, n, output.EscapeBytes(buf[:n]))
			_ = c.SetWriteDeadline(time.Now().Add(s.opts.IdleTimeout))
			if _, werr := c.Write(buf[:n]); werr != nil {
				s.logf("%s write failed after %d bytes: %v", peer, total, werr)
				return
			}
			total += n
		}
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				s.logf("no more data from %s: %d bytes echoed, closing", peer, total)
			case errors.Is(err, os.ErrDeadlineExceeded):
				s.logf("%s idle for %s: closing (%d bytes echoed)", peer, s.opts.IdleTimeout, total)
			case s.isClosed():
				s.logf("%s: server shutting down, closing (%d bytes echoed)", peer, total)
			default:
				s.logf("%s: %v (%d bytes echoed)", peer, err, total)
			}
			return
		}
	}
}
