// Package tcp is nettool's TCP probe: tcping-style connect tests with the
// local address the OS picked, port scans with open/closed/filtered states,
// and the conversations a connection can carry (a banner read, the
// tutorial's echo exchange, a TLS handshake). It never prints.
package tcp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

// Port states, as nmap names them, plus "error" for a local problem that
// stopped the probe (never reported as closed).
const (
	StateOpen     = "open"
	StateClosed   = "closed"
	StateFiltered = "filtered"
	StateError    = "error"
)

// Options configure what a connection does once it is open.
type Options struct {
	Timeout     time.Duration // connect timeout
	ReadTimeout time.Duration // banner, reply and TLS handshake deadline
	Banner      bool          // read what the server says first
	Send        []byte        // write this and read the reply (nil: nothing)
	MaxBytes    int           // cap on bytes read for a banner or a reply
	TLS         *TLSOptions   // do a TLS handshake after connecting
	Source      netip.Addr    // local address to bind (zero: the OS picks)
	// Host is the target's host as the user wrote it. When it is a name,
	// it is the default TLS server name: sent as SNI and verified, as
	// openssl s_client and curl do. An address (or empty) verifies the
	// certificate's IP SANs and sends no SNI.
	Host string

	// Steps is a scripted conversation run after everything above
	// (blackbox's query_response): expect a line, send, start TLS.
	Steps []Step
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 2 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 4096
	}
}

// Attempt is one connect test: the envelope (type "tcp_attempt", ok,
// failure), the state, the connect time and the local address and port the
// OS picked, then whatever the connection carried.
type Attempt struct {
	probe.Meta
	Seq          int          `json:"seq"`
	Address      string       `json:"address"`
	LocalAddress string       `json:"local_address,omitempty"`
	State        string       `json:"state"`
	ConnectMS    float64      `json:"connect_ms"`
	Banner       *Data        `json:"banner,omitempty"`
	Sent         *Data        `json:"sent,omitempty"`
	Reply        *Data        `json:"reply,omitempty"`
	TLS          *TLSInfo     `json:"tls,omitempty"`
	Steps        []StepResult `json:"steps,omitempty"`

	connect time.Duration
}

// Connect is the connect time (zero when it did not connect).
func (a *Attempt) Connect() time.Duration { return a.connect }

// Data is bytes that crossed the connection: their count and their text with
// every control byte escaped (Go-style \n, \x1b), safe for a terminal.
type Data struct {
	Bytes     int     `json:"bytes"`
	Text      string  `json:"text"`
	Chunks    []int   `json:"chunks,omitempty"` // read sizes as they arrived
	ElapsedMS float64 `json:"elapsed_ms"`
	Truncated bool    `json:"truncated,omitempty"` // the cap was reached
	End       string  `json:"end,omitempty"`       // why reading stopped: newline, complete, eof, reset, cap, timeout, error
}

// Dial runs one connect test to addr. It always returns an Attempt; a
// failure is in its Meta.
func Dial(ctx context.Context, addr netip.AddrPort, seq int, o Options) Attempt {
	o.defaults()
	at := Attempt{Seq: seq, Address: addr.String()}
	at.Type = "tcp_attempt"
	at.Target = addr.String()
	at.Start = time.Now()
	d := net.Dialer{Timeout: o.Timeout}
	if o.Source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: o.Source.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "tcp", addr.String())
	elapsed := time.Since(at.Start)
	if err != nil {
		at.ElapsedMS = probe.Millis(elapsed)
		at.Fail(err)
		at.State = StateOf(err)
		return at
	}
	defer conn.Close()
	at.connect = elapsed
	at.ConnectMS = probe.Millis(elapsed)
	at.LocalAddress = conn.LocalAddr().String()
	at.State = StateOpen
	at.OK = true
	if err := Converse(ctx, conn, addr, &at, o); err != nil {
		at.Fail(err)
	}
	at.ElapsedMS = probe.Millis(time.Since(at.Start))
	return at
}

