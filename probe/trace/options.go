// Package trace finds the path to a host hop by hop, as traceroute, mtr and
// tracepath do: probes with growing TTLs (ICMP echo, UDP or TCP connect),
// every TTL in flight at once (bounded), one or many rounds with per-hop
// statistics, constant flow identifiers (paris-style) or several flows to
// see every path of an ECMP fork, and path MTU discovery. It never prints.
//
// ICMP probes go out on probe/ping's sockets (an unprivileged ICMP datagram
// socket when net.ipv4.ping_group_range allows it, else a raw one); UDP and
// TCP probes need no privilege at all: the kernel hands the ICMP errors they
// cause to the socket's error queue (IP_RECVERR).
package trace

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/ping"
)

// Method is what a probe is.
type Method string

const (
	ICMP Method = "icmp" // ICMP echo requests (default)
	UDP  Method = "udp"  // UDP datagrams to a high port
	TCP  Method = "tcp"  // TCP connection attempts (SYN), connect-based
)

// ParseMethod reads "icmp", "udp" or "tcp".
func ParseMethod(s string) (Method, error) {
	switch m := Method(strings.ToLower(s)); m {
	case ICMP, UDP, TCP:
		return m, nil
	case "":
		return ICMP, nil
	}
	return "", probe.Usagef("bad method %q (want icmp, udp or tcp)", s)
}

// Defaults and limits.
const (
	DefaultMaxTTL   = 30
	DefaultQueries  = 3
	DefaultWait     = 3 * time.Second
	DefaultInFlight = 16
	DefaultUDPPort  = 33434
	DefaultTCPPort  = 80
	MaxFlows        = 64
	MaxQueries      = 10
	MaxInFlight     = 1024
	MaxRounds       = 1 << 20
	// MinGrace is the least a probe is waited for once a probe further
	// along the same round has answered.
	MinGrace = 100 * time.Millisecond
	// NearFactor: a probe is given up NearFactor times the RTT of a later
	// hop's answer after that answer (traceroute's NEAR).
	NearFactor = 10
)

// Options configure one trace.
type Options struct {
	Method   Method
	Port     int // UDP/TCP destination port; 0: the method's default
	FirstTTL int // 0: 1
	MaxTTL   int // 0: DefaultMaxTTL
	Queries  int // probes per hop and round; 0: DefaultQueries
	// Wait is the longest a probe waits for its answer; 0: DefaultWait. A
	// probe whose hop stays silent while hops after it answered is given
	// up sooner (NearFactor, MinGrace).
	Wait     time.Duration
	Rounds   int           // 0 or 1: one round (traceroute); more: mtr-style report
	Interval time.Duration // between the starts of two rounds
	InFlight int           // probes in flight at once; 0: DefaultInFlight
	Flows    int           // flows probed per hop (ECMP); 0 or 1: one constant flow (paris)
	Size     int           // total packet size in bytes (IP header included), 0: the method's default
	PMTU     bool          // path MTU discovery: don't fragment, shrink on "too big"
	Socket   ping.SocketMode
	Source   netip.Addr // source address to bind (zero: the kernel picks)

	// OnProbe gets each probe's fate as soon as it is known, one call at
	// a time. It must not block for long.
	OnProbe func(Probe)
	// OnRound is called after each round's probes are all resolved (or
	// the run ended), with a snapshot of the hops so far: for live tables.
	OnRound func(Result)
}

func (o *Options) withDefaults() {
	if o.Method == "" {
		o.Method = ICMP
	}
	if o.Port == 0 {
		switch o.Method {
		case UDP:
			o.Port = DefaultUDPPort
		case TCP:
			o.Port = DefaultTCPPort
		}
	}
	if o.FirstTTL == 0 {
		o.FirstTTL = 1
	}
	if o.MaxTTL == 0 {
		o.MaxTTL = DefaultMaxTTL
	}
	if o.Queries == 0 {
		o.Queries = DefaultQueries
	}
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
	if o.InFlight == 0 {
		o.InFlight = DefaultInFlight
	}
	if o.Flows == 0 {
		o.Flows = 1
	}
}

