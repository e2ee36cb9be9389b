package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/ping"
)

const pingResolveTimeout = 5 * time.Second

func init() {
	registerCommand(200, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "ping",
			Usage:     "send ICMP echo requests to one or many hosts (iputils ping flags, fping-style multi-host)",
			ArgsUsage: "HOST...",
			Description: "Pings each HOST (a name or an address) and prints a line per reply and per lost probe, then\n" +
				"a summary with loss and min/avg/max/mdev RTT. Several hosts are pinged at once, probes\n" +
				"interleaved, one summary row each. -q prints the summary only. Ctrl-C stops and prints the\n" +
				"summary. Exit 0 when every host answered at least once, 1 when one did not, 2 for bad\n" +
				"input, 3 when no ICMP socket can be opened.",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: ping.DefaultCount, Usage: "probes per host; 0 runs until Ctrl-C or -w"},
				&cli.StringFlag{Name: "interval", Aliases: []string{"i"}, Value: "1", Usage: "seconds between probes to a host (0.2, or 200ms); under 0.002 needs root"},
				&cli.StringFlag{Name: "wait", Aliases: []string{"W"}, Value: "2", Usage: "seconds each probe waits for its reply before it is counted lost; 0 waits for ever (until -w or Ctrl-C)"},
				&cli.StringFlag{Name: "gap", Value: "0", Usage: "least seconds between two probes to different hosts (fping's -i); 0 spreads each round over -i, at most 10ms apart"},
				&cli.StringFlag{Name: "deadline", Aliases: []string{"w"}, Value: "0", Usage: "stop after this many seconds whatever happens; 0: no deadline"},
				&cli.IntFlag{Name: "size", Aliases: []string{"s"}, Value: ping.DefaultSize, Usage: "payload bytes (the reply is 8 more)"},
				&cli.IntFlag{Name: "ttl", Aliases: []string{"t"}, Usage: "IP time to live / hop limit, 1-255 (default: the system's)"},
				&cli.BoolFlag{Name: "ipv4", Aliases: []string{"4"}, Usage: "IPv4 only"},
				&cli.BoolFlag{Name: "ipv6", Aliases: []string{"6"}, Usage: "IPv6 only"},
				&cli.StringFlag{Name: "file", Usage: "read more hosts from FILE, one per line (# comments; - for stdin), as fping -f"},
				&cli.StringFlag{Name: "engine", Value: ping.EngineNative, Usage: "native (one shared socket, kernel timestamps) or pro-bing (one pro-bing Pinger per host, for a second opinion)"},
				&cli.StringFlag{Name: "socket", Value: "auto", Usage: "ICMP socket: auto (unprivileged first, then raw), dgram or raw"},
			},
			Action: func(c *cli.Context) error { return pingAction(e, c) },
		}
	})
}

func pingAction(e *appEnv, c *cli.Context) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	opts, fam, err := pingOptions(c)
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	if f := c.String("file"); f != "" {
		more, err := pingReadHostFile(e, f)
		if err != nil {
			return err
		}
		args = append(args, more...)
	}
	hosts, err := ping.ParseHosts(args, fam)
	if err != nil {
		return err
	}
	// A name that does not resolve is a host that failed (exit 1), said
	// in one line; the others are pinged all the same, as fping does.
	all, errs := ping.ResolveEach(e.ctx, pingResolver, hosts, fam, pingResolveTimeout)
	var targets []ping.Target
	var unresolved []string
	for i, err := range errs {
		switch {
		case err == nil:
			targets = append(targets, all[i])
		case e.ctx.Err() != nil:
			return errInterrupted
		default:
			unresolved = append(unresolved, hosts[i].Name)
			p.Warn("nettool: ping: %s", output.Escape(err.Error()))
		}
	}
	if len(targets) == 0 {
		p.Doc(pingRunJSON{
			Meta:       probe.Meta{Type: "ping", Failure: probe.FailDNSLookup, Error: "no host could be resolved", Start: time.Now().UTC()},
			Unresolved: unresolved,
		})
		return errFailed
	}
	if err := ping.CheckSize(targets, opts.Size); err != nil {
		return err
	}
	view := &pingView{p: p, quiet: p.Quiet(), multi: len(targets) > 1}
	opts.OnEvent = view.event
	opts.OnStart = func([]ping.SocketInfo) {
		// Printed once the sockets are open: a permission error leaves
		// stdout empty.
		if !p.IsText() || view.quiet {
			return
		}
		if len(targets) == 1 {
			p.TextLine("PING %s %d(%d) bytes of data.", pingTargetName(targets[0]), opts.Size, opts.Size+8+pingIPHeader(targets[0]))
		} else {
			p.TextLine("PING %d hosts, %d data bytes, %s", len(targets), opts.Size, pingCountText(opts))
		}
	}
	res, err := ping.Run(e.ctx, targets, opts)
	if err != nil {
		var pe *ping.PermissionError
		if errors.As(err, &pe) {
			return &probe.LocalError{Err: err}
		}
		return err
	}
	view.summary(res, opts, unresolved)
	if len(unresolved) > 0 {
		return errFailed
	}
	for _, h := range res.Hosts {
		if !h.OK() {
			return errFailed
		}
	}
	return nil
}

