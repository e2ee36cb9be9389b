package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
	"github.com/nettool/nettool/serve"
)

// `nettool serve dns [ADDR] [--zone FILE]...`: a small authoritative DNS
// server on loopback, the peer `nettool resolve`, dig and the demo query.

// serveDNSListen is the jsonl startup object; its address is the bound one,
// so a script that asked for port 0 learns the port.
type serveDNSListen struct {
	Type      string    `json:"type"` // "dns_listen"
	Address   string    `json:"address"`
	Port      int       `json:"port"`
	Transport []string  `json:"transport"`
	Zones     []string  `json:"zones"`
	NSID      string    `json:"nsid,omitempty"`
	UDPSize   int       `json:"udp_size"`
	Start     time.Time `json:"start"`
}

// serveDNSQuery is one query log event.
type serveDNSQuery struct {
	Type       string    `json:"type"` // "dns_query"
	Time       time.Time `json:"time"`
	Client     string    `json:"client"`
	Transport  string    `json:"transport"`
	ID         uint16    `json:"id"`
	Name       string    `json:"name"`
	QType      string    `json:"qtype"`
	QClass     string    `json:"qclass"`
	Rcode      string    `json:"rcode,omitempty"`
	Answers    int       `json:"answers"`
	Size       int       `json:"size"`
	Truncated  bool      `json:"truncated"`
	EDNS       bool      `json:"edns"`
	UDPSize    int       `json:"udp_size,omitempty"`
	DO         bool      `json:"do"`
	NSID       bool      `json:"nsid"`
	Dropped    string    `json:"dropped,omitempty"`
	DurationMS float64   `json:"duration_ms"`
}

// serveDNSSummary is printed when the server stops: the json document, or
// the last jsonl object.
type serveDNSSummary struct {
	Type      string           `json:"type"` // "dns_serve"
	Address   string           `json:"address"`
	Zones     []string         `json:"zones"`
	Queries   int64            `json:"queries"`
	UDP       int64            `json:"udp"`
	TCP       int64            `json:"tcp"`
	Truncated int64            `json:"truncated"`
	Dropped   int64            `json:"dropped"`
	Rcodes    map[string]int64 `json:"rcodes"`
	Start     time.Time        `json:"start"`
	ElapsedMS float64          `json:"elapsed_ms"`
}

func init() {
	registerServe(10, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "dns",
			Usage:     "answer DNS queries authoritatively from zone files (or a built-in example zone)",
			ArgsUsage: "[ADDR]",
			Description: "Serves UDP and TCP on one port, default " + serve.DNSDefaultAddr + " (loopback only; give 0.0.0.0:PORT\n" +
				"to listen everywhere). ADDR may be HOST:PORT, HOST, :PORT or PORT; port 0 picks a free port, and\n" +
				"the bound address is printed on stderr (\"listening on 127.0.0.1:PORT (udp, tcp)\").\n" +
				"Without --zone it serves example.test. and the reverse zones of its loopback addresses\n" +
				"(--show-zone prints them). Each query is logged on stderr (-q: no log); with -o jsonl the log is\n" +
				"JSON lines on stdout. Ctrl-C stops it cleanly, with a summary, and exit status 0.",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "zone", Aliases: []string{"z"}, Usage: "serve the zone in `FILE` (RFC 1035 master format); [ORIGIN=]FILE names the zone when the file has no $ORIGIN; repeatable"},
				&cli.StringFlag{Name: "nsid", Usage: "answer NSID requests (RFC 5001) with `ID`"},
				&cli.IntFlag{Name: "udp-size", Value: serve.DNSDefaultUDPSize, Usage: "largest UDP reply to an EDNS client, in `BYTES` (512-65535); larger answers get TC"},
				&cli.BoolFlag{Name: "show-zone", Usage: "print the zones that would be served, as zone-file text, and exit"},
			},
			Action: func(c *cli.Context) error { return serveDNSRun(e, c) },
		}
	})
}

func serveDNSRun(e *appEnv, c *cli.Context) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	if c.NArg() > 1 {
		return usageErrorf("one address at most, got %d arguments", c.NArg())
	}
	addr, err := probe.ParseListenAddr(c.Args().First(), 5353)
	if err != nil {
		return err
	}
	size := c.Int("udp-size")
	if size < 512 || size > 65535 {
		return probe.Usagef("--udp-size %d: want 512-65535", size)
	}
	var zones []*serve.DNSZone
	for _, spec := range c.StringSlice("zone") {
		origin, file := serveDNSSplitZoneSpec(spec)
		z, err := serveDNSLoadZone(e.ctx, file, origin)
		if err != nil {
			if e.ctx.Err() != nil {
				return errInterrupted
			}
			return probe.Usagef("%v", err)
		}
		zones = append(zones, z)
	}
	if c.Bool("show-zone") {
		if len(zones) == 0 {
			_, err = io.WriteString(p.Stdout(), serve.DNSExampleZoneText())
			return err
		}
		for i, z := range zones {
			if i > 0 {
				_, _ = io.WriteString(p.Stdout(), "\n")
			}
			if _, err := z.WriteTo(p.Stdout()); err != nil {
				return err
			}
		}
		return nil
	}

	opts := serve.DNSOptions{Addr: addr, Zones: zones, NSID: c.String("nsid"), MaxUDPSize: size}
	if !p.Quiet() {
		opts.OnQuery = func(q serve.DNSQuery) { serveDNSLog(p, q) }
	}
	srv, err := serve.NewDNSServer(opts)
	if err != nil {
		return probe.Usagef("%v", err)
	}
	start := time.Now()
	if err := srv.Start(e.ctx); err != nil {
		if e.ctx.Err() != nil {
			return nil
		}
		return probe.Localf("cannot listen on %s: %v", addr, serveDNSBindError(err))
	}
	bound := srv.UDPAddr()
	p.Warn("listening on %s (udp, tcp)", bound)
	p.Info("zones: %s", strings.Join(srv.Zones(), " "))
	p.Stream(serveDNSListen{
		Type: "dns_listen", Address: bound.String(), Port: int(bound.Port()), Transport: []string{"udp", "tcp"},
		Zones: srv.Zones(), NSID: opts.NSID, UDPSize: size, Start: start.UTC(),
	})

	<-e.ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return probe.Localf("shutdown: %v", err)
	}
	st := srv.Stats()
	sum := serveDNSSummary{
		Type: "dns_serve", Address: bound.String(), Zones: srv.Zones(), Queries: st.Queries, UDP: st.UDP, TCP: st.TCP,
		Truncated: st.Truncated, Dropped: st.Dropped, Rcodes: st.Rcodes, Start: start.UTC(), ElapsedMS: probe.Millis(time.Since(start)),
	}
	p.Doc(sum)
	p.Info("stopped: %s", serveDNSSummaryText(sum))
	// Stopped by Ctrl-C after a clean shutdown: that is how a server ends,
	// so the exit status is 0.
	return nil
}

