package resolve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/nettool/nettool/probe"
)

// BatchOptions configure RunBatch.
type BatchOptions struct {
	Servers     []Server // queries are spread over them round-robin
	Concurrency int      // queries in flight at most (default 100)
	Rate        float64  // queries per second at most (0: no limit)
	Opts        Options
	// OnBadLine is told about each line that is not "NAME [TYPE] [CLASS]";
	// the line is skipped.
	OnBadLine func(line int, err error)
	// Emit receives every result as it arrives; calls never overlap.
	Emit func(r *Result)
	// Flush is called when no result is waiting to be emitted (never at the
	// same time as Emit): the moment to flush buffered output.
	Flush func()
	// Recycle says that Emit keeps neither the result nor anything it
	// holds once it returns: the batch then reuses results and their
	// record arrays instead of making new ones.
	Recycle bool
}

// BatchStats summarise a batch run.
type BatchStats struct {
	Type      string  `json:"type"`
	Sent      int64   `json:"sent"`
	Answered  int64   `json:"answered"` // replies received, any rcode
	NoError   int64   `json:"noerror"`
	NoData    int64   `json:"nodata"`
	NXDomain  int64   `json:"nxdomain"`
	ServFail  int64   `json:"servfail"`
	Refused   int64   `json:"refused"`
	OtherRc   int64   `json:"other_rcode"`
	Timeouts  int64   `json:"timeouts"`
	Errors    int64   `json:"errors"` // transport errors other than timeouts
	BadLines  int64   `json:"bad_lines"`
	Retries   int64   `json:"retries"`
	TCPFall   int64   `json:"tcp_fallbacks"`
	ElapsedMS float64 `json:"elapsed_ms"`
	QPS       float64 `json:"qps"`
	Canceled  bool    `json:"interrupted"`
}

// AllOK reports whether every query got NOERROR with data.
func (s *BatchStats) AllOK() bool {
	return s.Sent > 0 && s.NoError == s.Sent
}

func (s *BatchStats) count(r *Result) {
	if r.Msg != nil || r.Rcode != "" {
		atomic.AddInt64(&s.Answered, 1)
	}
	switch {
	case r.OK:
		atomic.AddInt64(&s.NoError, 1)
	case r.Failure == probe.FailDNSNoData:
		atomic.AddInt64(&s.NoData, 1)
	case r.Failure == probe.FailDNSNXDomain:
		atomic.AddInt64(&s.NXDomain, 1)
	case r.Failure == probe.FailDNSServFail:
		atomic.AddInt64(&s.ServFail, 1)
	case r.Failure == probe.FailDNSRefused:
		atomic.AddInt64(&s.Refused, 1)
	case r.Failure == probe.FailDNSRcode:
		atomic.AddInt64(&s.OtherRc, 1)
	case r.Failure == probe.FailTimeout:
		atomic.AddInt64(&s.Timeouts, 1)
	case r.Failure == probe.FailCanceled:
	default:
		atomic.AddInt64(&s.Errors, 1)
	}
	if r.TCPFallback {
		atomic.AddInt64(&s.TCPFall, 1)
	}
}

// batchItem is one line of the input.
type batchItem struct {
	line  int
	name  string // fully qualified
	qtype uint16
	class uint16
}

// ParseBatchLine reads "NAME [TYPE] [CLASS]" (type and class in any order
// after the name; default type A). Blank lines and "#" comments give ok=false
// and no error. The name is the one to ask (QueryName: escapes kept, raw
// UTF-8 labels in IDNA form); an escaped space or "#" ("a\ b", "\#") is part
// of it.
func ParseBatchLine(line string) (name string, qtype, qclass uint16, ok bool, err error) {
	var fields [4]string // the usual line's fields, without an allocation
	f := batchFields(fields[:0], line)
	if len(f) == 0 {
		return "", 0, 0, false, nil
	}
	qname, err := QueryName(f[0])
	if err != nil {
		return "", 0, 0, false, err
	}
	qtype, qclass = dns.TypeA, dns.ClassINET
	var typeSet, classSet bool
	for _, w := range f[1:] {
		if t, ok := ParseType(w); ok && !typeSet {
			qtype, typeSet = t, true
			continue
		}
		if c, ok := ParseClass(w); ok && !classSet {
			qclass, classSet = c, true
			continue
		}
		return "", 0, 0, false, probe.Usagef("unknown type %q (want NAME [TYPE] [CLASS])", w)
	}
	return qname, qtype, qclass, true, nil
}

