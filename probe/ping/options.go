// Package ping sends ICMP echo requests to one or many hosts and reports each
// reply, each lost probe and per-host statistics. It never prints.
//
// One socket per address family carries the probes of every target (an
// unprivileged ICMP datagram socket when net.ipv4.ping_group_range allows it,
// else a raw socket), probes are interleaved fping-style, receive times come
// from the kernel (SO_TIMESTAMPNS), each probe has its own reply deadline,
// and statistics are streamed (Welford), so memory stays flat on long runs.
package ping

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// SocketMode picks the kind of ICMP socket.
type SocketMode int

const (
	SocketAuto  SocketMode = iota // unprivileged datagram socket, then raw
	SocketDgram                   // only the unprivileged datagram socket
	SocketRaw                     // only a raw socket (root or CAP_NET_RAW)
)

// ParseSocketMode reads "auto", "dgram" or "raw".
func ParseSocketMode(s string) (SocketMode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return SocketAuto, nil
	case "dgram", "unprivileged":
		return SocketDgram, nil
	case "raw", "privileged":
		return SocketRaw, nil
	}
	return SocketAuto, probe.Usagef("bad socket kind %q (want auto, dgram or raw)", s)
}

// SocketKind is the kind of socket a run used.
type SocketKind string

const (
	KindDgram SocketKind = "dgram" // SOCK_DGRAM/IPPROTO_ICMP, the kernel picks the ICMP ID
	KindRaw   SocketKind = "raw"   // SOCK_RAW, nettool picks one ICMP ID per host
)

// Engines.
const (
	EngineNative  = "native"   // nettool's own: one shared socket per family, kernel timestamps
	EngineProBing = "pro-bing" // github.com/prometheus-community/pro-bing, one Pinger per host
)

// Limits.
const (
	MaxHosts         = 65536 // one ICMP ID per host on a raw socket
	MinUserInterval  = 2 * time.Millisecond
	DefaultCount     = 4
	DefaultInterval  = time.Second
	DefaultWait      = 2 * time.Second
	DefaultSize      = defaultPayloadSize
	maxWindow        = 32768   // probes remembered per host (duplicates, late replies)
	defaultWindowCap = 1024    // when no reply deadline bounds the window
	maxSlotsTotal    = 1 << 21 // probes remembered, all hosts together (24 bytes each)
)

// Options configure a run.
type Options struct {
	Count    int           // probes per host; 0 runs until the context ends or Deadline
	Interval time.Duration // between two probes to the same host
	Wait     time.Duration // how long each probe waits for its reply; 0 waits until the run ends
	Deadline time.Duration // the whole run ends after this; 0: no deadline
	Size     int           // payload bytes (ICMP data after the 8-byte header)
	TTL      int           // IP TTL / hop limit; 0: the system's default
	// DontFragment sets the DF bit (IPv4) and forbids fragmentation
	// (IPv6): a payload over the path MTU is an error, not fragments.
	DontFragment bool
	Socket       SocketMode
	Engine       string // EngineNative (""), or EngineProBing for a second opinion
	// Gap is the least time between two probes to different hosts; 0 picks
	// min(Interval/hosts, 10ms), so a round is spread over the interval.
	Gap time.Duration
	// OnStart is called once the sockets are open, before the first probe.
	OnStart func(sockets []SocketInfo)
	// OnEvent receives each reply, lost probe and error as it happens, one at
	// a time, in order. It must not block for long.
	OnEvent func(Event)
}

