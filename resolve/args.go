package resolve

import (
	"strconv"
	"strings"
	"time"

	"github.com/nettool/nettool/probe"
)

// Args is a dig/doggo-style command line, sorted out: names, types, a class,
// @servers and +options, given in any order.
type Args struct {
	Names   []string
	Types   []uint16
	Class   uint16 // 0: not given
	Servers []Server
	Plus    Plus
}

// Plus holds the dig-style +options that were given. A nil pointer (or zero
// value) means not given, so flags and +options can be merged.
type Plus struct {
	Short   *bool
	TCP     *bool
	DNSSEC  *bool
	NSID    *bool
	NoRD    *bool
	CD      *bool
	NoAD    *bool
	Search  *bool
	JSON    *bool
	Timeout time.Duration
	Tries   int // 0: not given
	Subnet  string
	BufSize int
	Ndots   int // -1: not given
	// Trace and QMin: +trace (iterative from the root) and +qmin (RFC 9156).
	Trace *bool
	QMin  *bool
}

// ParseArgs sorts positional arguments. A word is a type only when it is
// exactly a type name ("MX", "mx", "TYPE65"): "ns1" is a name (dog #38). A
// name that is also a type name can be given with a trailing dot ("a.").
func ParseArgs(args []string) (Args, error) {
	a := Args{Plus: Plus{Ndots: -1}}
	for _, w := range args {
		switch {
		case strings.HasPrefix(w, "@"):
			s, err := ParseServer(w)
			if err != nil {
				return Args{}, err
			}
			a.Servers = append(a.Servers, s)
		case strings.HasPrefix(w, "+"):
			if err := a.Plus.parse(w); err != nil {
				return Args{}, err
			}
		default:
			if t, ok := ParseType(w); ok {
				a.Types = append(a.Types, t)
				continue
			}
			if c, ok := ParseClass(w); ok {
				if a.Class != 0 && a.Class != c {
					return Args{}, probe.Usagef("two classes given: %s and %s", ClassString(a.Class), ClassString(c))
				}
				a.Class = c
				continue
			}
			if _, err := QueryName(w); err != nil {
				return Args{}, err
			}
			a.Names = append(a.Names, w)
		}
	}
	return a, nil
}

func boolp(b bool) *bool { return &b }

func (p *Plus) parse(w string) error {
	opt := strings.ToLower(strings.TrimPrefix(w, "+"))
	name, val, hasVal := strings.Cut(opt, "=")
	neg := false
	if n, ok := strings.CutPrefix(name, "no"); ok && n != "" && n != "nsid" {
		neg, name = true, n
	} else if name == "nonsid" {
		neg, name = true, "nsid"
	}
	needVal := func() error {
		if !hasVal || val == "" || neg {
			return probe.Usagef("option %s needs a value (+%s=N)", w, name)
		}
		return nil
	}
	switch name {
	case "short":
		p.Short = boolp(!neg)
	case "tcp", "vc":
		p.TCP = boolp(!neg)
	case "dnssec", "do":
		p.DNSSEC = boolp(!neg)
	case "nsid":
		p.NSID = boolp(!neg)
	case "rec", "recurse":
		p.NoRD = boolp(neg)
	case "cd", "cdflag":
		p.CD = boolp(!neg)
	case "ad", "adflag":
		p.NoAD = boolp(neg)
	case "search":
		p.Search = boolp(!neg)
	case "json":
		p.JSON = boolp(!neg)
	case "trace":
		p.Trace = boolp(!neg)
	case "qmin":
		p.QMin = boolp(!neg)
	case "time", "timeout":
		if err := needVal(); err != nil {
			return err
		}
		d, err := parseSeconds(val)
		if err != nil {
			return probe.Usagef("bad %s: %v", w, err)
		}
		p.Timeout = d
	case "tries", "retry":
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 100 {
			return probe.Usagef("bad %s: want a number 0-100", w)
		}
		if name == "retry" {
			n++
		}
		if n < 1 {
			n = 1
		}
		p.Tries = n
	case "subnet":
		if err := needVal(); err != nil {
			return err
		}
		if err := CheckSubnet(val); err != nil {
			return err
		}
		p.Subnet = val
	case "bufsize":
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 512 || n > 65535 {
			return probe.Usagef("bad %s: want 512-65535", w)
		}
		p.BufSize = n
	case "ndots":
		if err := needVal(); err != nil {
			return err
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 15 {
			return probe.Usagef("bad %s: want 0-15", w)
		}
		p.Ndots = n
	default:
		return probe.Usagef("unknown option %s (known: +short +tcp +dnssec +nsid +[no]rec +[no]cdflag +[no]adflag +[no]search +json +timeout=S +tries=N +retry=N +subnet=NET +bufsize=N +ndots=N +trace +qmin)", w)
	}
	if hasVal && !(name == "time" || name == "timeout" || name == "tries" || name == "retry" || name == "subnet" || name == "bufsize" || name == "ndots") {
		return probe.Usagef("option %s takes no value", w)
	}
	return nil
}

// parseSeconds reads "5" (seconds, as dig) or a Go duration ("500ms").
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 3600 {
			return 0, probe.Usagef("want 1-3600 seconds")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > time.Hour {
		return 0, probe.Usagef("want seconds or a duration such as 500ms")
	}
	return d, nil
}
