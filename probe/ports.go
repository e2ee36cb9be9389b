package probe

import (
	"strconv"
	"strings"
)

// PortList is a set of TCP/UDP ports parsed from a list such as
// "22,80,8000-8100". It keeps the ports in ascending order, each once.
type PortList struct {
	ranges [][2]uint16 // sorted, non-overlapping, non-adjacent
	n      int
}

// maxPortListLen bounds the text a port list may have; 65535 ports written
// one by one fit comfortably.
const maxPortListLen = 1 << 20

// ParsePortList parses a port list as nmap and nc write it: comma-separated
// ports and ranges ("22,80,8000-8100"), open-ended ranges ("-1024" is
// 1-1024, "60000-" is 60000-65535) and "-" alone for every port 1-65535.
// Spaces around items are allowed. Every problem is a *UsageError naming the
// bad item.
func ParsePortList(s string) (PortList, error) {
	if len(s) > maxPortListLen {
		return PortList{}, Usagef("port list too long (%d bytes)", len(s))
	}
	if strings.TrimSpace(s) == "" {
		return PortList{}, Usagef("empty port list")
	}
	var rs [][2]uint16
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return PortList{}, Usagef("bad port list %q: empty item", clip(s))
		}
		lo, hi, err := parsePortItem(item)
		if err != nil {
			return PortList{}, err
		}
		rs = append(rs, [2]uint16{lo, hi})
	}
	return newPortList(rs), nil
}

func parsePortItem(item string) (uint16, uint16, error) {
	if item == "-" {
		return 1, 65535, nil
	}
	i := strings.IndexByte(item, '-')
	if i < 0 {
		p, err := portNumber(item)
		return p, p, err
	}
	loS, hiS := strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
	lo, hi := uint16(1), uint16(65535)
	var err error
	if loS != "" {
		if lo, err = portNumber(loS); err != nil {
			return 0, 0, err
		}
	}
	if hiS != "" {
		if hi, err = portNumber(hiS); err != nil {
			return 0, 0, err
		}
	}
	if lo > hi {
		return 0, 0, Usagef("bad port range %q: %d is above %d", clip(item), lo, hi)
	}
	return lo, hi, nil
}

func portNumber(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, Usagef("bad port %q (want 1-65535)", clip(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, Usagef("bad port %q (want 1-65535)", clip(s))
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, Usagef("bad port %q (want 1-65535)", clip(s))
	}
	return uint16(n), nil
}

// clip keeps a user string short in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func newPortList(rs [][2]uint16) PortList {
	// Insertion-free merge: sort by start, then fold overlaps.
	sortRanges(rs)
	var out [][2]uint16
	for _, r := range rs {
		if k := len(out); k > 0 && int(r[0]) <= int(out[k-1][1])+1 {
			if r[1] > out[k-1][1] {
				out[k-1][1] = r[1]
			}
			continue
		}
		out = append(out, r)
	}
	n := 0
	for _, r := range out {
		n += int(r[1]) - int(r[0]) + 1
	}
	return PortList{ranges: out, n: n}
}

func sortRanges(rs [][2]uint16) {
	// Shell sort is plenty for the handful of items a person types, and
	// stays O(n log^2 n) for a pasted list of thousands.
	for gap := len(rs) / 2; gap > 0; gap /= 2 {
		for i := gap; i < len(rs); i++ {
			for j := i; j >= gap && rs[j-gap][0] > rs[j][0]; j -= gap {
				rs[j], rs[j-gap] = rs[j-gap], rs[j]
			}
		}
	}
}

// Len is the number of ports in the list.
func (l PortList) Len() int { return l.n }

// At returns the i-th port in ascending order (0 <= i < Len).
func (l PortList) At(i int) int {
	for _, r := range l.ranges {
		size := int(r[1]) - int(r[0]) + 1
		if i < size {
			return int(r[0]) + i
		}
		i -= size
	}
	panic("probe: PortList index out of range")
}

// Ports returns every port in ascending order.
func (l PortList) Ports() []int {
	out := make([]int, 0, l.n)
	for _, r := range l.ranges {
		for p := int(r[0]); p <= int(r[1]); p++ {
			out = append(out, p)
		}
	}
	return out
}

// String renders the list in its canonical form: "22,80,8000-8100".
func (l PortList) String() string {
	var b strings.Builder
	for i, r := range l.ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(r[0])))
		if r[1] != r[0] {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(r[1])))
		}
	}
	return b.String()
}
