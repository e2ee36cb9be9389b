package exporter

import (
	"context"
	"time"

	"github.com/nettool/nettool/probe/ping"
)

const (
	helpICMPDuration = "Duration of icmp request by phase"
	helpHopLimit     = "Replied packet hop limit (TTL for ipv4)"
)

// ProbeICMP sends one echo request with ping.Run, the engine `nettool ping`
// runs.
func ProbeICMP(ctx context.Context, target string, m *Module, s *Scrape) bool {
	c := &m.ICMP
	for _, ph := range []string{"resolve", "setup", "rtt"} {
		s.Reg.Set("probe_icmp_duration_seconds", helpICMPDuration, 0, Label{"phase", ph})
	}
	ip, took, err := chooseProtocol(ctx, s, target, c.IPProtocol, *c.IPProtocolFallback, c.DNSServer)
	s.Reg.Add("probe_icmp_duration_seconds", helpICMPDuration, took, Label{"phase", "resolve"})
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	wait := remaining(ctx, 10*time.Second)
	setupStart := time.Now()
	var reply *ping.Event
	size := c.PayloadSize
	if size == 0 {
		size = ping.DefaultSize
	}
	opts := ping.Options{
		Count: 1, Interval: time.Second, Wait: wait, Deadline: wait, Size: size, TTL: c.TTL,
		DontFragment: c.DontFragment,
		OnStart: func([]ping.SocketInfo) {
			s.Reg.Add("probe_icmp_duration_seconds", helpICMPDuration, time.Since(setupStart).Seconds(), Label{"phase", "setup"})
		},
		OnEvent: func(e ping.Event) {
			switch e.Kind {
			case ping.EventReply:
				if reply == nil && !e.Late {
					ev := e
					reply = &ev
				}
			case ping.EventError:
				s.Log.Error("ICMP error", "from", e.From, "err", e.Err)
			}
		},
	}
	s.Log.Debug("Creating socket")
	res, err := ping.Run(ctx, []ping.Target{{Name: target, Addr: ip}}, opts)
	if err != nil {
		s.Log.Error("Error listening to socket", "err", err)
		return false
	}
	if reply == nil || len(res.Hosts) == 0 || res.Hosts[0].Received == 0 {
		s.Log.Error("Timeout reading from socket")
		return false
	}
	s.Reg.Add("probe_icmp_duration_seconds", helpICMPDuration, reply.RTT.Seconds(), Label{"phase", "rtt"})
	if reply.TTL >= 0 {
		s.Reg.Set("probe_icmp_reply_hop_limit", helpHopLimit, float64(reply.TTL))
	}
	s.Log.Debug("Found matching reply packet", "from", reply.From, "ttl", reply.TTL)
	return true
}