// Validate checks the options (after defaults are applied to zero values).
func (o Options) Validate() error {
	o.withDefaults()
	switch {
	case o.Method != ICMP && o.Method != UDP && o.Method != TCP:
		return probe.Usagef("bad method %q (want icmp, udp or tcp)", o.Method)
	case o.Port < 0 || o.Port > 65535 || (o.Method == TCP && o.Port == 0):
		return probe.Usagef("bad port %d (want 1-65535)", o.Port)
	case o.FirstTTL < 1 || o.FirstTTL > 255:
		return probe.Usagef("bad first TTL %d (want 1-255)", o.FirstTTL)
	case o.MaxTTL < 1 || o.MaxTTL > 255:
		return probe.Usagef("bad max TTL %d (want 1-255)", o.MaxTTL)
	case o.FirstTTL > o.MaxTTL:
		return probe.Usagef("first TTL %d is beyond max TTL %d", o.FirstTTL, o.MaxTTL)
	case o.Queries < 1 || o.Queries > MaxQueries:
		return probe.Usagef("bad probes per hop %d (want 1-%d)", o.Queries, MaxQueries)
	case o.Wait < 0:
		return probe.Usagef("bad wait %v", o.Wait)
	case o.Rounds < 1 || o.Rounds > MaxRounds:
		return probe.Usagef("bad count %d (want 1-%d)", o.Rounds, MaxRounds)
	case o.Interval < 0:
		return probe.Usagef("bad interval %v", o.Interval)
	case o.InFlight < 1 || o.InFlight > MaxInFlight:
		return probe.Usagef("bad probes in flight %d (want 1-%d)", o.InFlight, MaxInFlight)
	case o.Flows < 1 || o.Flows > MaxFlows:
		return probe.Usagef("bad flow count %d (want 1-%d)", o.Flows, MaxFlows)
	case o.Size < 0 || o.Size > 65000:
		return probe.Usagef("bad packet size %d (want 0-65000)", o.Size)
	}
	return nil
}

// Probe is the fate of one probe.
type Probe struct {
	TTL   int
	Round int // from 0
	Query int // from 0, within the round
	Flow  int // from 0
	Lost  bool
	// When answered:
	From      netip.Addr
	RTT       time.Duration
	Reached   bool   // the destination answered
	ICMPType  int    // of the answer; -1 for a TCP connect answer
	ICMPCode  int    // of the answer
	Mark      string // "!H", "!N", "!P", "!X", ... for an unreachable; "" otherwise
	QuotedTTL int    // the TTL left in our packet as the router quoted it; -1: unknown
	IPID      int    // the IP ID of our packet as quoted; -1: unknown
	MTU       int    // the next-hop MTU of a "too big" answer; 0: none
	MPLS      []MPLSLabel
	Time      time.Time
}

// MPLSLabel is one entry of an MPLS label stack (RFC 4950).
type MPLSLabel struct {
	Label  uint32 `json:"label"`
	TC     uint8  `json:"tc"`
	Bottom bool   `json:"bottom"`
	TTL    uint8  `json:"ttl"`
}

// AddrStat is one address seen at a hop.
type AddrStat struct {
	Addr    netip.Addr
	Replies int
	Share   float64 // Replies over the hop's replies, 0-1
}

// Hop is one TTL's statistics.
type Hop struct {
	TTL        int
	Sent       int // probes whose fate is known
	Received   int
	Loss       float64       // percent of Sent
	Last       time.Duration // RTT of the latest answer
	Avg        time.Duration
	Best       time.Duration
	Worst      time.Duration
	StdDev     time.Duration // population standard deviation
	Jitter     time.Duration // mean absolute difference of consecutive RTTs (mtr's Javg)
	JitterLast time.Duration
	Addrs      []AddrStat     // by replies, most first
	Marks      map[string]int // unreachable marks seen and how often
	Reached    bool           // the destination answered at this TTL
	// From the latest answer:
	ICMPType, ICMPCode int
	QuotedTTL, IPID    int
	MPLS               []MPLSLabel
	MTU                int
	// Probes of the first round, in the order sent (traceroute's columns).
	Probes []Probe
}

// Result is one trace.
type Result struct {
	Target      netip.Addr
	Method      Method
	Port        int
	Socket      ping.SocketKind // for ICMP: dgram or raw
	Size        int             // packet size sent (bytes, IP header included)
	Hops        []Hop           // from FirstTTL, up to the destination (or MaxTTL)
	Reached     bool            // the destination answered
	DestTTL     int             // the TTL at which it answered; 0: not reached
	Rounds      int             // rounds completed
	PMTU        int             // the path MTU found (PMTU option); 0: unknown
	Ignored     int             // ICMP messages that matched no probe of ours
	Start       time.Time
	Elapsed     time.Duration
	Interrupted bool
}

// String names a method for people.
func (m Method) String() string { return string(m) }

func (o Options) describe() string {
	return fmt.Sprintf("%s ttl %d-%d q=%d", o.Method, o.FirstTTL, o.MaxTTL, o.Queries)
}
