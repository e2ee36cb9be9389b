package main

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/httpget"
	"github.com/nettool/nettool/probe"
	"github.com/nettool/nettool/probe/output"
)

const getDescription = `Sends one HTTP/1.x request, built and written by nettool itself on a plain TCP
(or TLS) connection, and shows the whole journey: the name resolved, the TCP
connection (with the local port the OS picked), the TLS handshake, the request
exactly as sent (> lines), the status line and headers exactly as received
(< lines), the decoded body, and the timings (curl -w names) with a bar chart.

TARGET is a URL (http://, https://) or host[:port][/path] (http, port 80).

Where things go:
  default      the journey, body included (escaped), on stdout
  --raw        the exact bytes instead: CRLFs, chunk framing, compressed body
  -b, --body   the decoded body alone on stdout, byte for byte (escaped, and
               binary summarised, only when stdout is a terminal); -v adds the
               journey on stderr, as curl -v does
  -O FILE      the decoded body into FILE; the journey still on stdout
  --json       the whole exchange (every hop) as one JSON document
Warnings (one line per RFC 9112 violation) always go to stderr.

Everything received is escaped before it reaches a terminal. A response that
breaks RFC 9112 (conflicting Content-Length, Transfer-Encoding with
Content-Length, bare LF, obs-fold, bad chunk sizes, HTTP/0.9 or a non-HTTP
reply) is still shown, with a warning per violation, and exits 1.

-O FILE writes through a device, a FIFO or a symlink's target, as curl -o;
a regular file is replaced only when the transfer succeeded.

Exit: 0 for a complete HTTP response (any status unless --fail), 1 for
connection failures, timeouts, malformed, incomplete or oversized responses
(and status >= 400 with --fail), 2 for bad URLs and flags, 3 when -O FILE
cannot be written.`

func init() {
	registerCommand(400, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:        "get",
			Usage:       "raw HTTP GET: the request and response byte for byte, with the whole journey and timings",
			ArgsUsage:   "TARGET",
			Description: getDescription,
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Usage: "add or replace a header ('Name: value'); 'Name:' removes one, 'Name;' sends it empty"},
				&cli.StringFlag{Name: "request", Aliases: []string{"X"}, Usage: "method (GET, HEAD, POST, ...)"},
				&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "send `DATA` as the body (method POST unless -X)"},
				&cli.StringFlag{Name: "data-file", Usage: "send the contents of `FILE` as the body ('-' for stdin)"},
				&cli.BoolFlag{Name: "http1.0", Aliases: []string{"http10"}, Usage: "send an HTTP/1.0 request"},
				&cli.BoolFlag{Name: "location", Aliases: []string{"L"}, Usage: "follow redirects, showing each hop"},
				&cli.IntFlag{Name: "max-redirs", Value: 10, Usage: "most redirects to follow with -L"},
				&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Usage: "do not enforce certificate verification (the verdict is still shown)"},
				&cli.StringFlag{Name: "cacert", Usage: "trust the CA certificates in PEM `FILE` instead of the system's"},
				&cli.StringFlag{Name: "sni", Usage: "server `NAME` to send in TLS SNI and to verify the certificate against"},
				&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
				&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
				&cli.StringSliceFlag{Name: "resolve", Usage: "use `HOST:PORT:ADDR[,ADDR]` instead of resolving HOST (as curl)"},
				&cli.BoolFlag{Name: "fail", Aliases: []string{"f"}, Usage: "exit 1 when the final status is 400 or more"},
				&cli.DurationFlag{Name: "timeout", Aliases: []string{"m"}, Value: 30 * time.Second, Usage: "deadline for the whole exchange, redirects included"},
				&cli.DurationFlag{Name: "connect-timeout", Value: 10 * time.Second, Usage: "deadline for each TCP connection attempt"},
				&cli.StringFlag{Name: "max-size", Value: "1GiB", Usage: "largest body accepted, after decoding (0: no limit; K, M, G, KiB, MiB, GiB suffixes)"},
				&cli.Float64Flag{Name: "max-ratio", Value: 200, Usage: "largest decompression ratio accepted past 1 MiB decoded (decompression bombs; 0: no limit)"},
				&cli.StringFlag{Name: "max-header-size", Value: "256KiB", Usage: "largest response head accepted"},
				&cli.StringFlag{Name: "show-max", Value: "64KiB", Usage: "most body bytes shown in the journey and in JSON (0: all)"},
				&cli.BoolFlag{Name: "raw", Usage: "show the exact bytes sent and received (CRLFs, chunk framing, compressed body), escaped"},
				&cli.BoolFlag{Name: "body", Aliases: []string{"b"}, Usage: "write only the decoded body to stdout (for scripts)"},
				&cli.StringFlag{Name: "out-file", Aliases: []string{"O"}, Usage: "write the decoded body to `FILE`"},
				&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "with --body: the journey on stderr"},
				// -q (shared): only the request and response, without the "* " lines and timings.
			},
			Action: func(c *cli.Context) error { return getRun(e, c) },
		}
	})
}