// batchFields splits a line at white space that is not escaped, up to a "#"
// that is not escaped.
func batchFields(out []string, line string) []string {
	start := -1
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\':
			if start < 0 {
				start = i
			}
			i++
		case c == '#':
			if start >= 0 {
				out = append(out, line[start:i])
			}
			return out
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			if start >= 0 {
				out = append(out, line[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = append(out, line[start:])
	}
	return out
}

// maxLine caps one input line.
const maxLine = 4096

// maxSkip is how much of an overlong line is skipped before the input is
// abandoned.
const maxSkip = 1 << 20

// chunkSize is how many lines the reader hands on at once.
const chunkSize = 64

// readLines feeds parsed lines into out, in chunks: a chunk goes on when it
// is full or when the input has nothing more buffered (so lines typed or
// piped slowly still go out at once). Nothing is kept once sent on.
func readLines(ctx context.Context, r io.Reader, out chan<- []batchItem, free chan []batchItem, bad func(int, error)) error {
	defer close(out)
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	chunk := newChunk(free)
	send := func() bool {
		if len(chunk) == 0 {
			return true
		}
		select {
		case out <- chunk:
			chunk = newChunk(free)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		line, err := br.ReadSlice('\n')
		n++
		if errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of the line, but not forever: past maxSkip
			// (/dev/zero, a binary file) the input is not a list of
			// names and reading stops with this one error.
			skipped := len(line)
			for errors.Is(err, bufio.ErrBufferFull) && skipped <= maxSkip {
				line, err = br.ReadSlice('\n')
				skipped += len(line)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				bad(n, probe.Usagef("line longer than %d MiB: not a list of names, input abandoned", maxSkip>>20))
				if !send() {
					return ctx.Err()
				}
				return nil
			}
			bad(n, probe.Usagef("line longer than %d bytes", maxLine))
		} else if len(line) > maxLine {
			bad(n, probe.Usagef("line longer than %d bytes", maxLine))
		} else if len(line) > 0 {
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
			}
			// The line is read in place, in the reader's buffer, which
			// the next read overwrites: only the copy of the name made
			// here outlives it (the errors are formatted at once).
			name, qt, qc, ok, perr := ParseBatchLine(unsafe.String(unsafe.SliceData(line), len(line)))
			switch {
			case perr != nil:
				bad(n, perr)
			case ok:
				chunk = append(chunk, batchItem{line: n, name: fqdnCopy(name), qtype: qt, class: qc})
			}
		}
		if err != nil {
			if !send() {
				return ctx.Err()
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		if len(chunk) == chunkSize || br.Buffered() == 0 {
			if !send() {
				return ctx.Err()
			}
		}
	}
}

// newChunk returns an empty chunk: one handed back to free by the queries'
// sender, or a new one.
func newChunk(free chan []batchItem) []batchItem {
	select {
	case c := <-free:
		return c[:0]
	default:
		return make([]batchItem, 0, chunkSize)
	}
}

// recycleChunk hands a chunk whose items have all been taken back to the
// reader, when free has room.
func recycleChunk(free chan []batchItem, c []batchItem) {
	select {
	case free <- c:
	default:
	}
}

// fqdnCopy returns name, fully qualified, in a string of its own.
func fqdnCopy(name string) string {
	if dns.IsFqdn(name) {
		return strings.Clone(name)
	}
	return name + "."
}

// emitter hands results from the receivers to one goroutine that counts
// them and calls Emit, so writing output runs beside the network work.
// Results wait in a bounded list; Flush is called whenever it runs dry.
type emitter struct {
	mu      sync.Mutex
	space   *sync.Cond
	pending []*Result
	spare   []*Result // the list emptied last, for pending to take
	closed  bool
	wake    chan struct{}
	done    chan struct{}
	st      *BatchStats
	o       *BatchOptions
	results resultPool
}

// resultPool hands out the batch's results: recycled ones once Emit has
// had them (BatchOptions.Recycle), new ones otherwise.
type resultPool struct{ p sync.Pool }

func (p *resultPool) put(r *Result) { p.p.Put(r) }

// get returns a result for it, as asked of server at start, with nothing
// else set.
func (p *resultPool) get(it batchItem, server string, start time.Time) *Result {
	r, _ := p.p.Get().(*Result)
	return startResult(r, it, server, start)
}

// startResult clears r (a new one when nil) but for its record array, and
// starts it as get says.
func startResult(r *Result, it batchItem, server string, start time.Time) *Result {
	if r == nil {
		r = new(Result)
	} else {
		*r = Result{recs: r.recs[:0]}
	}
	r.Meta = probe.Meta{Type: "dns", Target: it.name, Start: start}
	r.Question = NewQuestion(it.name, it.qtype, it.class)
	r.Server, r.Transport, r.Tries = server, string(UDP), 1
	return r
}

// maxPending bounds the results waiting to be written.
const maxPending = 4096

func newEmitter(st *BatchStats, o *BatchOptions) *emitter {
	e := &emitter{st: st, o: o, wake: make(chan struct{}, 1), done: make(chan struct{})}
	e.space = sync.NewCond(&e.mu)
	go e.run()
	return e
}

func (e *emitter) emit(r *Result) {
	e.mu.Lock()
	for len(e.pending) >= maxPending {
		e.space.Wait()
	}
	e.pending = append(e.pending, r)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// close waits until every result has been written.
func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	<-e.done
}

func (e *emitter) run() {
	defer close(e.done)
	for {
		e.mu.Lock()
		for len(e.pending) == 0 && !e.closed {
			e.mu.Unlock()
			<-e.wake
			e.mu.Lock()
		}
		batch := e.pending
		e.pending, e.spare = e.spare[:0], nil
		closed := e.closed
		e.space.Broadcast()
		e.mu.Unlock()
		for i, r := range batch {
			e.st.count(r)
			if e.o.Emit != nil {
				e.o.Emit(r)
			}
			if e.o.Recycle {
				e.results.put(r)
			}
			batch[i] = nil
		}
		e.mu.Lock()
		e.spare = batch[:0] // the next round's list: its results are gone
		idle := len(e.pending) == 0
		e.mu.Unlock()
		if idle && e.o.Flush != nil {
			e.o.Flush()
		}
		if closed && len(batch) == 0 {
			return
		}
	}
}

// RunBatch resolves every line of r and streams the results to Emit. Memory
// stays flat: lines are read as queries go out, and a result is forgotten
// once emitted. Over UDP, each socket carries many queries in flight at once
// (IDs index a slot table, replies are matched by ID and question, a sweeper
// retries and times out), which is what lets one process keep up with
// dnsperf. Other transports use a pool of workers.
func RunBatch(ctx context.Context, r io.Reader, o BatchOptions) (BatchStats, error) {
	st := BatchStats{Type: "dns_batch_summary"}
	if len(o.Servers) == 0 {
		return st, probe.Localf("no DNS server to ask")
	}
	if o.Concurrency < 1 {
		o.Concurrency = 100
	}
	if o.Opts.Timeout <= 0 {
		o.Opts.Timeout = 2 * time.Second
	}
	if o.OnBadLine == nil {
		o.OnBadLine = func(int, error) {}
	}
	bad := func(n int, err error) {
		atomic.AddInt64(&st.BadLines, 1)
		o.OnBadLine(n, err)
	}
	var lim *rate.Limiter
	if o.Rate > 0 {
		burst := int(o.Rate / 100)
		lim = rate.NewLimiter(rate.Limit(o.Rate), max(burst, 1))
	}
	// The reader stops at Ctrl-C; queries in flight end (as canceled) at
	// once.
	items := make(chan []batchItem, 4)
	free := make(chan []batchItem, 8)
	readErr := make(chan error, 1)
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() { readErr <- readLines(rctx, r, items, free, bad) }()

	start := time.Now()
	udp := !o.Opts.TCP
	for _, s := range o.Servers {
		if s.Transport != UDP {
			udp = false
		}
	}
	em := newEmitter(&st, &o)
	var runErr error
	if udp {
		runErr = runUDPBatch(ctx, o, lim, items, free, em)
	} else {
		runPoolBatch(ctx, o, lim, items, em)
	}
	em.close()
	rcancel()
	// The reader ends by itself unless it is blocked reading (a terminal
	// after Ctrl-C); then it is not waited for.
	var err error
	if ctx.Err() == nil || runErr != nil {
		go func() {
			for range items {
			}
		}()
		err = <-readErr
	} else {
		select {
		case err = <-readErr:
		default:
		}
	}
	el := time.Since(start)
	st.ElapsedMS = probe.Millis(el)
	if el > 0 {
		st.QPS = float64(int64(float64(st.Sent)/el.Seconds()*10)) / 10
	}
	st.Canceled = ctx.Err() != nil
	if o.Flush != nil {
		o.Flush()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return st, fmt.Errorf("reading input: %w", err)
	}
	return st, runErr
}

// runPoolBatch: one worker per concurrency slot, each calling Lookup. TCP and
// TLS queries share a few long-lived connections per server (pipeline.go);
// DoH shares HTTP/2 connections through the client's transport.
func runPoolBatch(ctx context.Context, o BatchOptions, lim *rate.Limiter, chunks <-chan []batchItem, em *emitter) {
	c := &Client{Opts: o.Opts, pipes: &pipePool{}}
	defer c.Close()
	items := make(chan batchItem)
	go func() {
		defer close(items)
		for chunk := range chunks {
			for _, it := range chunk {
				select {
				case items <- it:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var next atomic.Uint64
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range items {
				if ctx.Err() != nil {
					continue
				}
				if lim != nil && lim.Wait(ctx) != nil {
					continue
				}
				s := o.Servers[next.Add(1)%uint64(len(o.Servers))]
				atomic.AddInt64(&em.st.Sent, 1)
				res := c.Lookup(ctx, s, NewQuestion(it.name, it.qtype, it.class))
				res.InputName = ""
				em.emit(res)
			}
		}()
	}
	wg.Wait()
}

// The UDP engine.

type udpSlot struct {
	used     bool
	id       uint16
	item     batchItem
	start    time.Time // first send
	sent     time.Time // last send
	deadline time.Time
	tries    int
	pkt      []byte
}

type udpSock struct {
	conn    *net.UDPConn
	server  Server
	label   string // server.String(), made once
	results *resultPool
	cache   *internCache // the receiver's
	addr    string
	mask    uint16
	mu      sync.Mutex
	slots   []udpSlot
	free    chan int
}

// template parts of a query packet
type queryTemplate struct {
	flags uint16
	opt   []byte // the OPT record, packed
}

func newTemplate(o Options) (queryTemplate, error) {
	m, err := NewQuery(NewQuestion(".", dns.TypeA, dns.ClassINET), o)
	if err != nil {
		return queryTemplate{}, err
	}
	m.Question = nil
	b, err := m.Pack()
	if err != nil {
		return queryTemplate{}, err
	}
	t := queryTemplate{opt: append([]byte(nil), b[12:]...)}
	t.flags = binary.BigEndian.Uint16(b[2:]) // RD, AD, CD as NewQuery sets them
	return t, nil
}

// pack writes the query for it with id into buf.
func (t queryTemplate) pack(buf []byte, id uint16, it batchItem) ([]byte, error) {
	buf = buf[:cap(buf)]
	if len(buf) < 12+256+4+len(t.opt) {
		buf = make([]byte, 12+256+4+len(t.opt))
	}
	binary.BigEndian.PutUint16(buf[0:], id)
	binary.BigEndian.PutUint16(buf[2:], t.flags)
	binary.BigEndian.PutUint16(buf[4:], 1)
	binary.BigEndian.PutUint16(buf[6:], 0)
	binary.BigEndian.PutUint16(buf[8:], 0)
	binary.BigEndian.PutUint16(buf[10:], 1)
	off, err := dns.PackDomainName(it.name, buf, 12, nil, false)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(buf[off:], it.qtype)
	binary.BigEndian.PutUint16(buf[off+2:], it.class)
	off += 4
	off += copy(buf[off:], t.opt)
	return buf[:off], nil
}

func runUDPBatch(ctx context.Context, o BatchOptions, lim *rate.Limiter, items <-chan []batchItem, free chan []batchItem, em *emitter) error {
	st := em.st
	tmpl, err := newTemplate(o.Opts)
	if err != nil {
		return err
	}
	nsock := max(1, min(o.Concurrency/64, 4))
	nsock = max(nsock, min(len(o.Servers), o.Concurrency))
	per := (o.Concurrency + nsock - 1) / nsock
	per = min(per, 65536)
	mask := uint16(0)
	for int(mask)+1 < per {
		mask = mask<<1 | 1
	}
	socks := make([]*udpSock, 0, nsock)
	defer func() {
		for _, s := range socks {
			s.conn.Close()
		}
	}()
	for i := 0; i < nsock; i++ {
		srv := o.Servers[i%len(o.Servers)]
		actx, cancel := context.WithTimeout(ctx, o.Opts.Timeout)
		addr, err := srv.resolveAddr(actx, o.Opts.Family)
		cancel()
		if err != nil {
			return probe.Localf("server %s: %v", srv, err)
		}
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return probe.Localf("server %s: %v", srv, err)
		}
		conn, err := net.DialUDP("udp", nil, ua)
		if err != nil {
			return probe.Localf("server %s: %v", srv, err)
		}
		_ = conn.SetReadBuffer(4 << 20)
		_ = conn.SetWriteBuffer(4 << 20)
		s := &udpSock{conn: conn, server: srv, label: srv.String(), results: &em.results, cache: newInternCache(), addr: addr, mask: mask, slots: make([]udpSlot, per), free: make(chan int, per)}
		for j := 0; j < per; j++ {
			s.free <- j
		}
		socks = append(socks, s)
	}
	tries := o.Opts.Retries + 1
	var inflight sync.WaitGroup
	tcpSem := make(chan struct{}, 16)
	emit := func(r *Result) {
		em.emit(r)
		inflight.Done()
	}
	fallback := func(s *udpSock, it batchItem, start time.Time) {
		tcpSem <- struct{}{}
		go func() {
			defer func() { <-tcpSem }()
			res := s.result(it, start)
			res.TCPFallback = true
			res.Transport = string(TCP)
			m, _ := NewQuery(NewQuestion(it.name, it.qtype, it.class), o.Opts)
			r, rtt, err := exchangeStream(ctx, s.addr, false, nil, m, time.Now().Add(o.Opts.Timeout))
			var me *malformedError
			switch {
			case errors.As(err, &me):
				res.fill(me.msg, rtt)
				res.setMalformed(me.why)
			case err != nil:
				res.fail(err)
			default:
				res.fill(r, rtt)
			}
			res.ElapsedMS = probe.Millis(time.Since(start))
			emit(res)
		}()
	}

	var recvWG sync.WaitGroup
	for _, s := range socks {
		recvWG.Add(1)
		go func() {
			defer recvWG.Done()
			s.receive(o, emit, fallback)
		}()
	}
	stopSweep := make(chan struct{})
	var sweepWG sync.WaitGroup
	sweepWG.Add(1)
	go func() {
		defer sweepWG.Done()
		tick := max(min(o.Opts.Timeout/8, 100*time.Millisecond), 5*time.Millisecond)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stopSweep:
				return
			case <-t.C:
			}
			now := time.Now()
			canceled := ctx.Err() != nil
			for _, s := range socks {
				s.sweep(now, canceled, tries, o.Opts.Timeout, tmpl, st, emit)
			}
		}
	}()

	var sendWG sync.WaitGroup
	for _, s := range socks {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			s.send(ctx, o, lim, tmpl, items, free, st, &inflight, emit)
		}()
	}
	sendWG.Wait()
	inflight.Wait()
	close(stopSweep)
	sweepWG.Wait()
	for _, s := range socks {
		s.conn.Close()
	}
	recvWG.Wait()
	socks = nil
	return nil
}

// result starts the result of a query to this socket's server.
func (s *udpSock) result(it batchItem, start time.Time) *Result {
	return s.results.get(it, s.label, start)
}

// ioBatch is how many datagrams one sendmmsg or recvmmsg moves at most.
const ioBatch = 32

// send takes lines and sends their queries, several per sendmmsg when lines
// are waiting. A query's slot is filled before it goes out, so a reply
// always finds it.
func (s *udpSock) send(ctx context.Context, o BatchOptions, lim *rate.Limiter, tmpl queryTemplate, items <-chan []batchItem, free chan []batchItem, st *BatchStats, inflight *sync.WaitGroup, emit func(*Result)) {
	bufs := make([][]byte, ioBatch)
	for i := range bufs {
		bufs[i] = make([]byte, 0, 512)
	}
	mw, err := newMmsgWriter(s.conn, ioBatch)
	if err != nil {
		return // not a socket: nothing goes out, as when every send fails
	}
	n := 0
	flush := func() {
		for off := 0; off < n; {
			w, err := mw.send(bufs[off:n])
			if err != nil || w <= 0 {
				// Left in their slots: the sweeper retries them, then gives up.
				break
			}
			off += w
		}
		n = 0
	}
	add := func(it batchItem) {
		if ctx.Err() != nil {
			return
		}
		if lim != nil {
			if !lim.Allow() {
				flush()
				if lim.Wait(ctx) != nil {
					return
				}
			}
		}
		var idx int
		select {
		case idx = <-s.free:
		default:
			flush()
			select {
			case idx = <-s.free:
			case <-ctx.Done():
				return
			}
		}
		inflight.Add(1)
		atomic.AddInt64(&st.Sent, 1)
		id := queryID()&^s.mask | uint16(idx)
		pkt, err := tmpl.pack(bufs[n], id, it)
		if err != nil {
			s.free <- idx
			res := s.result(it, time.Now())
			res.fail(probe.Usagef("cannot pack %s: %v", it.name, err))
			emit(res)
			return
		}
		bufs[n] = pkt
		now := time.Now()
		s.mu.Lock()
		sl := &s.slots[idx]
		sl.used, sl.id, sl.item, sl.start, sl.sent, sl.deadline, sl.tries = true, id, it, now, now, now.Add(o.Opts.Timeout), 1
		s.mu.Unlock()
		n++
	}
	for {
		var chunk []batchItem
		var ok bool
		select {
		case chunk, ok = <-items:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		for _, it := range chunk {
			add(it)
			if n == ioBatch {
				flush()
			}
		}
		recycleChunk(free, chunk)
		flush()
	}
}

// receive reads replies, several per recvmmsg, until the socket is closed.
func (s *udpSock) receive(o BatchOptions, emit func(*Result), fallback func(*udpSock, batchItem, time.Time)) {
	size := int(o.Opts.UDPSize)
	if size < DefaultUDPSize {
		size = DefaultUDPSize
	}
	size = min(size+512, maxMsg)
	bufs := make([][]byte, ioBatch)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	r, err := newMmsgReader(s.conn, bufs)
	if err != nil {
		return // not a socket: the sweeper times every query out
	}
	for {
		n, err := r.next()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP port unreachable and the like: the sweeper times the query out
		}
		for i := 0; i < n; i++ {
			if r.trunc(i) {
				continue // bigger than we asked for: not a reply to us
			}
			s.handle(bufs[i][:r.size(i)], emit, fallback)
		}
	}
}

// handle matches one datagram with its query: the usual reply is read by
// the fast path, anything else by miekg/dns; garbage, replies with the
// wrong ID or to another question are ignored.
func (s *udpSock) handle(buf []byte, emit func(*Result), fallback func(*udpSock, batchItem, time.Time)) {
	if len(buf) < 12 {
		return
	}
	id := binary.BigEndian.Uint16(buf)
	idx := int(id & s.mask)
	if idx >= len(s.slots) {
		return
	}
	s.mu.Lock()
	sl := &s.slots[idx]
	if !sl.used || sl.id != id {
		s.mu.Unlock()
		return
	}
	it, start, sent, tries := sl.item, sl.start, sl.sent, sl.tries
	s.mu.Unlock()
	now := time.Now()
	trunc := buf[2]&0x80 != 0 && buf[2]&0x02 != 0
	res := s.result(it, start)
	res.Tries = tries
	if trunc || !fastParse(buf, id, it.name, it.qtype, it.class, res, now.Sub(sent), s.cache) {
		m, bad, uerr := unpackReply(buf)
		if uerr != nil && !trunc {
			return // garbage: keep waiting for the real reply
		}
		switch {
		case uerr != nil:
		case bad != "" && replyTo(&dns.Msg{MsgHdr: dns.MsgHdr{Id: id}, Question: []dns.Question{{Name: it.name, Qtype: it.qtype, Qclass: it.class}}}, m):
		case !answers(m, id, it.name, it.qtype, it.class):
			return
		}
		if !trunc {
			res.fillWith(m, now.Sub(sent), true)
			if bad != "" {
				res.setMalformed(bad)
			}
		}
	}
	// Claim the slot, unless the sweeper retried (new ID) or ended it since.
	s.mu.Lock()
	if !sl.used || sl.id != id {
		s.mu.Unlock()
		return
	}
	sl.used = false
	sl.item = batchItem{}
	s.mu.Unlock()
	s.free <- idx
	if trunc {
		fallback(s, it, start)
		return
	}
	res.ElapsedMS = probe.Millis(now.Sub(start))
	emit(res)
}

// sweep retries or times out queries past their deadline; after Ctrl-C it
// ends every query in flight.
func (s *udpSock) sweep(now time.Time, canceled bool, tries int, timeout time.Duration, tmpl queryTemplate, st *BatchStats, emit func(*Result)) {
	var done []*Result
	s.mu.Lock()
	for i := range s.slots {
		sl := &s.slots[i]
		if !sl.used || (!canceled && now.Before(sl.deadline)) {
			continue
		}
		if !canceled && sl.tries < tries {
			sl.id = queryID()&^s.mask | uint16(i)
			if pkt, err := tmpl.pack(sl.pkt, sl.id, sl.item); err == nil {
				sl.pkt = pkt
				sl.tries++
				sl.sent, sl.deadline = now, now.Add(timeout)
				atomic.AddInt64(&st.Retries, 1)
				_, _ = s.conn.Write(pkt)
				continue
			}
		}
		res := s.result(sl.item, sl.start)
		res.Tries = sl.tries
		if canceled {
			res.fail(context.Canceled)
		} else {
			res.fail(context.DeadlineExceeded)
			res.Error = fmt.Sprintf("no reply from %s in %s of %s", s.server, probe.Count(sl.tries, "try", "tries"), timeout)
		}
		res.ElapsedMS = probe.Millis(now.Sub(sl.start))
		sl.used = false
		sl.item = batchItem{}
		done = append(done, res)
		s.free <- i
	}
	s.mu.Unlock()
	for _, r := range done {
		emit(r)
	}
}
