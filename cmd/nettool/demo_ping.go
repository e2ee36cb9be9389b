package main

import (
	"context"
	"net/netip"
	"time"

	"github.com/nettool/nettool/probe/ping"
)

func init() { registerDemo(200, "ping: ICMP echo and round-trip time", pingDemoStep) }

// pingDemoStep pings 127.0.0.1 a few times. Where no ICMP socket can be
// opened (no root, ping_group_range closed) it says so and goes on.
func pingDemoStep(ctx context.Context, d *demo) error {
	d.say("ping sends ICMP echo requests; the host answers each with an echo reply.")
	d.say("The round-trip time (RTT) is how long a reply takes to come back: on loopback a few")
	d.say("microseconds, across the internet tens of milliseconds. Lost replies and the spread")
	d.say("of RTTs (mdev) tell you how healthy the path is.")
	// Check first that an ICMP socket can be opened, quietly.
	_, err := ping.Run(ctx, []ping.Target{{Name: "127.0.0.1", Addr: netip.MustParseAddr("127.0.0.1")}},
		ping.Options{Count: 1, Interval: time.Second, Wait: 2 * time.Second})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.say("Skipped here: %v", err)
		return nil
	}
	return d.expect(ctx, 0, "ping", "-c", "3", "-i", "0.2", "127.0.0.1")
}