// getParseSize reads "64KiB", "1G", "1048576" or "0".
func getParseSize(flag, s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, usageErrorf("bad --%s %q (want a size like 1048576, 64KiB, 1GiB)", flag, s)
	}
	return n * mult, nil
}

// getParseResolve reads curl's HOST:PORT:ADDR[,ADDR...].
func getParseResolve(specs []string) (map[string][]netip.Addr, error) {
	m := map[string][]netip.Addr{}
	for _, s := range specs {
		i := strings.Index(s, ":")
		if i <= 0 {
			return nil, usageErrorf("bad --resolve %q (want HOST:PORT:ADDR)", s)
		}
		host, rest := strings.ToLower(s[:i]), s[i+1:]
		j := strings.Index(rest, ":")
		if j <= 0 {
			return nil, usageErrorf("bad --resolve %q (want HOST:PORT:ADDR)", s)
		}
		port, err := probe.ParsePort(rest[:j])
		if err != nil {
			return nil, usageErrorf("bad --resolve %q: %v", s, err)
		}
		var addrs []netip.Addr
		for _, a := range strings.Split(rest[j+1:], ",") {
			a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "["), "]")
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, usageErrorf("bad --resolve %q: %q is not an IP address", s, a)
			}
			addrs = append(addrs, ip)
		}
		key := host + ":" + strconv.Itoa(port)
		m[key] = append(m[key], addrs...)
	}
	return m, nil
}

