package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/probe/tcp"
)

const (
	tcpCatConnect = "CONNECT TEST"
	tcpCatScan    = "SCAN"
	tcpCatTalk    = "CONVERSATION"
)

func init() {
	registerCommand(300, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "tcp",
			Usage:     "TCP connect tests (tcping-style) and port scans, with banner, echo and TLS checks",
			ArgsUsage: "HOST:PORT... | HOST|CIDR... -p PORTS",
			Description: "nettool tcp 127.0.0.1:10000          connect 4 times, showing the local port the OS picked\n" +
				"nettool tcp db:5432 --wait 30s       wait until the port opens (scripts)\n" +
				"nettool tcp 127.0.0.1 -p 1-65535     connect scan: open ports with their service\n" +
				"nettool tcp 10.0.0.0/24 -p 22,80,443 scan a block (at most 65536 addresses)\n" +
				"nettool tcp 127.0.0.1:10000 --send 'hello'   the tutorial's echo client\n" +
				"nettool tcp 127.0.0.1:8443 --tls -k  TLS handshake: version, cipher, ALPN, certificate",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 4, Usage: "connect attempts per target (0: until Ctrl-C; 1 with --banner, --send or --tls)", Category: tcpCatConnect},
				&cli.DurationFlag{Name: "interval", Aliases: []string{"i"}, Value: time.Second, Usage: "time between attempts (250ms with --wait)", Category: tcpCatConnect},
				&cli.DurationFlag{Name: "wait", Usage: "retry until the port opens or this much time has passed (wait-for-it)", Category: tcpCatConnect},
				&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "connect timeout per attempt (scans: 1s unless set)", Category: tcpCatConnect},
				&cli.BoolFlag{Name: "ipv4", Aliases: []string{"4"}, Usage: "use IPv4 addresses only", Category: tcpCatConnect},
				&cli.BoolFlag{Name: "ipv6", Aliases: []string{"6"}, Usage: "use IPv6 addresses only", Category: tcpCatConnect},
				&cli.StringFlag{Name: "source", Usage: "local address to connect from", Category: tcpCatConnect},
				&cli.StringFlag{Name: "ports", Aliases: []string{"p"}, Usage: "scan these ports: 22,80,8000-8100, -1024, 60000-, or - for all", Category: tcpCatScan},
				&cli.BoolFlag{Name: "show-closed", Usage: "list closed, filtered and failed ports too, not only open ones", Category: tcpCatScan},
				&cli.IntFlag{Name: "concurrency", Usage: "connections in flight (0: sized from the open-file limit, at most 4096)", Category: tcpCatScan},
				&cli.IntFlag{Name: "retries", Usage: "extra attempts for a port that timed out", Category: tcpCatScan},
				&cli.BoolFlag{Name: "banner", Usage: "read what the server says first (escaped, capped by --max-bytes)", Category: tcpCatTalk},
				&cli.StringFlag{Name: "send", Usage: "write DATA (escapes \\n \\r \\t \\0 \\\\ \\xHH) and print what comes back", Category: tcpCatTalk},
				&cli.BoolFlag{Name: "tls", Usage: "do a TLS handshake: time, version, cipher, ALPN, certificate, verification", Category: tcpCatTalk},
				&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Usage: "with --tls: report a failed verification but do not fail on it", Category: tcpCatTalk},
				&cli.StringFlag{Name: "sni", Usage: "with --tls: server name to send and verify (default: the target's host name)", Category: tcpCatTalk},
				&cli.StringFlag{Name: "alpn", Value: "h2,http/1.1", Usage: "with --tls: protocols to offer, comma-separated (empty: none)", Category: tcpCatTalk},
				&cli.StringFlag{Name: "cacert", Usage: "with --tls: verify against the CA certificates in this PEM file", Category: tcpCatTalk},
				&cli.DurationFlag{Name: "read-timeout", Value: 2 * time.Second, Usage: "deadline for a banner, a reply or a TLS handshake", Category: tcpCatTalk},
				&cli.IntFlag{Name: "max-bytes", Value: 4096, Usage: "read at most this many bytes of a banner or reply", Category: tcpCatTalk},
			},
			Action: func(c *cli.Context) error {
				p, err := e.printerFor(c)
				if err != nil {
					return err
				}
				return tcpRun(e, c, p)
			},
		}
	})
}