// pingResolver resolves host names (nil: the system resolver); tests point
// it at a DNS server of their own on loopback.
var pingResolver *net.Resolver

// pingReadHostFile reads hosts, one per line, at most ping.MaxHosts.
func pingReadHostFile(e *appEnv, name string) ([]string, error) {
	r := e.stdinReader()
	if name != "-" {
		f, err := openInput(e.ctx, name)
		if err != nil {
			if e.ctx.Err() != nil {
				return nil, errInterrupted
			}
			return nil, probe.Usagef("--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	var hosts []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(line) {
			if len(hosts) == ping.MaxHosts {
				return nil, probe.Usagef("--file: too many hosts (at most %d)", ping.MaxHosts)
			}
			hosts = append(hosts, f)
		}
	}
	if err := sc.Err(); err != nil {
		if e.ctx.Err() != nil {
			return nil, errInterrupted
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, probe.Usagef("--file: %s: line longer than 4096 bytes", output.Escape(name))
		}
		return nil, probe.Usagef("--file: %v", err)
	}
	return hosts, nil
}

// pingOptions reads the flags.
func pingOptions(c *cli.Context) (ping.Options, ping.Family, error) {
	var o ping.Options
	var err error
	o.Count = c.Int("count")
	if o.Interval, err = pingSecondsFlag(c, "interval"); err != nil {
		return o, 0, err
	}
	if o.Wait, err = pingSecondsFlag(c, "wait"); err != nil {
		return o, 0, err
	}
	if o.Deadline, err = pingSecondsFlag(c, "deadline"); err != nil {
		return o, 0, err
	}
	if o.Gap, err = pingSecondsFlag(c, "gap"); err != nil {
		return o, 0, err
	}
	o.Size = c.Int("size")
	o.TTL = c.Int("ttl")
	if c.IsSet("ttl") && (o.TTL < 1 || o.TTL > 255) {
		return o, 0, probe.Usagef("bad TTL %d (want 1-255)", o.TTL)
	}
	if o.Socket, err = ping.ParseSocketMode(c.String("socket")); err != nil {
		return o, 0, err
	}
	o.Engine = c.String("engine")
	fam := ping.FamilyAny
	switch {
	case c.Bool("ipv4") && c.Bool("ipv6"):
		return o, 0, probe.Usagef("-4 and -6 cannot be used together")
	case c.Bool("ipv4"):
		fam = ping.FamilyV4
	case c.Bool("ipv6"):
		fam = ping.FamilyV6
	}
	if err := o.Validate(os.Geteuid() == 0); err != nil {
		return o, 0, err
	}
	return o, fam, nil
}

func pingSecondsFlag(c *cli.Context, name string) (time.Duration, error) {
	d, err := ping.ParseSeconds(c.String(name))
	if err != nil {
		return 0, probe.Usagef("--%s: %v", name, err)
	}
	return d, nil
}

func pingIPHeader(t ping.Target) int {
	if t.Addr.Is4() {
		return 20
	}
	return 40
}

func pingCountText(o ping.Options) string {
	if o.Count == 0 {
		return fmt.Sprintf("every %v until stopped", o.Interval)
	}
	return fmt.Sprintf("%s each, every %v", probe.Count(o.Count, "probe", "probes"), o.Interval)
}

// pingTargetName shows a target as "name (addr)" or "addr", escaped.
func pingTargetName(t ping.Target) string { return output.Escape(t.String()) }

// pingView turns the engine's events and result into text or JSON.
type pingView struct {
	p     *output.Printer
	quiet bool
	multi bool
}

// JSON shapes. Keys are snake_case, durations *_ms, times RFC 3339.

type pingReplyJSON struct {
	Type   string    `json:"type"` // ping_reply
	Target string    `json:"target"`
	Addr   string    `json:"addr"`
	From   string    `json:"from"`
	Seq    int       `json:"seq"`
	TTL    *int      `json:"ttl"`
	Bytes  int       `json:"bytes"`
	RTTMS  float64   `json:"rtt_ms"`
	Dup    bool      `json:"dup"`
	Late   bool      `json:"late"`
	Time   time.Time `json:"time"`
}

type pingLostJSON struct {
	Type     string    `json:"type"` // ping_lost
	Target   string    `json:"target"`
	Addr     string    `json:"addr"`
	Seq      int       `json:"seq"`
	WaitedMS float64   `json:"waited_ms"`
	Time     time.Time `json:"time"`
}

type pingErrorJSON struct {
	Type   string    `json:"type"` // ping_error
	Target string    `json:"target"`
	Addr   string    `json:"addr"`
	Seq    int       `json:"seq"`
	From   string    `json:"from,omitempty"`
	Error  string    `json:"error"`
	Time   time.Time `json:"time"`
}

type pingHostJSON struct {
	probe.Meta
	Addr        string   `json:"addr"`
	Socket      string   `json:"socket"`
	ICMPID      int      `json:"icmp_id"`
	Transmitted int      `json:"transmitted"`
	Received    int      `json:"received"`
	Duplicates  int      `json:"duplicates"`
	Late        int      `json:"late"`
	Lost        int      `json:"lost"`
	Errors      int      `json:"errors"`
	InFlight    int      `json:"in_flight"`
	LossPercent *float64 `json:"loss_percent"` // null while no probe's fate is known
	RTTMinMS    *float64 `json:"rtt_min_ms"`
	RTTAvgMS    *float64 `json:"rtt_avg_ms"`
	RTTMaxMS    *float64 `json:"rtt_max_ms"`
	RTTMdevMS   *float64 `json:"rtt_mdev_ms"`
}

type pingSocketJSON struct {
	Family string `json:"family"`
	Kind   string `json:"kind"`
	ICMPID *int   `json:"icmp_id"`
}

type pingOptionsJSON struct {
	Count      int     `json:"count"`
	IntervalMS float64 `json:"interval_ms"`
	WaitMS     float64 `json:"wait_ms"`
	DeadlineMS float64 `json:"deadline_ms"`
	Size       int     `json:"size"`
	TTL        int     `json:"ttl"`
}

type pingRunJSON struct {
	probe.Meta
	HostsTotal      int              `json:"hosts_total"`
	HostsUp         int              `json:"hosts_up"`
	HostsDown       int              `json:"hosts_down"`
	Transmitted     int              `json:"transmitted"`
	Received        int              `json:"received"`
	Interrupted     bool             `json:"interrupted"`
	DeadlineReached bool             `json:"deadline_reached"`
	Sockets         []pingSocketJSON `json:"sockets"`
	Options         pingOptionsJSON  `json:"options"`
	Hosts           []pingHostJSON   `json:"hosts,omitempty"`
	Unresolved      []string         `json:"unresolved,omitempty"` // names that did not resolve (not pinged)
}

func (v *pingView) event(ev ping.Event) {
	if v.quiet {
		return
	}
	name := pingTargetName(ev.Target)
	addr := ev.Target.Addr.String()
	switch ev.Kind {
	case ping.EventReply:
		if v.p.IsText() {
			mark := ""
			switch {
			case ev.Dup:
				mark = " " + v.p.Paint(output.Yellow, "(DUP!)")
			case ev.Late:
				mark = " " + v.p.Paint(output.Yellow, "(late: already counted lost)")
			}
			from := name
			if ev.From.IsValid() && ev.From != ev.Target.Addr {
				from = output.Escape(ev.From.String()) + " (probe to " + name + ")"
			}
			ttl := ""
			if ev.TTL >= 0 {
				ttl = " ttl=" + strconv.Itoa(ev.TTL)
			}
			v.p.TextLine("%d bytes from %s: icmp_seq=%d%s time=%s ms%s", ev.Bytes, from, ev.Seq, ttl, pingMS(ev.RTT), mark)
			return
		}
		j := pingReplyJSON{Type: "ping_reply", Target: ev.Target.Name, Addr: addr, From: ev.From.String(), Seq: ev.Seq,
			Bytes: ev.Bytes, RTTMS: probe.Millis(ev.RTT), Dup: ev.Dup, Late: ev.Late, Time: ev.Time.UTC()}
		if ev.TTL >= 0 {
			ttl := ev.TTL
			j.TTL = &ttl
		}
		v.p.Stream(j)
	case ping.EventLost:
		if v.p.IsText() {
			v.p.TextLine("%s from %s: icmp_seq=%d (waited %v)", v.p.Paint(output.Red, "no reply"), name, ev.Seq, ev.Waited)
			return
		}
		v.p.Stream(pingLostJSON{Type: "ping_lost", Target: ev.Target.Name, Addr: addr, Seq: ev.Seq, WaitedMS: probe.Millis(ev.Waited), Time: ev.Time.UTC()})
	case ping.EventError:
		if v.p.IsText() {
			if ev.From.IsValid() {
				v.p.TextLine("From %s: icmp_seq=%d %s (probe to %s)", output.Escape(ev.From.String()), ev.Seq, v.p.Paint(output.Red, output.Escape(ev.Err)), name)
			} else {
				v.p.TextLine("%s to %s: icmp_seq=%d %s", v.p.Paint(output.Red, "send failed"), name, ev.Seq, output.Escape(ev.Err))
			}
			return
		}
		j := pingErrorJSON{Type: "ping_error", Target: ev.Target.Name, Addr: addr, Seq: ev.Seq, Error: ev.Err, Time: ev.Time.UTC()}
		if ev.From.IsValid() {
			j.From = ev.From.String()
		}
		v.p.Stream(j)
	}
}

// pingMS formats an RTT like iputils: three decimals in milliseconds.
func pingMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64)
}

