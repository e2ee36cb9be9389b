package resolve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/nettool/nettool/probe"
)

// DefaultResolvConf is where the system's resolver configuration lives.
const DefaultResolvConf = "/etc/resolv.conf"

// ResolvConf is what nettool takes from resolv.conf: the servers, the search
// list and ndots, as glibc's resolver reads them.
type ResolvConf struct {
	Servers []Server
	Search  []string // fully qualified suffixes, in order
	Ndots   int
	Skipped []SkippedServer // nameserver lines that were not usable addresses
	// Truncated: the file was longer than maxResolvConf and the rest was
	// not read.
	Truncated bool
}

// SkippedServer is a nameserver line that names no usable server.
type SkippedServer struct {
	Line int    // 1-based line number
	Text string // the address as written
	Why  string // what is wrong with it
}

func (s SkippedServer) String() string {
	if s.Text == "" {
		return fmt.Sprintf("%d: nameserver: %s", s.Line, s.Why)
	}
	return fmt.Sprintf("%d: nameserver %s: %s", s.Line, s.Text, s.Why)
}

// skipReason says why a nameserver address is not usable.
func skipReason(a string) string {
	if rest, ok := strings.CutPrefix(a, "["); ok {
		host, _, ok := strings.Cut(rest, "]")
		if !ok {
			return "want [ADDRESS]:PORT"
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Sprintf("%q is not an IP address", host)
		}
		return "want [ADDRESS]:PORT with a port 1-65535"
	}
	if host, port, err := net.SplitHostPort(a); err == nil {
		if _, err := netip.ParseAddr(host); err == nil {
			return fmt.Sprintf("a port is written [%s]:%s here (OpenBSD form; glibc takes no port)", host, port)
		}
	}
	return "not an IP address (resolv.conf names servers by address)"
}

// maxResolvConf caps how much of the file is read.
const maxResolvConf = 64 << 10

// ParseResolvConf reads resolv.conf syntax: "nameserver ADDR" (every one, in
// order; OpenBSD's "nameserver [ADDR]:PORT" names a port), "search D..." and "domain D" (the last of them wins, as in glibc),
// "options ndots:N" (capped at 15). Unknown lines are ignored.
func ParseResolvConf(r io.Reader) ResolvConf {
	c := ResolvConf{Ndots: 1}
	// Lines longer than the buffer (a long comment) are skipped, not the
	// end of the file: the lines after them still count. Past the cap the
	// rest is ignored and Truncated says so.
	br := bufio.NewReaderSize(io.LimitReader(r, maxResolvConf+1), 4096)
	total := 0
	lineNo := 0
	for {
		b, err := br.ReadSlice('\n')
		lineNo++
		total += len(b)
		long := false
		for errors.Is(err, bufio.ErrBufferFull) {
			long = true
			b, err = br.ReadSlice('\n')
			total += len(b)
		}
		if total > maxResolvConf {
			c.Truncated = true
			break
		}
		if long {
			if err != nil {
				break
			}
			continue
		}
		if len(b) == 0 && err != nil {
			break
		}
		line := string(b)
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				c.Skipped = append(c.Skipped, SkippedServer{Line: lineNo, Why: "no address"})
				continue
			}
			skip := func() { c.Skipped = append(c.Skipped, SkippedServer{Line: lineNo, Text: f[1], Why: skipReason(f[1])}) }
			if strings.HasPrefix(f[1], "[") {
				// OpenBSD's form with a port: [addr]:port
				hp, err := probe.ParseHostPort(f[1], 53)
				if err != nil {
					skip()
					continue
				}
				if _, err := netip.ParseAddr(hp.Host); err != nil {
					skip()
					continue
				}
				c.Servers = append(c.Servers, Server{Transport: UDP, Host: hp.Host, Port: hp.Port})
				continue
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				skip()
				continue
			}
			c.Servers = append(c.Servers, Server{Transport: UDP, Host: a.String(), Port: 53})
		case "domain":
			if len(f) >= 2 {
				c.Search = searchList(f[1:2])
			}
		case "search":
			c.Search = searchList(f[1:])
		case "options":
			for _, o := range f[1:] {
				if v, ok := strings.CutPrefix(o, "ndots:"); ok {
					if n, err := strconv.Atoi(v); err == nil && n >= 0 {
						c.Ndots = min(n, 15)
					}
				}
			}
		}
	}
	return c
}

func searchList(domains []string) []string {
	var out []string
	for _, d := range domains {
		d = strings.TrimSuffix(d, ".")
		if d == "" || CheckName(d) != nil {
			continue // "search ." and junk add nothing (doggo #239 made "name..")
		}
		out = append(out, d+".")
	}
	return out
}

// Candidates lists the names the system resolver tries for name, in order: a
// name ending in "." is tried as is; a name with at least ndots dots is tried
// as is first and then with each search suffix; a shorter one with each
// suffix first and as is last.
func (c ResolvConf) Candidates(name string) []string {
	if strings.HasSuffix(name, ".") {
		return []string{name}
	}
	abs := name + "."
	if len(c.Search) == 0 {
		return []string{abs}
	}
	with := make([]string, 0, len(c.Search))
	for _, s := range c.Search {
		cand := name + "." + s
		if CheckName(cand) == nil {
			with = append(with, cand)
		}
	}
	if strings.Count(name, ".") >= c.Ndots {
		return append([]string{abs}, with...)
	}
	return append(with, abs)
}