func getOptions(e *appEnv, c *cli.Context) (httpget.Target, httpget.Options, error) {
	var o httpget.Options
	if c.NArg() != 1 {
		return httpget.Target{}, o, usageErrorf("want one TARGET (a URL or host[:port][/path]), got %d arguments", c.NArg())
	}
	t, err := httpget.ParseTarget(c.Args().First())
	if err != nil {
		return t, o, err
	}
	spec := httpget.RequestSpec{HTTP10: c.Bool("http1.0"), UserAgent: "nettool/" + buildVersion().Version}
	if m := c.String("request"); m != "" {
		if !httpget.ValidMethod(m) {
			return t, o, usageErrorf("bad method %q", m)
		}
		spec.Method = m
	}
	for _, h := range c.StringSlice("header") {
		edit, err := httpget.ParseHeaderEdit(h)
		if err != nil {
			return t, o, err
		}
		spec.Edits = append(spec.Edits, edit)
	}
	if c.IsSet("data") && c.IsSet("data-file") {
		return t, o, usageErrorf("--data and --data-file cannot be used together")
	}
	if c.IsSet("data") {
		spec.Body, spec.HasBody = []byte(c.String("data")), true
	}
	if f := c.String("data-file"); f != "" {
		var r io.Reader
		if f == "-" {
			r = e.stdinReader()
		} else {
			fh, err := os.Open(f)
			if err != nil {
				return t, o, usageErrorf("cannot read --data-file: %v", err)
			}
			if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
				// Streamed from the file as it is sent, never held in
				// memory; getRun closes it.
				spec.BodyFile, spec.BodySize, spec.HasBody = fh, st.Size(), true
			} else {
				defer fh.Close()
				r = fh
			}
		}
		if spec.BodyFile == nil {
			// A pipe or stdin: read first (its length goes in
			// Content-Length), at most 64 MiB.
			b, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
			if err != nil {
				if e.ctx.Err() != nil {
					return t, o, errInterrupted
				}
				return t, o, usageErrorf("cannot read --data-file: %v", err)
			}
			if len(b) > 64<<20 {
				return t, o, usageErrorf("--data-file from a pipe or stdin is larger than 64 MiB (a regular file has no limit)")
			}
			spec.Body, spec.HasBody = b, true
		}
	}
	o.Request = spec
	o.Timeout, o.ConnectTimeout = c.Duration("timeout"), c.Duration("connect-timeout")
	if o.Timeout <= 0 || o.ConnectTimeout <= 0 {
		return t, o, usageErrorf("--timeout and --connect-timeout must be positive")
	}
	switch {
	case c.Bool("4") && c.Bool("6"):
		return t, o, usageErrorf("-4 and -6 cannot be used together")
	case c.Bool("4"):
		o.Family = 4
	case c.Bool("6"):
		o.Family = 6
	}
	if o.Resolve, err = getParseResolve(c.StringSlice("resolve")); err != nil {
		return t, o, err
	}
	o.Insecure, o.SNI = c.Bool("insecure"), c.String("sni")
	if o.SNI != "" {
		if _, err := httpget.ParseTarget("http://" + o.SNI); err != nil || strings.ContainsAny(o.SNI, ":/") {
			return t, o, usageErrorf("bad --sni %q", o.SNI)
		}
	}
	if f := c.String("cacert"); f != "" {
		pemBytes, err := readFileLimited(e.ctx, f, 16<<20)
		if err != nil {
			return t, o, inputError(err, "cannot read --cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return t, o, usageErrorf("--cacert %s holds no PEM certificate", f)
		}
		o.RootCAs = pool
	}
	o.Follow, o.MaxRedirects = c.Bool("location"), c.Int("max-redirs")
	if o.MaxRedirects < 1 || o.MaxRedirects > 50 {
		return t, o, usageErrorf("--max-redirs must be 1 to 50")
	}
	maxSize, err := getParseSize("max-size", c.String("max-size"))
	if err != nil {
		return t, o, err
	}
	head, err := getParseSize("max-header-size", c.String("max-header-size"))
	if err != nil {
		return t, o, err
	}
	show, err := getParseSize("show-max", c.String("show-max"))
	if err != nil {
		return t, o, err
	}
	if head < 1024 || head > 64<<20 {
		return t, o, usageErrorf("--max-header-size must be 1KiB to 64MiB")
	}
	if show == 0 || show > 1<<30 {
		show = 1 << 30
	}
	if r := c.Float64("max-ratio"); math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return t, o, usageErrorf("bad --max-ratio %v: want a finite number, 0 or more (0: no limit)", r)
	}
	o.Limits = httpget.Limits{MaxHeadBytes: int(head), MaxBody: maxSize, MaxRatio: c.Float64("max-ratio"), KeepBody: int(show), KeepRaw: int(show)}
	if maxSize == 0 {
		o.Limits.MaxBody = -1
	}
	if c.Float64("max-ratio") == 0 {
		o.Limits.MaxRatio = -1
	}
	return t, o, nil
}

