package tcp

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nettool/nettool/probe"
)

// ScanHost is one address to scan, with the name it came from.
type ScanHost struct {
	Name string // the target as the user wrote it
	Addr netip.Addr
}

// ScanOptions configure a port scan.
type ScanOptions struct {
	Hosts       []ScanHost
	Ports       probe.PortList
	Concurrency int           // connections in flight; 0: DefaultConcurrency()
	Timeout     time.Duration // per connect attempt
	Retries     int           // extra attempts for a port that timed out
	// LocalRetryFor bounds how long a port hit by local errors (EMFILE,
	// EADDRNOTAVAIL) keeps being retried before it is reported as an error.
	LocalRetryFor time.Duration
	Conn          Options // what to do on open ports (banner, send, TLS); zero: nothing
	Progress      *Progress
}

// Progress counts a running scan; the CLI reads it for its progress line.
type Progress struct {
	Done, Open, Total atomic.Int64
}

// PortResult is one scanned port.
type PortResult struct {
	Type      string   `json:"type"` // "tcp_port"
	Host      string   `json:"host"`
	Address   string   `json:"address"`
	Port      int      `json:"port"`
	State     string   `json:"state"`
	Service   string   `json:"service,omitempty"`
	RTTMS     float64  `json:"rtt_ms"`
	Tries     int      `json:"tries"`
	Failure   string   `json:"failure,omitempty"`
	Error     string   `json:"error,omitempty"`
	Banner    *Data    `json:"banner,omitempty"`
	Sent      *Data    `json:"sent,omitempty"`
	Reply     *Data    `json:"reply,omitempty"`
	TLS       *TLSInfo `json:"tls,omitempty"`
	hostIndex int
}

// HostIndex is the position of the result's host in ScanOptions.Hosts.
func (r *PortResult) HostIndex() int { return r.hostIndex }

// ScanSummary counts one host's results.
type ScanSummary struct {
	Type      string    `json:"type"` // "tcp_scan_summary"
	Host      string    `json:"host"`
	Address   string    `json:"address"`
	Ports     int       `json:"ports"`
	Scanned   int       `json:"scanned"`
	Open      int       `json:"open"`
	Closed    int       `json:"closed"`
	Filtered  int       `json:"filtered"`
	Errors    int       `json:"errors"`
	OpenPorts []int     `json:"open_ports"`
	Start     time.Time `json:"start"`
	ElapsedMS float64   `json:"elapsed_ms"`
}

// errSelfConnect is a connection from a port to itself: nobody is
// listening. Retried with a new source port; reported closed if it persists.
var errSelfConnect = errors.New("connected to itself: nothing listens on this port")

// DefaultConcurrency sizes a scan from the file limit (raised to the hard
// limit first): a tenth of the descriptors are kept for everything else,
// and at most 4096 connections are in flight.
func DefaultConcurrency() int {
	lim, err := RaiseFileLimit()
	if err != nil || lim <= 0 {
		lim = 1024
	}
	c := lim - lim/10 - 16
	if c > 4096 {
		c = 4096
	}
	if c < 1 {
		c = 1
	}
	return c
}

// Scan connects to every port of every host with a bounded pool and calls
// emit (serialised, never concurrently) for each result as it comes. It
// returns a summary per host. When ctx is cancelled it stops starting new
// connections, waits for those in flight and returns what was measured with
// ctx's error.
func Scan(ctx context.Context, o ScanOptions, emit func(PortResult)) ([]ScanSummary, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency()
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.LocalRetryFor <= 0 {
		o.LocalRetryFor = 30 * time.Second
	}
	ports := o.Ports.Ports()
	total := len(o.Hosts) * len(ports)
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	o.Progress.Total.Store(int64(total))
	start := time.Now()
	sums := make([]ScanSummary, len(o.Hosts))
	for i, h := range o.Hosts {
		sums[i] = ScanSummary{Type: "tcp_scan_summary", Host: h.Name, Address: h.Addr.String(), Ports: len(ports), OpenPorts: []int{}, Start: start}
	}
	workers := min(o.Concurrency, total)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	keep := o.Conn.Banner || o.Conn.Send != nil || o.Conn.TLS != nil
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				hi, port := i/len(ports), ports[i%len(ports)]
				r, ok := scanPort(ctx, o, o.Hosts[hi], port, keep)
				if !ok {
					return // cancelled mid-port: not measured
				}
				r.hostIndex = hi
				o.Progress.Done.Add(1)
				if r.State == StateOpen {
					o.Progress.Open.Add(1)
				}
				mu.Lock()
				s := &sums[hi]
				s.Scanned++
				switch r.State {
				case StateOpen:
					s.Open++
					s.OpenPorts = append(s.OpenPorts, port)
				case StateClosed:
					s.Closed++
				case StateFiltered:
					s.Filtered++
				default:
					s.Errors++
				}
				s.ElapsedMS = probe.Millis(time.Since(start))
				emit(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i := range sums {
		slices.Sort(sums[i].OpenPorts)
		sums[i].ElapsedMS = probe.Millis(time.Since(start))
	}
	return sums, ctx.Err()
}

// scanPort probes one port, retrying local errors with backoff and timeouts
// o.Retries times. ok is false when ctx ended before a state was known.
func scanPort(ctx context.Context, o ScanOptions, h ScanHost, port int, keep bool) (PortResult, bool) {
	ap := netip.AddrPortFrom(h.Addr, uint16(port))
	r := PortResult{Type: "tcp_port", Host: h.Name, Address: h.Addr.String(), Port: port}
	backoff := 5 * time.Millisecond
	var localSince time.Time
	timeouts := 0
	confirmed := false
	for {
		r.Tries++
		conn, local, rtt, err := scanConnect(ctx, ap, o.Conn.Source, o.Timeout, keep)
		r.RTTMS = probe.Millis(rtt)
		if ctx.Err() != nil && err != nil {
			return r, false
		}
		if err == nil && !confirmed && local.Addr() == ap.Addr().Unmap() {
			// A connection from this machine to itself. With many sockets
			// in flight, two of ours can pick each other's port as source
			// and destination and "connect" by simultaneous open with
			// nobody listening. Such a phantom does not repeat: confirm
			// with a second connection.
			confirmed = true
			if conn != nil {
				conn.Close()
			}
			continue
		}
		if errors.Is(err, errSelfConnect) && r.Tries < 10 {
			continue // nobody listens there; try again from another source port
		}
		state := StateOf(err)
		if state == StateError && IsLocal(err) {
			if localSince.IsZero() {
				localSince = time.Now()
			}
			if time.Since(localSince) < o.LocalRetryFor {
				t := time.NewTimer(backoff)
				select {
				case <-ctx.Done():
					t.Stop()
					return r, false
				case <-t.C:
				}
				backoff = min(backoff*2, 250*time.Millisecond)
				continue
			}
		}
		if state == StateFiltered && timeouts < o.Retries {
			timeouts++
			continue
		}
		r.State = state
		if err != nil {
			r.Failure = probe.Classify(err)
			r.Error = err.Error()
		}
		r.Service = ServiceName(port)
		if state == StateOpen {
			if conn != nil {
				var at Attempt
				co := o.Conn
				co.Host = h.Name
				if cerr := Converse(ctx, conn, ap, &at, co); cerr != nil {
					r.Failure = probe.Classify(cerr)
					r.Error = cerr.Error()
				}
				conn.Close()
				r.Banner, r.Sent, r.Reply, r.TLS = at.Banner, at.Sent, at.Reply, at.TLS
			}
		}
		return r, true
	}
}