// tcpConfig is the parsed command line.
type tcpConfig struct {
	count      int
	interval   time.Duration
	wait       time.Duration
	timeout    time.Duration
	family     tcp.Family
	conn       tcp.Options
	ports      probe.PortList
	scan       bool
	showClosed bool
	concurr    int
	retries    int
}

func tcpParse(c *cli.Context) (*tcpConfig, error) {
	cfg := &tcpConfig{
		count:      c.Int("count"),
		interval:   c.Duration("interval"),
		wait:       c.Duration("wait"),
		timeout:    c.Duration("timeout"),
		showClosed: c.Bool("show-closed"),
		concurr:    c.Int("concurrency"),
		retries:    c.Int("retries"),
	}
	if c.NArg() == 0 {
		return nil, usageErrorf("give a target: HOST:PORT, or HOST -p PORTS (see nettool tcp --help)")
	}
	switch {
	case c.Bool("ipv4") && c.Bool("ipv6"):
		return nil, usageErrorf("-4 and -6 exclude each other")
	case c.Bool("ipv4"):
		cfg.family = "ip4"
	case c.Bool("ipv6"):
		cfg.family = "ip6"
	}
	if cfg.count < 0 {
		return nil, usageErrorf("bad --count %d (want 0 or more)", cfg.count)
	}
	if cfg.interval < 0 || cfg.wait < 0 || cfg.timeout <= 0 || c.Duration("read-timeout") <= 0 {
		return nil, usageErrorf("durations must be positive")
	}
	if cfg.concurr < 0 || cfg.retries < 0 || cfg.retries > 10 {
		return nil, usageErrorf("bad --concurrency or --retries (retries: 0-10)")
	}
	if mb := c.Int("max-bytes"); mb < 1 || mb > 16<<20 {
		return nil, usageErrorf("bad --max-bytes %d (want 1 to 16777216)", mb)
	}
	cfg.conn = tcp.Options{
		Timeout:     cfg.timeout,
		ReadTimeout: c.Duration("read-timeout"),
		Banner:      c.Bool("banner"),
		MaxBytes:    c.Int("max-bytes"),
	}
	if s := c.String("source"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usageErrorf("bad --source %q: not an IP address", s)
		}
		cfg.conn.Source = a
	}
	if c.IsSet("send") {
		data, err := tcp.ParseSendData(c.String("send"))
		if err != nil {
			return nil, err
		}
		cfg.conn.Send = data
	}
	if c.Bool("tls") {
		t := &tcp.TLSOptions{ServerName: c.String("sni"), Insecure: c.Bool("insecure")}
		for _, p := range strings.Split(c.String("alpn"), ",") {
			if p = strings.TrimSpace(p); p != "" {
				t.ALPN = append(t.ALPN, p)
			}
		}
		if f := c.String("cacert"); f != "" {
			pem, err := readFileLimited(c.Context, f, 16<<20)
			if err != nil {
				return nil, inputError(err, "cannot read --cacert: %v", err)
			}
			t.Roots = x509.NewCertPool()
			if !t.Roots.AppendCertsFromPEM(pem) {
				return nil, usageErrorf("--cacert %s holds no PEM certificate", f)
			}
		}
		cfg.conn.TLS = t
	} else if c.IsSet("insecure") || c.IsSet("sni") || c.IsSet("cacert") {
		return nil, usageErrorf("-k, --sni and --cacert need --tls")
	}
	talks := cfg.conn.Banner || cfg.conn.Send != nil || cfg.conn.TLS != nil
	if talks && !c.IsSet("count") {
		cfg.count = 1
	}
	if cfg.wait > 0 && !c.IsSet("interval") {
		cfg.interval = 250 * time.Millisecond
	}
	if runtime.GOOS == "windows" && !c.IsSet("timeout") {
		// Windows retries a SYN answered by a reset for about 2s, so a
		// shorter timeout would call closed ports filtered.
		cfg.timeout = 3 * time.Second
		cfg.conn.Timeout = cfg.timeout
	}
	if c.IsSet("ports") {
		pl, err := probe.ParsePortList(c.String("ports"))
		if err != nil {
			return nil, err
		}
		cfg.ports, cfg.scan = pl, true
		if !c.IsSet("timeout") && runtime.GOOS != "windows" {
			cfg.timeout = time.Second
			cfg.conn.Timeout = cfg.timeout
		}
		if cfg.wait > 0 {
			return nil, usageErrorf("--wait is for HOST:PORT connect tests, not scans")
		}
	}
	return cfg, nil
}