// Converse does, on an open connection, what the options ask: a TLS
// handshake, a banner read, a write and its reply. It fills at and returns
// the error that makes the attempt a failure (a failed handshake or
// verification, a failed write); quiet servers are not failures.
func Converse(ctx context.Context, conn net.Conn, addr netip.AddrPort, at *Attempt, o Options) error {
	o.defaults()
	g := &deadlines{conn: conn}
	stop := context.AfterFunc(ctx, g.cancel)
	defer stop()
	if o.TLS != nil {
		info, tconn, err := handshake(conn, g, addr, o.Host, *o.TLS, o.ReadTimeout)
		at.TLS = info
		if err != nil {
			return err
		}
		conn = tconn
	}
	if o.Banner {
		at.Banner = readData(conn, g, o.MaxBytes, o.ReadTimeout, -1, true)
	}
	if o.Send != nil {
		g.set(time.Now().Add(o.ReadTimeout))
		n, err := conn.Write(o.Send)
		at.Sent = &Data{Bytes: n, Text: output.EscapeBytes(o.Send[:n])}
		if err != nil {
			return err
		}
		at.Reply = readData(conn, g, o.MaxBytes, o.ReadTimeout, len(o.Send), false)
	}
	if len(o.Steps) > 0 {
		return runSteps(conn, g, addr, at, o)
	}
	return nil
}

// deadlines sets a connection's deadlines unless the context was cancelled:
// once cancel has run, every deadline stays in the past, so a Ctrl-C that
// lands between two phases cannot be undone by the next phase's deadline.
type deadlines struct {
	mu        sync.Mutex
	conn      net.Conn
	cancelled bool
}

func (d *deadlines) cancel() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancelled = true
	_ = d.conn.SetDeadline(time.Unix(1, 0))
}

func (d *deadlines) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.cancelled {
		_ = d.conn.SetDeadline(t)
	}
}

// readData reads until want bytes arrived (want >= 0), a newline (untilLine),
// EOF, the cap or the deadline.
func readData(conn net.Conn, g *deadlines, max int, timeout time.Duration, want int, untilLine bool) *Data {
	start := time.Now()
	g.set(start.Add(timeout))
	buf := make([]byte, 0, min(max, 4096))
	chunk := make([]byte, 4096)
	d := &Data{}
	for {
		room := max - len(buf)
		if room <= 0 {
			d.Truncated, d.End = true, "cap"
			break
		}
		n, err := conn.Read(chunk[:min(room, len(chunk))])
		if n > 0 {
			buf = append(buf, chunk[:n]...)
			if len(d.Chunks) < 1024 {
				d.Chunks = append(d.Chunks, n)
			}
			if untilLine && bytes.IndexByte(chunk[:n], '\n') >= 0 {
				d.End = "newline"
				break
			}
			if want >= 0 && len(buf) >= want {
				d.End = "complete"
				break
			}
		}
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				d.End = "eof"
			case errors.Is(err, os.ErrDeadlineExceeded):
				d.End = "timeout"
			case errors.Is(err, syscall.ECONNRESET):
				d.End = "reset"
			default:
				d.End = "error"
			}
			break
		}
	}
	d.Bytes = len(buf)
	d.Text = output.EscapeBytes(buf)
	d.ElapsedMS = probe.Millis(time.Since(start))
	return d
}

// StateOf maps a connect error to a port state: refused is closed; a
// timeout, an ICMP unreachable or a reset during the handshake is filtered;
// anything local (no file descriptors, no local port) is an error.
func StateOf(err error) string {
	switch {
	case err == nil:
		return StateOpen
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, errSelfConnect):
		return StateClosed
	case IsLocal(err):
		return StateError
	case errors.Is(err, context.Canceled):
		return StateError
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTDOWN), errors.Is(err, syscall.ETIMEDOUT):
		return StateFiltered
	case probe.Classify(err) == probe.FailTimeout:
		return StateFiltered
	}
	return StateError
}

// IsLocal reports errors that come from this machine's limits rather than
// from the target: out of file descriptors, buffers or local ports. A scan
// retries them and never reports them as closed.
func IsLocal(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.EAGAIN) ||
		errors.Is(err, syscall.EADDRINUSE)
}

// ParseSendData turns --send text into bytes: Go-style escapes \n, \r, \t,
// \0, \\ and \xHH are decoded, anything else is kept as written.
func ParseSendData(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, probe.Usagef("bad --send data: trailing backslash (write \\\\ for one)")
		}
		i++
		switch s[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '0':
			out = append(out, 0)
		case '\\':
			out = append(out, '\\')
		case 'x':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return nil, probe.Usagef("bad --send data: \\x needs two hex digits")
			}
			out = append(out, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		default:
			return nil, probe.Usagef("bad --send data: unknown escape \\%c (use \\n \\r \\t \\0 \\\\ \\xHH)", s[i])
		}
	}
	return out, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