// serveDNSLog writes one query log entry: a line on stderr, or a jsonl event
// on stdout.
func serveDNSLog(p *output.Printer, q serve.DNSQuery) {
	if p.Format() == output.JSONL {
		p.Stream(serveDNSQuery{
			Type: "dns_query", Time: q.Time.UTC(), Client: q.Client.String(), Transport: q.Transport, ID: q.ID,
			Name: q.Name, QType: q.Type, QClass: q.Class, Rcode: q.Rcode, Answers: q.Answers, Size: q.Size,
			Truncated: q.Truncated, EDNS: q.EDNS, UDPSize: q.UDPSize, DO: q.DO, NSID: q.NSID, Dropped: q.Dropped,
			DurationMS: probe.Millis(q.Duration),
		})
		return
	}
	p.Info("%s", serveDNSLogLine(q))
}

// serveDNSLogLine is the text form of one query:
// 07:50:01.123 127.0.0.1:53211 udp www.example.test. A -> NOERROR 2 answers 89 bytes aa
func serveDNSLogLine(q serve.DNSQuery) string {
	var b strings.Builder
	b.WriteString(q.Time.Format("15:04:05.000"))
	b.WriteString(" ")
	b.WriteString(q.Client.String())
	b.WriteString(" ")
	b.WriteString(q.Transport)
	if q.Dropped != "" {
		fmt.Fprintf(&b, " id=%d dropped (%s)", q.ID, q.Dropped)
		return b.String()
	}
	name, qtype := q.Name, q.Type
	if qtype == "" {
		name, qtype = "(no question)", ""
	}
	fmt.Fprintf(&b, " %s", output.Escape(name))
	if qtype != "" {
		fmt.Fprintf(&b, " %s", qtype)
		if q.Class != "IN" {
			fmt.Fprintf(&b, " %s", q.Class)
		}
	}
	fmt.Fprintf(&b, " -> %s %d answer", q.Rcode, q.Answers)
	if q.Answers != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " %d bytes", q.Size)
	if q.Truncated {
		b.WriteString(" TC")
	}
	if q.EDNS {
		fmt.Fprintf(&b, " edns=%d", q.UDPSize)
	}
	if q.DO {
		b.WriteString(" do")
	}
	if q.NSID {
		b.WriteString(" nsid")
	}
	return b.String()
}

func serveDNSSummaryText(s serveDNSSummary) string {
	var b strings.Builder
	noun := "queries"
	if s.Queries == 1 {
		noun = "query"
	}
	fmt.Fprintf(&b, "%d %s (udp %d, tcp %d)", s.Queries, noun, s.UDP, s.TCP)
	for _, rc := range []string{"NOERROR", "NXDOMAIN", "REFUSED", "FORMERR", "NOTIMP", "SERVFAIL", "BADVERS"} {
		if n := s.Rcodes[rc]; n > 0 {
			fmt.Fprintf(&b, ", %s %d", rc, n)
		}
	}
	if s.Truncated > 0 {
		fmt.Fprintf(&b, ", truncated %d", s.Truncated)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(&b, ", dropped %d", s.Dropped)
	}
	return b.String()
}

// serveDNSSplitZoneSpec reads --zone [ORIGIN=]FILE. A FILE whose name
// contains "=" can be given as ./FILE.
func serveDNSSplitZoneSpec(spec string) (origin, file string) {
	if i := strings.Index(spec, "="); i > 0 && !strings.Contains(spec[:i], "/") {
		return spec[:i], spec[i+1:]
	}
	return "", spec
}

// serveDNSBindError adds a hint to the usual reasons a bind fails.
func serveDNSBindError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "permission denied"):
		return msg + " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
	case strings.Contains(msg, "address already in use"):
		return msg + " (another server is on that port; try another, or port 0 for a free one)"
	}
	return msg
}

// serveDNSLoadZone loads a zone file, or gives up at Ctrl-C: a FIFO whose
// writer is silent (or absent) would block the load for ever. The load is
// left to end with the process.
func serveDNSLoadZone(ctx context.Context, file, origin string) (*serve.DNSZone, error) {
	type loaded struct {
		z   *serve.DNSZone
		err error
	}
	ch := make(chan loaded, 1)
	go func() {
		z, err := serve.DNSLoadZoneFile(file, origin)
		ch <- loaded{z, err}
	}()
	select {
	case l := <-ch:
		return l.z, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