func tcpRun(e *appEnv, c *cli.Context, p *output.Printer) error {
	cfg, err := tcpParse(c)
	if err != nil {
		return err
	}
	if cfg.scan {
		return tcpScan(e, cfg, p, c.Args().Slice())
	}
	targets := make([]probe.HostPort, 0, c.NArg())
	for _, a := range c.Args().Slice() {
		hp, err := tcp.ParseConnectTarget(a)
		if err != nil {
			return err
		}
		targets = append(targets, hp)
	}
	return tcpConnectAll(e, cfg, p, targets)
}

// tcpSummary closes a connect test.
type tcpSummary struct {
	Type      string    `json:"type"` // "tcp_summary"
	Target    string    `json:"target"`
	Address   string    `json:"address,omitempty"`
	OK        bool      `json:"ok"`
	Failure   string    `json:"failure,omitempty"`
	Error     string    `json:"error,omitempty"`
	Attempts  int       `json:"attempts"`
	Connected int       `json:"connected"`
	Failed    int       `json:"failed"`
	LossPct   float64   `json:"loss_percent"`
	MinMS     float64   `json:"rtt_min_ms"`
	AvgMS     float64   `json:"rtt_avg_ms"`
	MaxMS     float64   `json:"rtt_max_ms"`
	MdevMS    float64   `json:"rtt_mdev_ms"`
	WaitedMS  *float64  `json:"waited_ms,omitempty"` // --wait: time until the port opened (or gave up)
	Start     time.Time `json:"start"`
	ElapsedMS float64   `json:"elapsed_ms"`

	AttemptList []tcp.Attempt `json:"attempts_list,omitempty"` // json mode only
}

// tcpMaxKept bounds the attempts a json document keeps per target.
const tcpMaxKept = 10000

func tcpConnectAll(e *appEnv, cfg *tcpConfig, p *output.Printer, targets []probe.HostPort) error {
	var docs []*tcpSummary
	allOK := true
	for i, hp := range targets {
		if i > 0 {
			p.TextLine("")
		}
		s := tcpConnectOne(e.ctx, cfg, p, hp)
		docs = append(docs, s)
		if !s.OK {
			allOK = false
		}
		if e.ctx.Err() != nil {
			break
		}
	}
	if p.Format() == output.JSON {
		p.Doc(struct {
			Type    string        `json:"type"`
			Results []*tcpSummary `json:"results"`
		}{"tcp_connect", docs})
	}
	switch {
	case e.ctx.Err() != nil:
		return errInterrupted
	case !allOK:
		return errFailed
	}
	return nil
}

