//go:build linux

package ping

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/nettool/nettool/probe/probetest"
)

// needICMP makes sure this process can open an ICMP socket (root opens a
// raw one even where net.ipv4.ping_group_range allows nobody).
func needICMP(t *testing.T) {
	t.Helper()
	s, err := openSocket(false, SocketAuto, 0)
	if err != nil {
		probetest.RequireRoot(t, "ICMP sockets: "+err.Error())
		probetest.Unavailable(t, "cannot open an ICMP socket: "+err.Error())
	}
	s.close()
}

func loopTargets(n int) []Target {
	var ts []Target
	for i := 1; i <= n; i++ {
		a := netip.AddrFrom4([4]byte{127, 0, byte(i / 250), byte(i%250 + 1)})
		ts = append(ts, Target{Name: a.String(), Addr: a})
	}
	return ts
}

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func TestRunLoopbackHosts(t *testing.T) {
	needICMP(t)
	ts := append(loopTargets(5), Target{Name: "::1", Addr: netip.MustParseAddr("::1")})
	var log eventLog
	res, err := Run(context.Background(), ts, Options{Count: 3, Interval: 20 * time.Millisecond, Wait: 5 * time.Second, Size: 56, OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint16]bool{}
	for i, h := range res.Hosts {
		if h.Target != ts[i] || h.Sent != 3 || h.Received != 3 || h.Lost != 0 || h.InFlight != 0 || h.Duplicates != 0 {
			t.Errorf("host %d: %+v", i, h)
		}
		if !(h.Min > 0 && h.Min <= h.Avg && h.Avg <= h.Max) {
			t.Errorf("host %d: rtt %v/%v/%v", i, h.Min, h.Avg, h.Max)
		}
		if h.Socket == KindRaw {
			if ids[h.ID] {
				t.Errorf("ICMP ID %d used twice", h.ID)
			}
			ids[h.ID] = true
		}
	}
	// Every reply came from the host it was sent to, seqs 1..3 each.
	seen := map[string][]int{}
	for _, e := range log.ev {
		if e.Kind != EventReply || e.Dup || e.Late {
			t.Errorf("unexpected event %+v", e)
			continue
		}
		if e.From != e.Target.Addr {
			t.Errorf("reply for %v came from %v", e.Target.Addr, e.From)
		}
		if e.Bytes != 64 || e.TTL <= 0 {
			t.Errorf("reply %+v", e)
		}
		seen[e.Target.Name] = append(seen[e.Target.Name], e.Seq)
	}
	for _, tg := range ts {
		if got := fmt.Sprint(seen[tg.Name]); got != "[1 2 3]" {
			t.Errorf("%s: seqs %s", tg.Name, got)
		}
	}
}

func TestRunSameAddressTwiceAndTinyPayload(t *testing.T) {
	needICMP(t)
	a := netip.MustParseAddr("127.0.0.1")
	ts := []Target{{Name: "127.0.0.1", Addr: a}, {Name: "again", Addr: a}}
	for _, size := range []int{56, 8} {
		res, err := Run(context.Background(), ts, Options{Count: 2, Interval: 10 * time.Millisecond, Wait: 5 * time.Second, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hosts {
			if h.Received != 2 || h.Duplicates != 0 {
				t.Errorf("size %d: %+v", size, h)
			}
		}
	}
	// Without room for nettool's tag, a raw socket still matches by ICMP ID.
	probetest.RequireRoot(t, "raw socket")
	var log eventLog
	res, err := Run(context.Background(), ts[:1], Options{Count: 2, Interval: 10 * time.Millisecond, Wait: 5 * time.Second, Size: 0, Socket: SocketRaw, OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	if h := res.Hosts[0]; h.Received != 2 || len(log.ev) != 2 || log.ev[0].Bytes != 8 {
		t.Errorf("size 0: %+v %+v", h, log.ev)
	}
}

func TestRunCancelReportsWhatWasMeasured(t *testing.T) {
	needICMP(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	res, err := Run(ctx, loopTargets(1), Options{Count: 0, Interval: 10 * time.Millisecond, Wait: 5 * time.Second, Size: 56,
		OnEvent: func(e Event) {
			n++
			if n == 3 {
				cancel()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := res.Hosts[0]
	if !res.Interrupted || h.Received < 3 || h.Lost != 0 || h.Sent != h.Received+h.InFlight {
		t.Fatalf("interrupted=%v %+v", res.Interrupted, h)
	}
	if pct, ok := h.LossPercent(); pct != 0 || !ok {
		t.Errorf("in-flight probes counted as lost: %v%%", pct)
	}
}

func TestRunDeadline(t *testing.T) {
	needICMP(t)
	res, err := Run(context.Background(), loopTargets(1), Options{Count: 0, Interval: 20 * time.Millisecond, Wait: time.Second, Deadline: 500 * time.Millisecond, Size: 56})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DeadlineReached || res.Interrupted || res.Hosts[0].Received < 1 {
		t.Fatalf("%+v", res)
	}
}

func TestRunSocketModes(t *testing.T) {
	probetest.RequireRoot(t, "raw ICMP sockets")
	res, err := Run(context.Background(), loopTargets(1), Options{Count: 1, Interval: time.Second, Wait: 5 * time.Second, Size: 56, Socket: SocketRaw})
	if err != nil || res.Sockets[0].Kind != KindRaw || res.Hosts[0].Received != 1 {
		t.Fatalf("raw: %+v %v", res, err)
	}
	// The datagram socket works only where ping_group_range allows it; when
	// it does not, the error must be a PermissionError naming the fixes.
	res, err = Run(context.Background(), loopTargets(1), Options{Count: 1, Interval: time.Second, Wait: 5 * time.Second, Size: 56, Socket: SocketDgram})
	if err != nil {
		var pe *PermissionError
		if !errors.As(err, &pe) {
			t.Fatalf("dgram error %T %v", err, err)
		}
		for _, want := range []string{"net.ipv4.ping_group_range", "setcap cap_net_raw+ep"} {
			if !contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		return
	}
	if res.Sockets[0].Kind != KindDgram || res.Hosts[0].Received != 1 {
		t.Fatalf("dgram: %+v", res)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

func TestRunRejectsBadInput(t *testing.T) {
	if _, err := Run(context.Background(), nil, Options{Interval: time.Second}); err == nil {
		t.Error("no targets accepted")
	}
	if _, err := Run(context.Background(), loopTargets(1), Options{Interval: time.Second, Size: 65508}); err == nil {
		t.Error("oversized IPv4 payload accepted")
	}
}

// Memory stays flat: the window and the expiry queue do not grow with the
// number of probes.
func TestRunManyProbesSmallWindow(t *testing.T) {
	needICMP(t)
	n := 0
	res, err := Run(context.Background(), loopTargets(2), Options{Count: 400, Interval: 2 * time.Millisecond, Wait: 20 * time.Millisecond, Size: 16,
		OnEvent: func(e Event) { n++ }})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.Hosts {
		if h.Received+h.Lost != 400 {
			t.Errorf("%+v", h)
		}
	}
	if got := windowSize(Options{Count: 400, Interval: 2 * time.Millisecond, Wait: 20 * time.Millisecond}, 2); got > 16 {
		t.Errorf("window %d for a 20ms wait at 2ms", got)
	}
}

// The pro-bing engine, wrapped: the socket kind nettool picked, distinct
// IDs, every reply matched, no goroutine left behind (goleak in TestMain).
func TestRunProBingEngine(t *testing.T) {
	needICMP(t)
	ts := append(loopTargets(3), Target{Name: "::1", Addr: netip.MustParseAddr("::1")})
	var log eventLog
	res, err := Run(context.Background(), ts, Options{Count: 3, Interval: 20 * time.Millisecond, Wait: 5 * time.Second, Size: 56, Engine: EngineProBing, OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint16]bool{}
	for _, h := range res.Hosts {
		if h.Sent != 3 || h.Received != 3 || h.Lost != 0 || h.Min <= 0 {
			t.Errorf("%+v", h)
		}
		if h.Socket == KindRaw {
			if ids[h.ID] {
				t.Errorf("ID %d twice", h.ID)
			}
			ids[h.ID] = true
		}
	}
	if len(log.ev) != 12 {
		t.Errorf("%d events", len(log.ev))
	}
	for _, e := range log.ev {
		if e.Kind != EventReply || e.From != e.Target.Addr || e.Bytes != 64 {
			t.Errorf("event %+v", e)
		}
	}
	if _, err := Run(context.Background(), ts, Options{Count: 1, Interval: time.Second, Size: 8, Engine: EngineProBing}); err == nil {
		t.Error("pro-bing with an 8-byte payload accepted")
	}
}

// Replies are matched to their probe: a second reply is a duplicate, a
// reply after the wait is late, foreign cookies and unknown seqs are
// ignored. Driven with synthetic replies, no socket.
func TestHandleDuplicateLateForeign(t *testing.T) {
	var log eventLog
	s := &sock{kind: KindRaw}
	e := &engine{opts: Options{Wait: time.Second, Size: 56, OnEvent: log.add}, cookie: 0xfeedbeef, byID: map[idKey]*host{}, wake: make(chan struct{}, 1)}
	tg := Target{Name: "127.0.0.9", Addr: netip.MustParseAddr("127.0.0.9")}
	h := &host{idx: 0, t: tg, s: s, id: 77, ring: make([]slot, 4), mask: 3, next: 1}
	e.hosts = []*host{h}
	e.byID[idKey{false, 77}] = h
	sent := time.Now()
	for seq := uint64(1); seq <= 2; seq++ {
		h.ring[seq&h.mask] = slot{seq: seq, sent: sent.UnixNano(), state: stPending}
		h.sent++
		h.pending++
		e.pending++
	}
	reply := func(seq uint16, cookie uint32) {
		b := buildEcho(nil, false, 77, seq, cookie, 0, 0, 56)
		b[0] = icmpv4EchoReply
		p, err := parseMessage(b, false, false)
		if err != nil {
			t.Fatal(err)
		}
		e.handle(s, received{from: tg.Addr, ttl: 64, when: sent.Add(50 * time.Microsecond)}, p)
	}
	reply(1, e.cookie)
	reply(1, e.cookie)                                // duplicate
	reply(1, 0x12345678)                              // another program's probe: ignored
	reply(3, e.cookie)                                // never sent: ignored
	short := buildEcho(nil, false, 77, 2, 0, 0, 0, 4) // tagless, with our ID and a pending seq
	short[0] = icmpv4EchoReply
	if p, err := parseMessage(short, false, false); err == nil {
		e.handle(s, received{from: tg.Addr, when: sent}, p) // ignored: our probes carry the tag
	}
	e.mu.Lock()
	e.expireLocked(sent.Add(2 * time.Second)) // nothing queued: seq 2 stays pending
	sl := &h.ring[2&h.mask]
	e.loseLocked(h, sl, time.Second, "")
	e.mu.Unlock()
	reply(2, e.cookie) // late
	got := ""
	for _, ev := range log.ev {
		got += fmt.Sprintf("%s:%d:dup=%v:late=%v:rtt=%v ", ev.Kind, ev.Seq, ev.Dup, ev.Late, ev.RTT)
	}
	want := "reply:1:dup=false:late=false:rtt=50µs reply:1:dup=true:late=false:rtt=50µs lost:2:dup=false:late=false:rtt=0s reply:2:dup=false:late=true:rtt=50µs "
	if got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if h.recv != 1 || h.dup != 1 || h.late != 1 || h.lost != 1 || h.pending != 0 || e.pending != 0 {
		t.Errorf("counters %+v", h)
	}
}

// BenchmarkRun1000HostsX3 is the multi-host path of scripts/bench/ping.sh
// in-process: 1,000 loopback hosts, 3 probes each, 10 ms apart per host.
func BenchmarkRun1000HostsX3(b *testing.B) {
	s, err := openSocket(false, SocketAuto, 0)
	if err != nil {
		b.Skip("no ICMP socket: ", err)
	}
	s.close()
	ts := loopTargets(1000)
	for b.Loop() {
		res, err := Run(context.Background(), ts, Options{Count: 3, Interval: 10 * time.Millisecond, Wait: 5 * time.Second, Size: 56})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range res.Hosts {
			if h.Received != 3 {
				b.Fatalf("%v: %d replies", h.Target, h.Received)
			}
		}
	}
}

// With a gap that makes a round longer than the interval, the interval per
// host stretches to the round (no burst to catch up). Checked as a lower
// bound on the time between a host's two replies, which load cannot break.
func TestRunGapStretchesRound(t *testing.T) {
	needICMP(t)
	// 5 hosts, 20ms apart, make a round of 100ms: longer than the 10ms
	// interval, so the interval per host stretches to 100ms. Probes are
	// never sent before they are due (load can only make them later), so a
	// reply to host i's second probe cannot come before start + 100ms +
	// i*20ms: a lower bound that holds however loaded the machine is.
	// Without the stretch, host 0's second probe would be due at 10ms.
	const hosts, gap, round = 5, 20 * time.Millisecond, 100 * time.Millisecond
	var log eventLog
	before := time.Now()
	_, err := Run(context.Background(), loopTargets(hosts), Options{Count: 2, Interval: 10 * time.Millisecond, Gap: gap, Wait: 5 * time.Second, Size: 56, OnEvent: log.add})
	if err != nil {
		t.Fatal(err)
	}
	seconds := 0
	for _, e := range log.ev {
		if e.Kind != EventReply {
			t.Fatalf("%+v", e)
		}
		if e.Seq != 2 {
			continue
		}
		seconds++
		if earliest := before.Add(round + time.Duration(e.Host)*gap); e.Time.Before(earliest) {
			t.Errorf("host %d: second reply %v after the start, before its probe was due (%v)", e.Host, e.Time.Sub(before), earliest.Sub(before))
		}
	}
	if seconds != hosts {
		t.Fatalf("%d second replies, want %d", seconds, hosts)
	}
}