func getRun(e *appEnv, c *cli.Context) error {
	p, err := e.printerFor(c)
	if err != nil {
		return err
	}
	t, o, err := getOptions(e, c)
	if f, ok := o.Request.BodyFile.(*os.File); ok {
		defer f.Close()
	}
	if err != nil {
		return err
	}
	bodyOnly := c.Bool("body")
	if bodyOnly && !p.IsText() {
		return usageErrorf("--body writes the body alone: it cannot be combined with --output %s", p.Format())
	}
	if bodyOnly && c.Bool("raw") {
		return usageErrorf("--body and --raw cannot be used together (use -O FILE with --raw)")
	}
	stdoutTTY := output.IsTerminal(e.stdout)
	o.Fail = c.Bool("fail")
	var out *getOutFile
	if f := c.String("out-file"); f != "" {
		if out, err = getOpenOut(e.ctx, f); err != nil {
			return err
		}
		defer out.abort() // nothing once committed
		o.Sink = out
	} else if bodyOnly && !stdoutTTY {
		o.Sink = p.Stdout()
	}
	pr := &getPrinter{p: p, tty: stdoutTTY, raw: c.Bool("raw"), outFile: c.String("out-file"), done: map[*httpget.Exchange]httpget.Stage{}, follow: o.Follow, withBody: !bodyOnly}
	switch {
	case !p.IsText():
	case bodyOnly && c.Bool("verbose"):
		pr.w = p.Stderr()
	case !bodyOnly:
		pr.w = p.Stdout()
	}
	if pr.w != nil {
		// Show each stage as it happens: a person watching a slow server
		// sees the connection and the request at once.
		o.Observe = func(x *httpget.Exchange, st httpget.Stage) {
			if out != nil && st == httpget.StageDone && x.Location == "" {
				// The last hop's summary says what became of FILE: it is
				// printed once FILE is committed or left alone.
				return
			}
			pr.stage(x, st, true)
		}
	}
	res, err := httpget.Get(e.ctx, t, o)
	if err != nil {
		return err
	}
	last := res.Final()
	if c.Bool("fail") && res.OK && res.Status >= 400 {
		res.OK, res.Failure, res.Error = false, probe.FailHTTPStatus, fmt.Sprintf("status %d (--fail)", res.Status)
	}
	var outErr error
	if out != nil {
		outErr = out.WriteError()
		ok := res.OK && outErr == nil
		if ok {
			outErr = out.commit()
			ok = outErr == nil
		} else {
			out.abort()
		}
		pr.outHop, pr.outTouched, pr.outFailed = last, out.Touched(), !ok
		if outErr != nil {
			// The exchange went well, FILE did not: --json says so too.
			res.OK, res.Failure, res.Error = false, httpget.FailWriteError, outErr.Error()
		}
	}
	switch {
	case !p.IsText():
		p.Doc(res)
	case bodyOnly:
		if c.Bool("verbose") {
			pr.journey(res)
		}
		if stdoutTTY && last.Response != nil {
			pr.w = p.Stdout()
			pr.body(last.Response, true)
		}
	default:
		pr.journey(res)
	}
	_ = p.Flush()
	for _, x := range res.Hops {
		for _, v := range x.Violations() {
			p.Warn("nettool: get: warning: %s: %s", v.Code, output.Escape(v.Message))
		}
	}
	if outErr != nil {
		return outErr
	}
	if !res.OK {
		if e.ctx.Err() != nil {
			return errInterrupted
		}
		msg := res.Error
		if res.Failure == probe.FailProtocol && len(last.Violations()) > 0 {
			msg = fmt.Sprintf("the response breaks HTTP/1.1 (%s above)", probe.Count(len(last.Violations()), "violation", "violations"))
		}
		p.Warn("nettool: get: %s: %s", res.Failure, output.Escape(msg))
		return errFailed
	}
	return nil
}