func tcpConnectOne(ctx context.Context, cfg *tcpConfig, p *output.Printer, hp probe.HostPort) *tcpSummary {
	s := &tcpSummary{Type: "tcp_summary", Target: hp.String(), Start: time.Now()}
	finish := func() *tcpSummary {
		s.ElapsedMS = probe.Millis(time.Since(s.Start))
		if p.Format() == output.JSONL {
			list := s.AttemptList
			s.AttemptList = nil
			p.Stream(s)
			s.AttemptList = list
		}
		return s
	}
	addrs, err := tcp.Resolve(ctx, hp.Host, cfg.family, 5*time.Second)
	if err != nil && cfg.wait > 0 {
		// wait-for-it: in a starting compose stack the name itself may
		// not exist yet, so keep trying it until the deadline.
		deadline := s.Start.Add(cfg.wait)
		for err != nil && time.Now().Before(deadline) && tcpSleep(ctx, cfg.interval, deadline) {
			addrs, err = tcp.Resolve(ctx, hp.Host, cfg.family, max(time.Until(deadline), time.Millisecond))
		}
	}
	if err != nil {
		s.Failure, s.Error = probe.Classify(err), err.Error()
		p.TextLine("%s %s: cannot resolve: %s", p.Paint(output.Red, "failed"), output.Escape(hp.String()), output.Escape(err.Error()))
		return finish()
	}
	ap := netip.AddrPortFrom(addrs[0], uint16(hp.Port))
	s.Address = ap.String()
	var st tcp.Stats
	var last tcp.Attempt
	switch {
	case cfg.wait > 0:
		p.Info("waiting up to %s for %s (%s) to accept connections", cfg.wait, output.Escape(hp.String()), ap)
	case cfg.count == 0:
		p.TextLine("TCP %s (%s): connect test until Ctrl-C", output.Escape(hp.String()), ap)
	default:
		p.TextLine("TCP %s (%s): connect test, %d attempt%s", output.Escape(hp.String()), ap, cfg.count, tcpPlural(cfg.count))
	}
	deadline := time.Time{}
	if cfg.wait > 0 {
		deadline = s.Start.Add(cfg.wait)
	}
	for seq := 0; ; seq++ {
		o := cfg.conn
		if !deadline.IsZero() {
			if left := time.Until(deadline); left < o.Timeout {
				o.Timeout = max(left, time.Millisecond)
			}
		}
		at := tcp.Dial(ctx, ap, seq, o)
		at.Target = hp.String()
		if ctx.Err() != nil && !at.OK {
			break // interrupted mid-attempt: not a measurement
		}
		last = at
		if at.OK {
			st.AddSuccess(at.Connect())
		} else {
			st.AddFailure()
		}
		if p.Format() == output.JSON && len(s.AttemptList) < tcpMaxKept {
			s.AttemptList = append(s.AttemptList, at)
		}
		p.Stream(at)
		if cfg.wait == 0 || at.OK {
			tcpPrintAttempt(p, &at)
		}
		if cfg.wait > 0 {
			if at.OK || !time.Now().Before(deadline) {
				break
			}
		} else if cfg.count > 0 && seq+1 >= cfg.count {
			break
		}
		if !tcpSleep(ctx, cfg.interval, deadline) {
			break
		}
	}
	s.Attempts, s.Connected, s.Failed, s.LossPct = st.Attempts, st.Connected, st.Failed(), st.LossPct()
	s.MinMS, s.AvgMS, s.MaxMS, s.MdevMS = probe.Millis(st.Min()), probe.Millis(st.Avg()), probe.Millis(st.Max()), probe.Millis(st.Mdev())
	s.OK = st.Attempts > 0 && st.Failed() == 0
	if cfg.wait > 0 {
		s.OK = last.OK
		w := probe.Millis(time.Since(s.Start))
		s.WaitedMS = &w
	}
	if !s.OK && last.Failure != "" {
		s.Failure, s.Error = last.Failure, last.Error
	}
	if !s.OK && s.Failure == "" && st.Attempts == 0 {
		s.Failure = probe.FailCanceled
	}
	if cfg.wait > 0 {
		elapsed := tcpDur(time.Since(s.Start))
		switch {
		case s.OK:
			p.TextLine("%s is open after %s (%d attempt%s)", output.Escape(hp.String()), elapsed, st.Attempts, tcpPlural(st.Attempts))
		case ctx.Err() != nil:
			// Stopped before --wait ran out: say so, not "did not open
			// within" a time that has not passed.
			s.Failure, s.Error = probe.FailCanceled, "interrupted after "+elapsed+" of --wait "+cfg.wait.String()
			line := fmt.Sprintf("%s: interrupted after %s of --wait %s, not open yet (%d attempt%s", output.Escape(hp.String()), elapsed, cfg.wait, st.Attempts, tcpPlural(st.Attempts))
			if st.Attempts > 0 {
				line += ", last: " + tcpReason(&last)
			}
			p.TextLine("%s)", line)
		default:
			p.TextLine("%s did not open within %s (%d attempt%s, last: %s)", output.Escape(hp.String()), cfg.wait, st.Attempts, tcpPlural(st.Attempts), tcpReason(&last))
		}
		return finish()
	}
	p.TextLine("")
	p.TextLine("--- %s tcp connect statistics ---", output.Escape(hp.String()))
	loss := tcpNum(s.LossPct) + "%"
	if st.Attempts == 0 {
		loss = "-" // nothing was measured (Ctrl-C before the first attempt)
	}
	p.TextLine("%d attempt%s, %d connected, %s loss, time %dms", st.Attempts, tcpPlural(st.Attempts), st.Connected, loss, time.Since(s.Start).Milliseconds())
	if st.Connected > 0 {
		p.TextLine("connect min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", s.MinMS, s.AvgMS, s.MaxMS, s.MdevMS)
	}
	return finish()
}

