package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// DNSDefaultAddr is where the DNS server listens unless told otherwise:
// loopback only, on the unprivileged mDNS-free port most tutorials use.
const DNSDefaultAddr = "127.0.0.1:5353"

// DNSDefaultUDPSize is the largest UDP reply the server sends to an EDNS
// client by default: the DNS Flag Day 2020 value, which avoids IP
// fragmentation on every common path.
const DNSDefaultUDPSize = 1232

// DNSOptions configure a DNSServer.
type DNSOptions struct {
	// Addr is host:port to listen on, UDP and TCP on the same port. "" means
	// DNSDefaultAddr. Port 0 picks a free port, the same for UDP and TCP.
	Addr string
	// Zones are served authoritatively; nil means DNSExampleZones().
	Zones []*DNSZone
	// NSID, when not empty, is sent to clients that ask for it (RFC 5001).
	NSID string
	// MaxUDPSize caps UDP replies to EDNS clients (their own size is
	// respected when smaller; 512 bytes without EDNS). 0 means
	// DNSDefaultUDPSize. Values are clamped to 512..65535.
	MaxUDPSize int
	// OnQuery, when set, is called once for every message received, after the
	// reply is sent, from the goroutine that served it. It must be quick and
	// safe for concurrent use.
	OnQuery func(DNSQuery)
	// UDPWorkers is the number of goroutines reading the UDP socket; 0 means
	// GOMAXPROCS.
	UDPWorkers int
	// TCPIdleTimeout closes a TCP connection that sends nothing for this long;
	// 0 means 10s. It also bounds how long one reply may take to write.
	TCPIdleTimeout time.Duration
	// MaxTCPConns caps open TCP connections; more are closed at once. 0 means
	// 256.
	MaxTCPConns int
}

// DNSQuery is what the server saw and did for one message: the query log.
type DNSQuery struct {
	Time      time.Time      // when the message arrived
	Client    netip.AddrPort // who sent it
	Transport string         // "udp" or "tcp"
	ID        uint16         // message ID
	Name      string         // the name asked, as asked (case kept), presentation format
	Type      string         // query type ("A", "TYPE65534"); "" when the message had no question
	Class     string         // query class ("IN")
	Rcode     string         // reply code ("NOERROR", "NXDOMAIN", ...); "" when no reply was sent
	Answers   int            // records in the answer section
	Size      int            // bytes of the reply; 0 when none was sent
	Truncated bool           // the reply had TC set: the client should retry over TCP
	EDNS      bool           // the query carried an OPT record
	UDPSize   int            // the client's EDNS UDP size
	DO        bool           // the query set the DNSSEC OK bit
	NSID      bool           // the query asked for the server's NSID
	Dropped   string         // why no reply was sent ("short", "response"), else ""
	Duration  time.Duration  // from arrival to reply written

	rcode int // numeric Rcode, for the counters
}

// DNSStats counts what a server has done so far.
type DNSStats struct {
	Queries   int64            // messages received
	UDP       int64            // over UDP
	TCP       int64            // over TCP
	Truncated int64            // replies with TC set
	Dropped   int64            // messages that got no reply
	Rcodes    map[string]int64 // replies by rcode
}

// DNSServer is a small authoritative DNS server for a set of zones, over UDP
// and TCP on one port. Make it with NewDNSServer, then Start or
// ListenAndServe.
type DNSServer struct {
	opts    DNSOptions
	zones   map[string]*DNSZone // by origin
	zkeys   map[string]*DNSZone // by the key of the origin
	maxDots int                 // labels in the longest origin
	maxUDP  int
	nsid    string // hex, as the OPT option carries it

	mu      sync.Mutex
	started bool
	closed  bool
	udp     *net.UDPConn
	tcp     *net.TCPListener
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	stopCtx func() bool

	queries, udpN, tcpN, truncated, dropped atomic.Int64
	rcodes                                  [24]atomic.Int64 // by rcode value, extended ones included
}