type getPrinter struct {
	p       *output.Printer
	w       io.Writer
	tty     bool
	raw     bool
	outFile string
	// outHop is the hop whose body went to -O FILE; outTouched says FILE
	// was written (committed, or a device/FIFO written through), outFailed
	// that the transfer or the writing failed.
	outHop     *httpget.Exchange
	outTouched bool
	outFailed  bool
	done       map[*httpget.Exchange]httpget.Stage // stages already printed
	hops       int
	follow     bool // -L: number the hops
	withBody   bool // the body belongs in the journey (not with -b)
}

// stage prints what an exchange has reached, once.
func (g *getPrinter) stage(x *httpget.Exchange, st httpget.Stage, live bool) {
	prev, seen := g.done[x]
	if !seen {
		g.hops++
		g.pre(x)
		prev = httpget.StageConnected
	}
	for s := prev + 1; s <= st; s++ {
		switch s {
		case httpget.StageSent:
			if len(x.RawRequest) > 0 {
				g.request(x)
			}
		case httpget.StageHead:
			if !g.raw && x.Response != nil && x.Response.HTTP {
				g.head(x.Response)
			}
		case httpget.StageDone:
			if r := x.Response; r != nil {
				g.response(x, r, g.withBody)
			}
			if (x.Response != nil || x.Connection != nil) && !g.p.Quiet() {
				g.timings(x)
			}
			if x.Location != "" {
				g.info("Redirect to %s", output.Escape(x.Location))
			}
		}
	}
	g.done[x] = max(st, prev)
	if live {
		if f, ok := g.w.(interface{ Flush() error }); ok {
			f.Flush()
		}
		g.p.Flush()
	}
}

func (g *getPrinter) line(format string, args ...any) {
	fmt.Fprintf(g.w, format+"\n", args...)
}

func (g *getPrinter) info(format string, args ...any) {
	if g.p.Quiet() {
		return
	}
	g.line("%s", g.p.Paint(output.Dim, "* "+fmt.Sprintf(format, args...)))
}

func (g *getPrinter) journey(res *httpget.Result) {
	for _, x := range res.Hops {
		g.stage(x, httpget.StageDone, false)
	}
	if res.Failure == httpget.FailTooManyRedirects {
		g.info("Stopped: %s", res.Error)
	}
}

// pre prints resolution, connection and TLS.
func (g *getPrinter) pre(x *httpget.Exchange) {
	if g.follow {
		if g.hops > 1 {
			g.line("")
		}
		g.line("%s", g.p.Paint(output.Bold, fmt.Sprintf("== hop %d: %s", g.hops, output.Escape(x.URL))))
	}
	if r := x.Resolution; r != nil {
		switch r.Source {
		case "literal":
			g.info("Resolve %s: an IP address, no lookup", output.Escape(r.Host))
		case "localhost":
			g.info("Resolve %s: %s (localhost names are loopback, no lookup)", r.Host, strings.Join(r.Addresses, ", "))
		case "resolve_flag":
			g.info("Resolve %s: %s (from --resolve, no lookup)", r.Host, strings.Join(r.Addresses, ", "))
		default:
			if len(r.Addresses) > 0 {
				g.info("Resolve %s: %s (DNS, %.1f ms)", r.Host, strings.Join(r.Addresses, ", "), r.DNSMS)
			}
		}
	}
	if c := x.Connection; c != nil {
		for _, a := range c.Attempts {
			if a.Error != "" {
				g.info("Connect %s failed after %.1f ms: %s", a.Address, a.MS, output.Escape(a.Error))
			}
		}
		if c.Remote != "" {
			g.info("Connected %s -> %s in %.1f ms (local port %d picked by the OS)", c.Local, c.Remote, c.ConnectMS, c.LocalPort)
		}
	}
	if t := x.TLS; t != nil {
		if t.Version != "" {
			alpn := t.ALPN
			if alpn == "" {
				alpn = "none"
			}
			sni := "SNI " + output.Escape(t.ServerName)
			if _, err := netip.ParseAddr(t.ServerName); err == nil {
				sni = "no SNI (IP address)"
			}
			g.info("TLS handshake: %s, %s, ALPN %s, %s, %.1f ms", t.Version, t.Cipher, output.Escape(alpn), sni, t.HandshakeMS)
		}
		for i, c := range t.Certificates {
			names := append(append([]string{}, c.DNSNames...), c.IPs...)
			label := "certificate"
			if i > 0 {
				label = fmt.Sprintf("chain[%d]", i)
			}
			g.info("  %s: %s; names %s; issuer %s; valid until %s (%d days)", label, output.Escape(c.Subject),
				output.Escape(strings.Join(names, " ")), output.Escape(c.Issuer), c.NotAfter.Format("2006-01-02"), c.DaysLeft)
		}
		switch {
		case t.Verified:
			g.info("  verified: yes (for %s)", output.Escape(t.ServerName))
		case t.VerifyError != "" && t.Insecure:
			g.line("%s", g.p.Paint(output.Yellow, "*   NOT verified: "+output.Escape(t.VerifyError)+" (continuing: -k)"))
		case t.VerifyError != "":
			g.line("%s", g.p.Paint(output.Red, "*   NOT verified: "+output.Escape(t.VerifyError)))
		}
	}
}

func getSplitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func getTrimEOL(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r"))
}

func (g *getPrinter) request(x *httpget.Exchange) {
	raw := x.RawRequest
	head, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, body = raw[:i+4], raw[i+4:]
	}
	for _, l := range getSplitLines(head) {
		if g.raw {
			g.line("> %s", output.EscapeBytes(l))
		} else {
			g.line("%s", getPrefixed(">", output.EscapeBytes(getTrimEOL(l))))
		}
	}
	if len(body) > 0 {
		for _, l := range getSplitLines(body) {
			if g.raw {
				g.line("> %s", output.EscapeBytes(l))
			} else {
				g.line("> %s", output.EscapeBytes(getTrimEOL(l)))
			}
		}
	}
	n := int64(len(body))
	if x.Request != nil {
		n = x.Request.BodyBytes
	}
	if x.RawRequestCut {
		g.info("... %d more request body bytes not shown (--show-max)", n-int64(len(body)))
	}
	if n > 0 && !g.raw {
		g.info("Request body: %d bytes", n)
	}
}

func (g *getPrinter) response(x *httpget.Exchange, r *httpget.Response, withBody bool) {
	if g.raw {
		for _, l := range getSplitLines(r.Raw) {
			g.line("< %s", output.EscapeBytes(l))
		}
		if r.RawCut {
			g.info("... more bytes not shown (--show-max)")
		}
	} else {
		if !r.HTTP {
			g.info("The reply is not HTTP/1.x; it is shown as received:")
		}
		if withBody {
			g.body(r, false)
		}
		for _, f := range r.Trailers {
			g.line("< %s: %s   (trailer)", output.Escape(f.Name), output.Escape(f.Value))
		}
	}
	g.bodySummary(x, r)
}

// head prints the status line and fields as received.
func (g *getPrinter) head(r *httpget.Response) {
	for _, l := range r.HeadLines {
		g.line("%s", getPrefixed("<", output.EscapeBytes(getTrimEOL(l))))
	}
}

// getPrefixed is one line of the exchange as sent or received, trailing
// spaces kept (as curl -v shows them); an empty line is the marker alone.
func getPrefixed(mark, l string) string {
	if l == "" {
		return mark
	}
	return mark + " " + l
}

