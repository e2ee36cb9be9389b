package tcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/probetest"
)

func portList(t *testing.T, ports ...netip.AddrPort) probe.PortList {
	t.Helper()
	var s []string
	for _, p := range ports {
		s = append(s, fmt.Sprint(p.Port()))
	}
	l, err := probe.ParsePortList(strings.Join(s, ","))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestScanStates(t *testing.T) {
	var open []netip.AddrPort
	for i := 0; i < 3; i++ {
		open = append(open, startServer(t, nil).AddrPort())
	}
	closed := []netip.AddrPort{closedPort(t), closedPort(t)}
	all := append(append([]netip.AddrPort{}, open...), closed...)
	lo := netip.MustParseAddr("127.0.0.1")
	var results []PortResult
	prog := &Progress{}
	sums, err := Scan(context.Background(), ScanOptions{
		Hosts: []ScanHost{{Name: "127.0.0.1", Addr: lo}}, Ports: portList(t, all...),
		Concurrency: 2, Timeout: 10 * time.Second, Progress: prog,
	}, func(r PortResult) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(all) || prog.Done.Load() != int64(len(all)) || prog.Open.Load() != 3 {
		t.Fatalf("%d results, progress %d/%d", len(results), prog.Done.Load(), prog.Total.Load())
	}
	state := map[int]string{}
	for _, r := range results {
		state[r.Port] = r.State
		// Open ports on this machine's own address are confirmed with a
		// second connection (see scanPort): two tries.
		wantTries := map[string]int{StateOpen: 2, StateClosed: 1}[r.State]
		if r.Type != "tcp_port" || r.Tries != wantTries || r.Address != "127.0.0.1" {
			t.Errorf("result %+v", r)
		}
		if r.State == StateClosed && r.Failure != probe.FailConnRefused {
			t.Errorf("closed without refused: %+v", r)
		}
	}
	for _, ap := range open {
		if state[int(ap.Port())] != StateOpen {
			t.Errorf("port %d: %q, want open", ap.Port(), state[int(ap.Port())])
		}
	}
	for _, ap := range closed {
		if state[int(ap.Port())] != StateClosed {
			t.Errorf("port %d: %q, want closed", ap.Port(), state[int(ap.Port())])
		}
	}
	s := sums[0]
	if s.Open != 3 || s.Closed != 2 || s.Scanned != 5 || s.Errors != 0 || len(s.OpenPorts) != 3 || s.OpenPorts[0] > s.OpenPorts[1] {
		t.Fatalf("summary %+v", s)
	}
}

func TestScanBannerOnOpenPorts(t *testing.T) {
	srv := startServer(t, func(c net.Conn) { c.Write([]byte("+OK hello\r\n")) })
	var got []PortResult
	_, err := Scan(context.Background(), ScanOptions{
		Hosts: []ScanHost{{Name: "lo", Addr: netip.MustParseAddr("127.0.0.1")}}, Ports: portList(t, srv.AddrPort(), closedPort(t)),
		Timeout: 10 * time.Second, Conn: Options{Banner: true, ReadTimeout: 10 * time.Second},
	}, func(r PortResult) { got = append(got, r) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.State == StateOpen && (r.Banner == nil || r.Banner.Text != `+OK hello\r\n`) {
			t.Errorf("open port banner: %+v", r.Banner)
		}
		if r.State != StateOpen && r.Banner != nil {
			t.Errorf("banner on a %s port", r.State)
		}
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	all, _ := probe.ParsePortList("-")
	n := 0
	_, err := Scan(ctx, ScanOptions{Hosts: []ScanHost{{Addr: netip.MustParseAddr("127.0.0.1")}}, Ports: all, Concurrency: 8}, func(PortResult) { n++ })
	if err == nil || n != 0 {
		t.Fatalf("cancelled scan: err %v, %d results", err, n)
	}
}

// fullQueueListener is a listener whose accept queue is full: further SYNs
// are dropped (probetest.FullQueue).
func fullQueueListener(t *testing.T) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(probetest.FullQueue(t))
}

// With the accept queue full the kernel drops the SYN: the connect test
// sees no answer, which it reports as filtered/timeout, never as closed.
func TestDialFullAcceptQueue(t *testing.T) {
	ap := fullQueueListener(t)
	at := Dial(context.Background(), ap, 0, Options{Timeout: 300 * time.Millisecond})
	if at.OK || at.State != StateFiltered || at.Failure != probe.FailTimeout {
		t.Fatalf("full accept queue: %+v", at)
	}
	var got []PortResult
	Scan(context.Background(), ScanOptions{Hosts: []ScanHost{{Addr: ap.Addr()}}, Ports: portList(t, ap), Timeout: 300 * time.Millisecond},
		func(r PortResult) { got = append(got, r) })
	if len(got) != 1 || got[0].State != StateFiltered || got[0].Failure != probe.FailTimeout {
		t.Fatalf("scan of a full accept queue: %+v", got)
	}
}