// NewDNSServer checks the options and returns a server that is not
// listening yet.
func NewDNSServer(opts DNSOptions) (*DNSServer, error) {
	if opts.Addr == "" {
		opts.Addr = DNSDefaultAddr
	}
	if opts.Zones == nil {
		opts.Zones = DNSExampleZones()
	}
	if opts.MaxUDPSize == 0 {
		opts.MaxUDPSize = DNSDefaultUDPSize
	}
	opts.MaxUDPSize = min(max(opts.MaxUDPSize, dns.MinMsgSize), dns.MaxMsgSize)
	if opts.UDPWorkers <= 0 {
		opts.UDPWorkers = runtime.GOMAXPROCS(0)
	}
	if opts.TCPIdleTimeout <= 0 {
		opts.TCPIdleTimeout = 10 * time.Second
	}
	if opts.MaxTCPConns <= 0 {
		opts.MaxTCPConns = 256
	}
	if len(opts.NSID) > 512 {
		return nil, fmt.Errorf("nsid: %d bytes, at most 512", len(opts.NSID))
	}
	s := &DNSServer{opts: opts, zones: map[string]*DNSZone{}, maxUDP: opts.MaxUDPSize, conns: map[net.Conn]struct{}{}, zkeys: map[string]*DNSZone{}}
	for _, z := range opts.Zones {
		if z == nil {
			return nil, errors.New("nil zone")
		}
		if old := s.zones[z.origin]; old != nil {
			return nil, fmt.Errorf("zone %s is given twice (%s and %s)", z.origin, old.file, z.file)
		}
		s.zones[z.origin] = z
		s.zkeys[z.okey] = z
		s.maxDots = max(s.maxDots, dns.CountLabel(z.origin))
	}
	if opts.NSID != "" {
		s.nsid = fmt.Sprintf("%x", opts.NSID)
	}
	return s, nil
}

// Zones returns the origins of the served zones, sorted.
func (s *DNSServer) Zones() []string {
	out := make([]string, 0, len(s.zones))
	for o := range s.zones {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}

// Start binds the UDP socket and the TCP listener and serves in the
// background until ctx ends or Shutdown is called. Binding problems (address
// in use, no permission for a low port) are returned at once.
func (s *DNSServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("dns server: already started")
	}
	udp, tcp, err := dnsListen(ctx, s.opts.Addr)
	if err != nil {
		return err
	}
	s.started, s.udp, s.tcp = true, udp, tcp
	for i := 0; i < s.opts.UDPWorkers; i++ {
		s.wg.Add(1)
		go s.dnsServeUDP()
	}
	s.wg.Add(1)
	go s.dnsServeTCP()
	s.stopCtx = context.AfterFunc(ctx, s.dnsClose)
	return nil
}

// ListenAndServe starts the server and serves until ctx ends, then shuts
// down and returns nil (or the error that kept it from starting).
func (s *DNSServer) ListenAndServe(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// Shutdown stops listening, closes open TCP connections and waits (until ctx
// ends) for every goroutine of the server to finish.
func (s *DNSServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	stop := s.stopCtx
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.dnsClose()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *DNSServer) dnsClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.started {
		s.closed = true
		return
	}
	s.closed = true
	s.udp.Close()
	s.tcp.Close()
	for c := range s.conns {
		c.Close()
	}
}

// UDPAddr is the bound UDP address (zero before Start).
func (s *DNSServer) UDPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return netip.AddrPort{}
	}
	return dnsAddrPort(s.udp.LocalAddr())
}

// TCPAddr is the bound TCP address (zero before Start).
func (s *DNSServer) TCPAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return netip.AddrPort{}
	}
	return dnsAddrPort(s.tcp.Addr())
}

// Addr is the bound address as "host:port" (UDP and TCP share it), for
// `@server` arguments and dig's -p.
func (s *DNSServer) Addr() string { return s.UDPAddr().String() }

// Stats returns the counters so far.
func (s *DNSServer) Stats() DNSStats {
	st := DNSStats{
		Queries: s.queries.Load(), UDP: s.udpN.Load(), TCP: s.tcpN.Load(),
		Truncated: s.truncated.Load(), Dropped: s.dropped.Load(), Rcodes: map[string]int64{},
	}
	for i := range s.rcodes {
		if n := s.rcodes[i].Load(); n > 0 {
			st.Rcodes[dnsRcodeName(i)] = n
		}
	}
	return st
}

func dnsAddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// dnsListen binds UDP and TCP on one address. With port 0 the kernel picks
// the UDP port and TCP takes the same one; if TCP finds it taken, try again.
func dnsListen(ctx context.Context, addr string) (*net.UDPConn, *net.TCPListener, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, nil, fmt.Errorf("listen address %q: bad port", addr)
	}
	var lc net.ListenConfig
	for try := 0; ; try++ {
		pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, portStr))
		if err != nil {
			return nil, nil, err
		}
		udp := pc.(*net.UDPConn)
		dnsGrowReadBuffer(udp)
		p := udp.LocalAddr().(*net.UDPAddr).Port
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return udp, ln.(*net.TCPListener), nil
		}
		udp.Close()
		if port != 0 || try >= 20 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
	}
}

// dnsBatch is how many datagrams one UDP worker reads (recvmmsg) and
// answers (sendmmsg) per system call on Linux.
const dnsBatch = 32