func (g *getPrinter) bodySummary(x *httpget.Exchange, r *httpget.Response) {
	if !r.HTTP {
		g.info("Reply: %d bytes", r.BodyBytes)
		return
	}
	parts := []string{fmt.Sprintf("%d bytes", r.BodyBytes)}
	if len(r.Encodings) > 0 {
		verb := "decoded from"
		if !r.Decoded {
			verb = "NOT decoded, still"
		}
		parts[0] += fmt.Sprintf(" (%s %d %s bytes)", verb, r.WireBytes, output.Escape(strings.Join(r.Encodings, ", ")))
	}
	framing := r.Framing
	switch framing {
	case "close":
		framing = "read until the server closed"
	case "none":
		framing = "no body for this status or method"
	}
	parts = append(parts, framing)
	if len(r.Trailers) > 0 {
		parts = append(parts, probe.Count(len(r.Trailers), "trailer field", "trailer fields"))
	}
	if g.outFile != "" && x == g.outHop {
		switch {
		case g.outTouched && g.outFailed:
			parts = append(parts, "written in part to "+output.Escape(g.outFile))
		case g.outTouched:
			parts = append(parts, "written to "+output.Escape(g.outFile))
		default:
			parts = append(parts, output.Escape(g.outFile)+" not written")
		}
	}
	if !r.Complete && r.Framing != "none" {
		parts = append(parts, "INCOMPLETE")
	}
	g.info("Body: %s", strings.Join(parts, ", "))
}

// getIsBinary is curl's and HTTPie's test: a NUL, or bytes that are not
// text, early in the body.
func getIsBinary(b []byte) bool {
	if len(b) > 2000 {
		b = b[:2000]
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 && len(b) >= utf8.UTFMax {
			return true
		}
		b = b[size:]
	}
	return false
}

// body shows the decoded body preview, escaped; binary bodies are
// summarised on a terminal.
func (g *getPrinter) body(r *httpget.Response, alone bool) {
	b := r.Body
	if len(b) == 0 {
		return
	}
	if getIsBinary(b) && g.tty {
		n := min(len(b), 64)
		g.info("Binary body (%d bytes) not shown on a terminal; first %d bytes:", r.BodyBytes, n)
		for i := 0; i < n; i += 16 {
			g.line("  %x", b[i:min(i+16, n)])
		}
		g.info("Use -O FILE or -b > FILE to save it")
		return
	}
	text := output.EscapeMultiline(string(b))
	io.WriteString(g.w, text)
	if !strings.HasSuffix(text, "\n") {
		io.WriteString(g.w, "\n")
		if !alone {
			g.info("(no newline at the end of the body)")
		}
	}
	if r.BodyCut {
		g.info("... %d more body bytes not shown (--show-max; -b or -O for all)", r.BodyBytes-int64(len(b)))
	}
}

func (g *getPrinter) timings(x *httpget.Exchange) {
	t := x.Timings
	type row struct {
		phase string
		d     float64
		curl  string
		at    float64
		skip  bool
	}
	start := t.StartTransfer
	if start == 0 {
		start = t.Total
	}
	rows := []row{
		{"dns lookup", t.NameLookup, "namelookup", t.NameLookup, false},
		{"tcp connect", t.Connect - t.NameLookup, "connect", t.Connect, x.Connection == nil || x.Connection.Remote == ""},
		{"tls handshake", t.AppConnect - t.Connect, "appconnect", t.AppConnect, x.TLS == nil},
		{"server", start - t.AppConnect, "starttransfer", start, t.StartTransfer == 0},
		{"transfer", t.Total - start, "total", t.Total, t.StartTransfer == 0},
	}
	g.line("%s", g.p.Paint(output.Bold, "Timings (ms)     phase   curl -w         from start"))
	const width = 30
	for _, r := range rows {
		if r.skip {
			g.line("  %-13s %8s   %-14s %9s", r.phase, "-", r.curl, "-")
			continue
		}
		n := 0
		if t.Total > 0 {
			n = int(r.d / t.Total * width)
		}
		bar := strings.Repeat("#", max(n, 0))
		if r.d > 0 && n == 0 {
			bar = "."
		}
		g.line("  %-13s %8.3f   %-14s %9.3f %s", r.phase, max(r.d, 0), r.curl, r.at, g.p.Paint(output.Cyan, "|"+bar))
	}
}