// Validate checks the options; privileged says whether intervals under 2 ms
// are allowed (iputils allows them to root only).
func (o *Options) Validate(privileged bool) error {
	switch {
	case o.Count < 0:
		return probe.Usagef("bad count %d (want 0 for no limit, or more)", o.Count)
	case o.Interval <= 0:
		return probe.Usagef("bad interval %v (want more than 0)", o.Interval)
	case o.Interval < MinUserInterval && !privileged:
		return probe.Usagef("interval %v is too short: under %v needs root", o.Interval, MinUserInterval)
	case o.Wait < 0:
		return probe.Usagef("bad reply wait %v", o.Wait)
	case o.Deadline < 0:
		return probe.Usagef("bad deadline %v", o.Deadline)
	case o.Size < 0 || o.Size > maxPayloadV6:
		return probe.Usagef("bad packet size %d (want 0-%d)", o.Size, maxPayloadV4)
	case o.TTL < 0 || o.TTL > 255:
		return probe.Usagef("bad TTL %d (want 1-255)", o.TTL)
	case o.Gap < 0:
		return probe.Usagef("bad gap %v", o.Gap)
	case o.Engine != "" && o.Engine != EngineNative && o.Engine != EngineProBing:
		return probe.Usagef("bad engine %q (want native or pro-bing)", o.Engine)
	}
	return nil
}

// Target is one host to ping.
type Target struct {
	Name string     // as given: a name or an address literal
	Addr netip.Addr // the address pinged
}

// String shows "name (addr)" for names and the address alone for literals.
func (t Target) String() string {
	a := t.Addr.String()
	if t.Name == "" || t.Name == a {
		return a
	}
	return fmt.Sprintf("%s (%s)", t.Name, a)
}

// EventKind names an event.
type EventKind string

const (
	EventReply EventKind = "reply" // an echo reply (maybe a duplicate or a late one)
	EventLost  EventKind = "lost"  // no reply within the wait
	EventError EventKind = "error" // an ICMP error came back, or the send failed
)

// Event is one thing that happened to one probe.
type Event struct {
	Kind   EventKind
	Host   int // index into the targets
	Target Target
	Seq    int        // 1 for the first probe to this host
	From   netip.Addr // who answered (replies, ICMP errors)
	TTL    int        // of the reply; -1 when unknown
	Bytes  int        // ICMP message length of the reply
	RTT    time.Duration
	Dup    bool          // a second reply to the same probe
	Late   bool          // the reply came after the probe was counted lost
	Waited time.Duration // lost: how long nettool waited
	Err    string        // error: what came back or what failed
	Time   time.Time
}

// HostStats sums up one host.
type HostStats struct {
	Target     Target
	Socket     SocketKind
	ID         uint16 // the ICMP ID of its probes (on a datagram socket the kernel's)
	Sent       int    // probes sent
	Received   int    // probes answered in time (duplicates not counted)
	Duplicates int
	Late       int // replies that came after the probe was counted lost
	Lost       int // probes with no reply within the wait (including ICMP errors and send failures)
	Errors     int // of the lost: ICMP errors and send failures
	InFlight   int // probes still waiting for their reply when the run ended
	Min, Avg   time.Duration
	Max, Mdev  time.Duration // mdev: population standard deviation, as iputils prints it
}

// LossPercent is lost probes over probes whose fate is known; probes still
// in flight when the run ended are not counted as lost. ok is false when no
// probe's fate is known yet (nothing sent, or everything in flight).
func (h HostStats) LossPercent() (pct float64, ok bool) {
	done := h.Received + h.Lost
	if done == 0 {
		return 0, false
	}
	return 100 * float64(h.Lost) / float64(done), true
}

// OK reports whether the host answered at least once.
func (h HostStats) OK() bool { return h.Received > 0 }

// SocketInfo says which socket a family used.
type SocketInfo struct {
	Family string // "ipv4" or "ipv6"
	Kind   SocketKind
	ID     uint16 // the kernel's ICMP ID on a datagram socket; 0 on raw
}

// Result is a whole run.
type Result struct {
	Hosts           []HostStats
	Sockets         []SocketInfo
	Start           time.Time
	Elapsed         time.Duration
	Interrupted     bool // the context ended the run (Ctrl-C)
	DeadlineReached bool // Options.Deadline ended the run
}