// dnsUDPBuf is the read buffer per datagram: a query is small (a question
// and an OPT record); anything longer is cut, fails to parse and gets
// FORMERR.
const dnsUDPBuf = 4096

// dnsBatchConn is the batch I/O of golang.org/x/net/ipv4 and ipv6 (the same
// Message type): recvmmsg and sendmmsg on Linux, one datagram per call
// elsewhere.
type dnsBatchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func (s *DNSServer) dnsServeUDP() {
	defer s.wg.Done()
	var bc dnsBatchConn
	if a := s.UDPAddr().Addr(); a.Is4() || a.Is4In6() {
		bc = ipv4.NewPacketConn(s.udp)
	} else {
		bc = ipv6.NewPacketConn(s.udp)
	}
	in := make([]ipv4.Message, dnsBatch)
	outs := make([]ipv4.Message, 0, dnsBatch)
	bufs := make([][]byte, dnsBatch)
	replyBufs := make([][]byte, dnsBatch)
	for i := range in {
		bufs[i] = make([]byte, dnsUDPBuf)
		replyBufs[i] = make([]byte, s.maxUDP)
		in[i].Buffers = [][]byte{bufs[i]}
	}
	cache := newDNSCache()                   // this worker's packed replies
	replySlot := make([][]byte, dnsBatch)    // Buffers for outs, reused
	queries := make([]DNSQuery, 0, dnsBatch) // logged once the replies are out
	froms := make([]netip.AddrPort, 0, dnsBatch)
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error queued on the socket and the like
		}
		start := time.Now()
		outs = outs[:0]
		queries, froms = queries[:0], froms[:0]
		for i := 0; i < n; i++ {
			m := &in[i]
			reply, q := s.dnsServe(bufs[i][:m.N], false, replyBufs[i], cache)
			from := dnsAddrPort(m.Addr)
			if reply != nil {
				replySlot[i] = reply
				outs = append(outs, ipv4.Message{Buffers: replySlot[i : i+1 : i+1], Addr: m.Addr})
			}
			queries = append(queries, q)
			froms = append(froms, from)
		}
		for sent := 0; sent < len(outs); {
			k, err := bc.WriteBatch(outs[sent:], 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				// One bad destination: skip it and send the rest.
				k = max(k, 1)
			}
			sent += k
		}
		for i := range queries {
			s.dnsDone(&queries[i], start, froms[i], "udp")
		}
	}
}

func (s *DNSServer) dnsServeTCP() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := s.tcp.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little, as
			// net/http does, rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			<-t.C
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.opts.MaxTCPConns {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.dnsServeConn(c)
	}
}

// dnsServeConn answers length-prefixed messages on one TCP connection, one
// after another, until the client closes it or goes idle.
func (s *DNSServer) dnsServeConn(c *net.TCPConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	from := dnsAddrPort(c.RemoteAddr())
	buf := make([]byte, dns.MaxMsgSize)
	out := make([]byte, dns.MaxMsgSize)
	var lenBuf, outLen [2]byte
	for {
		_ = c.SetDeadline(time.Now().Add(s.opts.TCPIdleTimeout))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n == 0 {
			return
		}
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return
		}
		start := time.Now()
		reply, q := s.dnsHandle(buf[:n], true, out)
		if reply != nil {
			binary.BigEndian.PutUint16(outLen[:], uint16(len(reply)))
			bufs := net.Buffers{outLen[:], reply} // one writev
			if _, err := bufs.WriteTo(c); err != nil {
				s.dnsDone(&q, start, from, "tcp")
				return
			}
		}
		s.dnsDone(&q, start, from, "tcp")
	}
}

// dnsDone counts a served message and hands it to the query log.
func (s *DNSServer) dnsDone(q *DNSQuery, start time.Time, from netip.AddrPort, transport string) {
	s.queries.Add(1)
	if transport == "tcp" {
		s.tcpN.Add(1)
	} else {
		s.udpN.Add(1)
	}
	switch {
	case q.Dropped != "":
		s.dropped.Add(1)
	default:
		if q.rcode >= 0 && q.rcode < len(s.rcodes) {
			s.rcodes[q.rcode].Add(1)
		}
		if q.Truncated {
			s.truncated.Add(1)
		}
	}
	if s.opts.OnQuery == nil {
		return
	}
	q.Time, q.Client, q.Transport = start, from, transport
	q.Duration = time.Since(start)
	s.opts.OnQuery(*q)
}

func dnsRcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// dnsReadBuffer is the UDP receive buffer the server asks for, so that a
// burst of queries waits in the kernel instead of being dropped (the default
// is about 200 KB, some 200 datagrams).
const dnsReadBuffer = 4 << 20
