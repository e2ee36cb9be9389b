package exporter

import (
	"context"
	"time"

	"github.com/nettool/nettool/probe/ping"
)

// ProbeTrace reports the path length to the target. Until probe/trace is
// on main it uses TTL arithmetic on one echo reply, as people read
// probe_icmp_reply_hop_limit: the reply's TTL is subtracted from the
// smallest usual initial TTL (64, 128, 255) that is not below it.
func ProbeTrace(ctx context.Context, target string, m *Module, s *Scrape) bool {
	c := &m.Trace
	s.Reg.Set("probe_trace_destination_reached", "Whether the destination answered", 0)
	ip, _, err := chooseProtocol(ctx, s, target, c.IPProtocol, *c.IPProtocolFallback, c.DNSServer)
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	var reply *ping.Event
	wait := remaining(ctx, 10*time.Second)
	opts := ping.Options{Count: 1, Interval: time.Second, Wait: wait, Deadline: wait,
		OnEvent: func(e ping.Event) {
			if e.Kind == ping.EventReply && reply == nil && !e.Late {
				ev := e
				reply = &ev
			}
		}}
	if _, err := ping.Run(ctx, []ping.Target{{Name: target, Addr: ip}}, opts); err != nil {
		s.Log.Error("Error listening to socket", "err", err)
		return false
	}
	s.Reg.Set("probe_trace_method_info", "How the hop count was found", 1, Label{"method", "ttl_arithmetic"})
	if reply == nil {
		s.Log.Error("No reply from the destination")
		return false
	}
	s.Reg.Set("probe_trace_destination_reached", "Whether the destination answered", 1)
	s.Reg.Set("probe_trace_rtt_seconds", "Round-trip time to the destination", reply.RTT.Seconds())
	if reply.TTL < 0 {
		return true
	}
	initial := 255
	for _, i := range []int{64, 128, 255} {
		if reply.TTL <= i {
			initial = i
			break
		}
	}
	hops := initial - reply.TTL + 1
	s.Reg.Set("probe_trace_hops", "Hops to the destination (1: on the same link or this host)", float64(hops))
	s.Reg.Set("probe_icmp_reply_hop_limit", helpHopLimit, float64(reply.TTL))
	if hops > c.MaxHops {
		s.Log.Error("More hops than max_hops", "hops", hops, "max_hops", c.MaxHops)
		return false
	}
	return true
}
