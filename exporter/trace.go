package exporter

import (
	"context"
	"strconv"
	"time"

	"github.com/nettool/nettool/probe/trace"
)

const (
	helpTraceHops    = "Hops to the destination (the TTL it answered at), or the hops probed when it was not reached"
	helpTraceReached = "Whether the destination answered"
	helpHopRTT       = "Average round-trip time of a hop's answers"
	helpHopLoss      = "Share of a hop's probes that got no answer (0 to 1)"
)

// ProbeTrace finds the path with trace.Run, the engine `nettool trace`
// runs: hop count, destination reached, and per hop its loss and RTT as
// series labelled with the hop's TTL and the address that answered.
// With method tcp the hop count is the one to a TCP port (blackbox #1463).
func ProbeTrace(ctx context.Context, target string, m *Module, s *Scrape) bool {
	c := &m.Trace
	s.Reg.Set("probe_trace_destination_reached", helpTraceReached, 0)
	ip, _, err := chooseProtocol(ctx, s, target, c.IPProtocol, *c.IPProtocolFallback, c.DNSServer)
	if err != nil {
		s.Log.Error("Error resolving address", "err", err)
		return false
	}
	method := trace.ICMP
	if c.Method != "" {
		method, _ = trace.ParseMethod(c.Method)
	}
	queries := c.Queries
	if queries == 0 {
		queries = 3
	}
	// Every probe must have its answer (or be given up) before the
	// scrape's deadline: the wait is what is left, capped at 2 s.
	wait := min(remaining(ctx, 5*time.Second)*9/10, 2*time.Second)
	o := trace.Options{Method: method, Port: c.Port, MaxTTL: c.MaxHops, Queries: queries, Wait: wait}
	s.Reg.Set("probe_trace_method_info", "How the path was traced", 1, Label{"method", string(method)})
	res, err := trace.Run(ctx, ip, o)
	if err != nil {
		s.Log.Error("Error starting the trace", "err", err)
		return false
	}
	for _, h := range res.Hops {
		addr := ""
		if len(h.Addrs) > 0 {
			addr = h.Addrs[0].Addr.String()
		}
		l := []Label{{"hop", strconv.Itoa(h.TTL)}, {"address", addr}}
		if h.Sent > 0 {
			s.Reg.Set("probe_trace_hop_loss_ratio", helpHopLoss, h.Loss/100, l...)
		}
		if h.Received > 0 {
			s.Reg.Set("probe_trace_hop_rtt_seconds", helpHopRTT, h.Avg.Seconds(), l...)
		}
		s.Log.Debug("Hop", "ttl", h.TTL, "address", addr, "sent", h.Sent, "received", h.Received, "avg", h.Avg)
	}
	hops := len(res.Hops)
	if res.Reached {
		hops = res.DestTTL
		s.Reg.Set("probe_trace_destination_reached", helpTraceReached, 1)
	}
	s.Reg.Set("probe_trace_hops", helpTraceHops, float64(hops))
	if !res.Reached {
		s.Log.Error("Destination not reached", "hops_probed", len(res.Hops))
	}
	return res.Reached
}