// tcpSleep waits d (bounded by deadline when set); false when ctx ended.
func tcpSleep(ctx context.Context, d time.Duration, deadline time.Time) bool {
	if !deadline.IsZero() {
		if left := time.Until(deadline); left < d {
			d = max(left, 0)
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func tcpPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func tcpNum(f float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", f), "0"), ".")
}

// tcpReason says in words why an attempt failed.
func tcpReason(at *tcp.Attempt) string {
	switch at.Failure {
	case probe.FailConnRefused:
		return "connection refused (closed)"
	case probe.FailTimeout:
		if at.State == tcp.StateFiltered {
			return "no answer (filtered, or the listener's accept queue is full)"
		}
		return "timeout"
	case probe.FailHostUnreachable, probe.FailNetUnreachable:
		return strings.ReplaceAll(at.Failure, "_", " ") + " (filtered)"
	case "":
		return "ok"
	}
	return strings.ReplaceAll(at.Failure, "_", " ") + ": " + output.Escape(at.Error)
}

func tcpPrintAttempt(p *output.Printer, at *tcp.Attempt) {
	if !p.IsText() {
		return
	}
	if at.State == tcp.StateOpen {
		p.TextLine("%s %s from %s: seq=%d time=%.3f ms", p.Paint(output.Green, "connected to"), at.Address, at.LocalAddress, at.Seq, at.ConnectMS)
	} else {
		p.TextLine("%s %s: seq=%d %s, after %.3f ms", p.Paint(output.Red, at.State), at.Address, at.Seq, tcpReason(at), at.ElapsedMS)
	}
	tcpPrintTalk(p, "  ", at.TLS, at.Banner, at.Sent, at.Reply)
	if at.State == tcp.StateOpen && !at.OK {
		p.TextLine("  %s %s", p.Paint(output.Red, "failed:"), tcpReason(at))
	}
}

// tcpPrintTalk shows what an open connection carried. Every string from the
// network is already escaped (tcp.Data.Text) or escaped here.
func tcpPrintTalk(p *output.Printer, ind string, t *tcp.TLSInfo, banner, sent, reply *tcp.Data) {
	if t != nil {
		if t.Error != "" {
			p.TextLine("%stls: handshake failed after %.3f ms: %s", ind, t.HandshakeMS, output.Escape(t.Error))
		} else {
			alpn := t.ALPN
			if alpn == "" {
				alpn = "none"
			}
			p.TextLine("%stls: %s %s, alpn %s, handshake %.3f ms", ind, t.Version, t.Cipher, output.Escape(alpn), t.HandshakeMS)
		}
		if ci := t.Certificate; ci != nil {
			p.TextLine("%scertificate: subject %s", ind, output.Escape(ci.Subject))
			p.TextLine("%s  issuer %s", ind, output.Escape(ci.Issuer))
			p.TextLine("%s  names %s", ind, output.Escape(strings.Join(ci.SANs, ", ")))
			p.TextLine("%s  valid %s to %s (%d days left)", ind, ci.NotBefore.Format(time.DateOnly), ci.NotAfter.Format(time.DateOnly), ci.DaysLeft)
		}
		if t.Verified {
			p.TextLine("%s  verified: %s", ind, p.Paint(output.Green, "yes"))
		} else if t.VerifyError != "" {
			p.TextLine("%s  verified: %s (%s)", ind, p.Paint(output.Red, "no"), output.Escape(t.VerifyError))
		}
	}
	if banner != nil {
		p.TextLine("%sbanner: %s", ind, tcpDataLine(banner))
	}
	if sent != nil {
		p.TextLine("%ssent %d byte%s: \"%s\"", ind, sent.Bytes, tcpPlural(sent.Bytes), sent.Text)
	}
	if reply != nil {
		p.TextLine("%sreceived: %s", ind, tcpDataLine(reply))
	}
}

func tcpDataLine(d *tcp.Data) string {
	if d.Bytes == 0 {
		return fmt.Sprintf("nothing (%s after %.1f ms)", d.End, d.ElapsedMS)
	}
	reads := ""
	if len(d.Chunks) > 1 {
		parts := make([]string, 0, min(len(d.Chunks), 20))
		for i, n := range d.Chunks {
			if i == 20 {
				parts = append(parts, "...")
				break
			}
			parts = append(parts, fmt.Sprint(n))
		}
		reads = fmt.Sprintf(" in %d reads: %s", len(d.Chunks), strings.Join(parts, "+"))
	}
	more := ""
	if d.Truncated {
		more = " (cut at --max-bytes)"
	}
	return fmt.Sprintf("%d byte%s%s, %.1f ms%s: \"%s\"", d.Bytes, tcpPlural(d.Bytes), reads, d.ElapsedMS, more, d.Text)
}

// --- scans ---

func tcpScan(e *appEnv, cfg *tcpConfig, p *output.Printer, args []string) error {
	var targets []tcp.Target
	hostsTotal := 0
	for _, a := range args {
		t, err := tcp.ParseTarget(a)
		if err != nil {
			return err
		}
		hostsTotal += t.Size()
		if hostsTotal > tcp.MaxScanHosts {
			return usageErrorf("too many addresses: at most %d per run", tcp.MaxScanHosts)
		}
		targets = append(targets, t)
	}
	if hostsTotal*cfg.ports.Len() > tcp.MaxScanProbes {
		return usageErrorf("%s x %s is too many connections for one run (at most %d)", probe.Count(hostsTotal, "address", "addresses"), probe.Count(cfg.ports.Len(), "port", "ports"), tcp.MaxScanProbes)
	}
	var hosts []tcp.ScanHost
	var unresolved []string
	for _, t := range targets {
		if t.Name != "" {
			addrs, err := tcp.Resolve(e.ctx, t.Name, cfg.family, 5*time.Second)
			if err != nil {
				p.Warn("nettool: tcp: cannot resolve %s: %s", output.Escape(t.Input), output.Escape(err.Error()))
				unresolved = append(unresolved, t.Input)
				continue
			}
			hosts = append(hosts, tcp.ScanHost{Name: t.Input, Addr: addrs[0]})
			continue
		}
		for _, a := range t.Addrs() {
			if (cfg.family == "ip4" && !a.Unmap().Is4()) || (cfg.family == "ip6" && a.Unmap().Is4()) {
				return usageErrorf("%s does not match -4/-6", t.Input)
			}
			hosts = append(hosts, tcp.ScanHost{Name: t.Input, Addr: a})
		}
	}
	conc := cfg.concurr
	if conc == 0 {
		conc = tcp.DefaultConcurrency()
	} else if lim, err := tcp.RaiseFileLimit(); err == nil && conc > lim-16 {
		p.Warn("nettool: tcp: --concurrency %d is above the open-file limit %d: expect retries on 'too many open files'", conc, lim)
	}
	multi := len(hosts) > 1
	prog := &tcp.Progress{}
	prog.Total.Store(int64(len(hosts) * cfg.ports.Len()))
	if len(hosts) > 0 {
		p.Info("scanning %s on %s, %s at a time, timeout %s", probe.Count(cfg.ports.Len(), "port", "ports"), probe.Count(len(hosts), "address", "addresses"), probe.Count(min(conc, len(hosts)*cfg.ports.Len()), "connection", "connections"), cfg.timeout)
	}
	var progMu sync.Mutex
	progOn := output.IsTerminal(e.stderr) && !p.Quiet() && len(hosts) > 0
	stopProg := func() {}
	if progOn {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			show := func() {
				progMu.Lock()
				fmt.Fprintf(e.stderr, "\r\x1b[K%d/%d ports, %d open", prog.Done.Load(), prog.Total.Load(), prog.Open.Load())
				progMu.Unlock()
			}
			show()
			for {
				select {
				case <-done:
					progMu.Lock()
					fmt.Fprint(e.stderr, "\r\x1b[K")
					progMu.Unlock()
					return
				case <-t.C:
					show()
				}
			}
		}()
		stopProg = func() { close(done); wg.Wait() }
	}
	// jsonl streams each row as it comes; the text table and the json
	// document hold the rows sorted by address, then port, as nmap prints
	// them (they come in the order the connections end).
	var kept []tcp.PortResult
	emit := func(r tcp.PortResult) {
		if r.State != tcp.StateOpen && !cfg.showClosed {
			return
		}
		p.Stream(r)
		if p.Format() == output.JSON || p.IsText() {
			kept = append(kept, r)
		}
	}
	headerDone := false
	row := func(r tcp.PortResult) {
		if !headerDone {
			headerDone = true
			if multi {
				p.TextLine("%-39s %-11s %-8s %-16s %s", "ADDRESS", "PORT", "STATE", "SERVICE", "RTT")
			} else {
				p.TextLine("%-11s %-8s %-16s %s", "PORT", "STATE", "SERVICE", "RTT")
			}
		}
		state := r.State
		switch state {
		case tcp.StateOpen:
			state = p.Paint(output.Green, fmt.Sprintf("%-8s", state))
		case tcp.StateError:
			state = p.Paint(output.Red, fmt.Sprintf("%-8s", state))
		default:
			state = fmt.Sprintf("%-8s", state)
		}
		svc := r.Service
		if svc == "" {
			svc = "-"
		}
		rtt := fmt.Sprintf("%.3f ms", r.RTTMS)
		if r.State == tcp.StateError || r.State == tcp.StateFiltered {
			rtt += " (" + strings.ReplaceAll(r.Failure, "_", " ") + ")"
		}
		port := fmt.Sprintf("%d/tcp", r.Port)
		if multi {
			p.TextLine("%-39s %-11s %s %-16s %s", r.Address, port, state, svc, rtt)
		} else {
			p.TextLine("%-11s %s %-16s %s", port, state, svc, rtt)
		}
		tcpPrintTalk(p, "    ", r.TLS, r.Banner, r.Sent, r.Reply)
	}
	var sums []tcp.ScanSummary
	var scanErr error
	if len(hosts) > 0 {
		sums, scanErr = tcp.Scan(e.ctx, tcp.ScanOptions{
			Hosts: hosts, Ports: cfg.ports, Concurrency: conc, Timeout: cfg.timeout,
			Retries: cfg.retries, Conn: cfg.conn, Progress: prog,
		}, emit)
	}
	stopProg()
	sort.SliceStable(kept, func(i, j int) bool { return tcpResultLess(kept[i], kept[j]) })
	if p.IsText() {
		for _, r := range kept {
			row(r)
		}
	}
	open, errs := 0, 0
	for _, s := range sums {
		open += s.Open
		errs += s.Errors
		p.Stream(s)
	}
	if p.Format() == output.JSON {
		if kept == nil {
			kept = []tcp.PortResult{}
		}
		if unresolved == nil {
			unresolved = []string{}
		}
		if sums == nil {
			sums = []tcp.ScanSummary{}
		}
		p.Doc(tcpScanDoc{Type: "tcp_scan", Ports: cfg.ports.String(), Hosts: sums, Results: kept, Unresolved: unresolved, Interrupted: scanErr != nil})
	}
	if p.IsText() {
		if open == 0 && !cfg.showClosed && len(hosts) > 0 {
			p.TextLine("no open ports")
		}
		p.TextLine("")
		for _, s := range sums {
			if multi && s.Open == 0 && s.Errors == 0 && !cfg.showClosed {
				continue
			}
			p.TextLine("%s: %d/%d ports scanned in %s: %d open, %d closed, %d filtered, %s", s.Address, s.Scanned, s.Ports, tcpSeconds(s.ElapsedMS), s.Open, s.Closed, s.Filtered, probe.Count(s.Errors, "error", "errors"))
		}
		if multi {
			p.TextLine("%s scanned, %s in all", probe.Count(len(sums), "address", "addresses"), probe.Count(open, "open port", "open ports"))
		}
	}
	if errs > 0 {
		p.Warn("nettool: tcp: %d port%s could not be probed because of local errors (see --show-closed): they are not reported closed", errs, tcpPlural(errs))
	}
	switch {
	case scanErr != nil && e.ctx.Err() != nil:
		return errInterrupted
	case scanErr != nil:
		return scanErr
	case open == 0 || len(unresolved) > 0:
		return errFailed
	}
	return nil
}

// tcpResultLess orders scan rows by address (numerically, IPv4 before
// IPv6), then port.
func tcpResultLess(a, b tcp.PortResult) bool {
	if a.Address != b.Address {
		x, errx := netip.ParseAddr(a.Address)
		y, erry := netip.ParseAddr(b.Address)
		if errx == nil && erry == nil {
			if c := x.Unmap().Compare(y.Unmap()); c != 0 {
				return c < 0
			}
		} else {
			return a.Address < b.Address
		}
	}
	return a.Port < b.Port
}

// tcpScanDoc is the json document of a scan.
type tcpScanDoc struct {
	Type        string            `json:"type"` // "tcp_scan"
	Ports       string            `json:"ports"`
	Hosts       []tcp.ScanSummary `json:"hosts"`
	Results     []tcp.PortResult  `json:"results"`
	Unresolved  []string          `json:"unresolved"`
	Interrupted bool              `json:"interrupted"`
}

// tcpDur shows a duration to a person: 0.4ms, 12.3ms, 1.204s.
func tcpDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
	return d.Round(time.Millisecond).String()
}

func tcpSeconds(ms float64) string {
	return tcpDur(time.Duration(ms * float64(time.Millisecond)))
}
