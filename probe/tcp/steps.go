package tcp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"time"

	"github.com/nettool/nettool/probe/output"
)

// Step is one move of a scripted conversation: wait for a line matching
// Expect, write Send, or start TLS on the connection (STARTTLS). A step may
// do several, in that order.
type Step struct {
	Expect *regexp.Regexp
	Send   []byte
	// ExpandSend treats Send as a template of the line Expect matched:
	// ${1} or $name are its groups (regexp.Expand).
	ExpandSend bool
	StartTLS   *TLSOptions
}

// StepResult is what one step saw.
type StepResult struct {
	Type    string `json:"type"` // "tcp_step"
	Expect  string `json:"expect,omitempty"`
	Matched bool   `json:"matched"`
	Line    string `json:"line,omitempty"` // the matching line, escaped
	Sent    *Data  `json:"sent,omitempty"`
	TLS     bool   `json:"starttls,omitempty"`
}

// ErrNoMatch is returned when the peer ended (or the deadline came) before
// a line matched a step's expectation.
var ErrNoMatch = errors.New("no line matched the expected pattern")

// maxLine caps one line of a scripted conversation.
const maxLine = 64 << 10

// lineReader reads lines without letting a peer that never sends a newline
// grow the buffer past maxLine.
type lineReader struct {
	r *bufio.Reader
}

func (l *lineReader) line() (string, error) {
	var buf []byte
	for {
		frag, err := l.r.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > maxLine {
			return "", fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if len(buf) > 0 {
				return string(buf), nil
			}
			return "", err
		}
		return string(buf), nil
	}
}

func runSteps(conn net.Conn, g *deadlines, addr netip.AddrPort, at *Attempt, o Options) error {
	lr := &lineReader{bufio.NewReader(conn)}
	for _, st := range o.Steps {
		res := StepResult{Type: "tcp_step"}
		send := st.Send
		if st.Expect != nil {
			res.Expect = st.Expect.String()
			g.set(time.Now().Add(o.ReadTimeout))
			for {
				line, err := lr.line()
				if err != nil {
					at.Steps = append(at.Steps, res)
					return fmt.Errorf("%w %q: %v", ErrNoMatch, st.Expect.String(), err)
				}
				l := trimEOL(line)
				if m := st.Expect.FindStringSubmatchIndex(l); m != nil {
					res.Matched, res.Line = true, output.Escape(l)
					if st.ExpandSend && send != nil {
						send = st.Expect.ExpandString(nil, string(send), l, m)
					}
					break
				}
			}
		}
		if send != nil {
			g.set(time.Now().Add(o.ReadTimeout))
			n, err := conn.Write(send)
			res.Sent = &Data{Bytes: n, Text: output.EscapeBytes(send[:n])}
			if err != nil {
				at.Steps = append(at.Steps, res)
				return err
			}
		}
		if st.StartTLS != nil {
			res.TLS = true
			info, tconn, err := handshake(conn, g, addr, o.Host, *st.StartTLS, o.ReadTimeout)
			at.TLS = info
			if err != nil {
				at.Steps = append(at.Steps, res)
				return err
			}
			conn = tconn
			lr = &lineReader{bufio.NewReader(conn)}
		}
		at.Steps = append(at.Steps, res)
	}
	return nil
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