// pingLossText is the loss in percent, "-" while no probe's fate is known.
func pingLossText(h ping.HostStats) string {
	f, ok := h.LossPercent()
	if !ok {
		return "-"
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

func pingHostRecord(h ping.HostStats, res *ping.Result) pingHostJSON {
	j := pingHostJSON{
		Meta:        probe.Meta{Type: "ping_host", Target: h.Target.Name, OK: h.OK(), Start: res.Start.UTC(), ElapsedMS: probe.Millis(res.Elapsed)},
		Addr:        h.Target.Addr.String(),
		Socket:      string(h.Socket),
		ICMPID:      int(h.ID),
		Transmitted: h.Sent, Received: h.Received, Duplicates: h.Duplicates, Late: h.Late,
		Lost: h.Lost, Errors: h.Errors, InFlight: h.InFlight,
	}
	if pct, ok := h.LossPercent(); ok {
		pct = float64(int(pct*1000+0.5)) / 1000
		j.LossPercent = &pct
	}
	if !h.OK() {
		j.Failure = probe.FailNoReply
		j.Error = "no reply"
		if h.Sent == 0 {
			j.Error = "no probe sent"
		}
	}
	if h.Received > 0 {
		mn, av, mx, md := probe.Millis(h.Min), probe.Millis(h.Avg), probe.Millis(h.Max), probe.Millis(h.Mdev)
		j.RTTMinMS, j.RTTAvgMS, j.RTTMaxMS, j.RTTMdevMS = &mn, &av, &mx, &md
	}
	return j
}

func (v *pingView) summary(res *ping.Result, o ping.Options, unresolved []string) {
	p := v.p
	run := pingRunJSON{
		Meta:            probe.Meta{Type: "ping", OK: true, Start: res.Start.UTC(), ElapsedMS: probe.Millis(res.Elapsed)},
		HostsTotal:      len(res.Hosts),
		Interrupted:     res.Interrupted,
		DeadlineReached: res.DeadlineReached,
		Options: pingOptionsJSON{Count: o.Count, IntervalMS: probe.Millis(o.Interval), WaitMS: probe.Millis(o.Wait),
			DeadlineMS: probe.Millis(o.Deadline), Size: o.Size, TTL: o.TTL},
		Unresolved: unresolved,
	}
	if len(res.Hosts) == 1 {
		run.Target = res.Hosts[0].Target.Name
	}
	for _, s := range res.Sockets {
		sj := pingSocketJSON{Family: s.Family, Kind: string(s.Kind)}
		if s.Kind == ping.KindDgram {
			id := int(s.ID)
			sj.ICMPID = &id
		}
		run.Sockets = append(run.Sockets, sj)
	}
	for _, h := range res.Hosts {
		run.Transmitted += h.Sent
		run.Received += h.Received
		if h.OK() {
			run.HostsUp++
		} else {
			run.HostsDown++
		}
	}
	if run.HostsDown > 0 {
		run.OK = false
		run.Failure = probe.FailNoReply
		run.Error = fmt.Sprintf("%d of %d hosts did not reply", run.HostsDown, run.HostsTotal)
	} else if len(unresolved) > 0 {
		run.OK = false
		run.Failure = probe.FailDNSLookup
		run.Error = probe.Count(len(unresolved), "name", "names") + " did not resolve"
	}
	switch p.Format() {
	case output.JSONL:
		for _, h := range res.Hosts {
			p.Stream(pingHostRecord(h, res))
		}
		p.Doc(run)
		return
	case output.JSON:
		for _, h := range res.Hosts {
			run.Hosts = append(run.Hosts, pingHostRecord(h, res))
		}
		p.Doc(run)
		return
	}
	elapsed := res.Elapsed.Round(time.Millisecond).Milliseconds()
	if !v.multi {
		h := res.Hosts[0]
		p.TextLine("")
		p.TextLine("--- %s ping statistics ---", output.Escape(h.Target.Name))
		line := fmt.Sprintf("%d packets transmitted, %d received", h.Sent, h.Received)
		if h.Duplicates > 0 {
			line += fmt.Sprintf(", +%d duplicates", h.Duplicates)
		}
		if h.Errors > 0 {
			line += fmt.Sprintf(", +%d errors", h.Errors)
		}
		line += fmt.Sprintf(", %s packet loss", pingLossText(h))
		if h.Late > 0 {
			line += fmt.Sprintf(", %d late", h.Late)
		}
		if h.InFlight > 0 {
			line += fmt.Sprintf(", %d in flight", h.InFlight)
		}
		line += fmt.Sprintf(", time %dms", elapsed)
		p.TextLine("%s", line)
		if h.Received > 0 {
			p.TextLine("rtt min/avg/max/mdev = %s/%s/%s/%s ms", pingMS(h.Min), pingMS(h.Avg), pingMS(h.Max), pingMS(h.Mdev))
		}
		return
	}
	p.TextLine("")
	p.TextLine("--- ping statistics ---")
	rows := [][]string{{"HOST", "SENT", "RECV", "LOSS", "MIN", "AVG", "MAX", "MDEV"}}
	for _, h := range res.Hosts {
		row := []string{pingTargetName(h.Target), strconv.Itoa(h.Sent), pingRecvText(h), pingLossText(h)}
		if h.Received > 0 {
			row = append(row, pingMS(h.Min), pingMS(h.Avg), pingMS(h.Max), pingMS(h.Mdev))
		} else {
			row = append(row, "-", "-", "-", "-")
		}
		rows = append(rows, row)
	}
	p.Table(rows)
	p.TextLine("%d hosts, %d up, %d down, %d packets transmitted, %d received, time %dms (rtt in ms)",
		run.HostsTotal, run.HostsUp, run.HostsDown, run.Transmitted, run.Received, elapsed)
}

func pingRecvText(h ping.HostStats) string {
	s := strconv.Itoa(h.Received)
	if h.Duplicates > 0 {
		s += fmt.Sprintf("+%ddup", h.Duplicates)
	}
	return s
}
