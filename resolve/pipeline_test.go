package resolve

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/nettool/nettool/probe/probetest"
)

// addrFor is the address the pipelining test server gives each name, so a
// reply handed to the wrong query shows.
func addrFor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	v := h.Sum32()
	return netip.AddrFrom4([4]byte{10, byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func readFrame(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeFrames(w io.Writer, msgs ...*dns.Msg) error {
	var out []byte
	for _, m := range msgs {
		p, err := m.Pack()
		if err != nil {
			return err
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	_, err := w.Write(out)
	return err
}

// pipelineServer reads queries in groups of up to group, then answers each
// group in reverse order; before every true answer it sends a reply with the
// same ID for another question and one with an ID nobody asked. After
// closeAfter answers on one connection it closes it, with queries still
// unanswered. It counts connections and the most queries it saw in flight.
type pipelineServer struct {
	group, closeAfter  int
	conns, maxInFlight atomic.Int64
}

func (s *pipelineServer) serve(c net.Conn, stop <-chan struct{}) {
	s.conns.Add(1)
	answered := 0
	frames := make(chan []byte, 64)
	go func() {
		defer close(frames)
		for {
			b, err := readFrame(c)
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	for {
		var batch []*dns.Msg
		b, ok := <-frames
		if !ok {
			return
		}
	more:
		for {
			q := new(dns.Msg)
			if q.Unpack(b) != nil || len(q.Question) != 1 {
				return
			}
			batch = append(batch, q)
			if len(batch) == s.group {
				break
			}
			select {
			case b, ok = <-frames:
				if !ok {
					break more
				}
			default:
				break more
			}
		}
		if n := int64(len(batch)); n > s.maxInFlight.Load() {
			s.maxInFlight.Store(n)
		}
		for i := len(batch) - 1; i >= 0; i-- {
			q := batch[i]
			if s.closeAfter > 0 && answered == s.closeAfter {
				return
			}
			good := new(dns.Msg)
			good.SetReply(q)
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A " + addrFor(q.Question[0].Name))
			good.Answer = []dns.RR{rr}
			other := good.Copy()
			other.Question[0].Name = "other." + q.Question[0].Name
			orr, _ := dns.NewRR(other.Question[0].Name + " 60 IN A 192.0.2.99")
			other.Answer = []dns.RR{orr}
			stray := good.Copy()
			stray.Id = q.Id ^ 0x8000
			if writeFrames(c, other, stray, good) != nil {
				return
			}
			answered++
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}

// Queries pipelined on shared TCP connections, answered out of order and
// mixed with replies for other questions and other IDs, each get their own
// answer; connections the server closes mid-stream cost no answers.
func TestPipelinedOutOfOrder(t *testing.T) {
	srv := &pipelineServer{group: 16, closeAfter: 70}
	addr := probetest.ServeTCP(t, srv.serve)
	const n = 600
	var lines strings.Builder
	for i := range n {
		fmt.Fprintf(&lines, "host-%d.pipe.example\n", i)
	}
	var mu sync.Mutex
	var wrong []string
	got := map[string]bool{}
	st, err := RunBatch(context.Background(), strings.NewReader(lines.String()), BatchOptions{
		Servers: []Server{mustServer(t, "tcp://"+addr)}, Concurrency: 64, Opts: Options{Timeout: 10 * time.Second, Retries: 2},
		Emit: func(r *Result) {
			mu.Lock()
			defer mu.Unlock()
			got[r.Question.Name] = true
			if !r.OK || len(r.Answer) != 1 || r.Answer[0].Data != addrFor(r.Question.Name) || r.Answer[0].Name != r.Question.Name {
				wrong = append(wrong, fmt.Sprintf("%s: ok=%v %s %+v", r.Question.Name, r.OK, r.Error, r.Answer))
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Fatalf("%d wrong results, first %s", len(wrong), wrong[0])
	}
	if st.Sent != n || st.NoError != n || len(got) != n {
		t.Fatalf("stats %+v, %d names", st, len(got))
	}
	// Shared connections: far fewer than one per query, more than one
	// because the server closes each after 70 answers; and queries were
	// really in flight together.
	if c := srv.conns.Load(); c < n/70 || c > n/10 {
		t.Errorf("%d connections for %d queries", c, n)
	}
	if srv.maxInFlight.Load() < 2 {
		t.Errorf("at most %d queries in flight on a connection", srv.maxInFlight.Load())
	}
}

// A shared connection whose server never answers ends every query at its
// deadline, as timeouts, and the batch ends.
func TestPipelinedSilent(t *testing.T) {
	addr := probetest.ServeTCP(t, probetest.Silent)
	st, err := RunBatch(context.Background(), strings.NewReader(strings.Repeat("x.example\n", 20)), BatchOptions{
		Servers: []Server{mustServer(t, "tcp://"+addr)}, Concurrency: 10, Opts: Options{Timeout: 300 * time.Millisecond},
	})
	if err != nil || st.Sent != 20 || st.Timeouts != 20 {
		t.Fatalf("err %v stats %+v", err, st)
	}
}
