// Package output is nettool's one formatter: text for people, one JSON
// document per run, or JSON Lines streamed as results arrive. It owns the
// colour and TTY policy and the escaping of untrusted bytes. Only cmd/nettool
// uses it; domain packages return typed results.
package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
)

// Format is an output format.
type Format int

const (
	Text  Format = iota // for people
	JSON                // one indented document per run
	JSONL               // one object per line, flushed as results arrive
)

// ParseFormat reads "text", "json" or "jsonl".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "text":
		return Text, nil
	case "json":
		return JSON, nil
	case "jsonl", "ndjson":
		return JSONL, nil
	}
	return Text, fmt.Errorf("unknown output format %q (want text, json or jsonl)", s)
}

func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case JSONL:
		return "jsonl"
	}
	return "text"
}

// Options configure a Printer.
type Options struct {
	Format Format
	Color  bool // colour in text mode; decide with ColorWanted
	Quiet  bool // drop Info chatter on stderr
	// Prom, when set, receives each Doc as JSON and returns what to write
	// to stdout in its place (-o prom: the Prometheus text format). The
	// Printer then acts as in JSON mode for the command.
	Prom func(doc []byte) ([]byte, error)
}

// Printer writes a command's results to stdout and its chatter to stderr. It
// is safe for concurrent use.
type Printer struct {
	mu     sync.Mutex
	out    io.Writer
	err    io.Writer
	opts   Options
	flush  func() error
	stdout *bufio.Writer
}

// New returns a Printer writing data to out and diagnostics to errw.
func New(out, errw io.Writer, opts Options) *Printer {
	bw := bufio.NewWriterSize(out, 64<<10)
	return &Printer{out: bw, err: errw, opts: opts, stdout: bw, flush: bw.Flush}
}

// Format reports the output format.
func (p *Printer) Format() Format { return p.opts.Format }

// IsText reports whether the output is for people.
func (p *Printer) IsText() bool { return p.opts.Format == Text }

// Color reports whether text output may use colour.
func (p *Printer) Color() bool { return p.opts.Color && p.opts.Format == Text }

// Quiet reports whether -q was given.
func (p *Printer) Quiet() bool { return p.opts.Quiet }

// Flush writes buffered stdout. Call it before exiting; Stream and Doc flush
// by themselves.
func (p *Printer) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.flush()
}

// Stream writes v as one JSON line in jsonl mode and flushes; in the other
// modes it does nothing. Use it for events (a ping reply, a scan hit).
func (p *Printer) Stream(v any) {
	if p.opts.Format != JSONL {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writeJSON(v, false)
	_ = p.flush()
}

// Doc writes the run's result v: indented in json mode, as one line in jsonl
// mode (usually the final summary), nothing in text mode.
func (p *Printer) Doc(v any) {
	if p.opts.Format == Text {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.opts.Prom != nil {
		p.writeProm(v)
		return
	}
	p.writeJSON(v, p.opts.Format == JSON)
	_ = p.flush()
}

func (p *Printer) writeProm(v any) {
	if m, ok := v.(map[string]any); ok {
		v = typeFirst(m)
	}
	b, err := json.Marshal(v)
	if err == nil {
		b, err = p.opts.Prom(b)
	}
	if err != nil {
		fmt.Fprintf(p.err, "nettool: %v\n", err)
		return
	}
	p.out.Write(b)
	_ = p.flush()
}

func (p *Printer) writeJSON(v any, indent bool) {
	if m, ok := v.(map[string]any); ok {
		v = typeFirst(m)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(p.err, "nettool: cannot encode JSON: %v\n", err)
		return
	}
	// A write error is the run's to report (see CheckedWriter), once.
	_, _ = jsonSafeWriter{p.out}.Write(b.Bytes())
}

// typeFirst orders a map's keys for JSON with "type" first, as every
// struct result has it, so `grep '^{"type":"x"'` works on any object; the
// other keys follow in sorted order.
type typeFirst map[string]any

func (m typeFirst) MarshalJSON() ([]byte, error) {
	marshal := func(v any) ([]byte, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(v)
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
	}
	t, ok := m["type"]
	if !ok {
		return marshal(map[string]any(m))
	}
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "type" {
			rest[k] = v
		}
	}
	head, err := marshal(map[string]any{"type": t})
	if err != nil || len(rest) == 0 {
		return head, err
	}
	tail, err := marshal(rest)
	if err != nil {
		return nil, err
	}
	return append(append(head[:len(head)-1], ','), tail[1:]...), nil
}

// Textf writes formatted text to stdout in text mode only. Arguments that
// came from the network must be escaped by the caller (Escape).
func (p *Printer) Textf(format string, args ...any) {
	if p.opts.Format != Text {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
}

// TextLine writes one line of text to stdout in text mode and flushes it, for
// results that stream (a ping reply) so a person sees them at once.
func (p *Printer) TextLine(format string, args ...any) {
	if p.opts.Format != Text {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, args...)
	io.WriteString(p.out, "\n")
	_ = p.flush()
}

// Table writes rows as aligned columns in text mode. Cells must already be
// escaped and must not carry colour codes (they would upset the widths).
func (p *Printer) Table(rows [][]string) {
	if p.opts.Format != Text || len(rows) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tw := tabwriter.NewWriter(p.out, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
}

// Info writes chatter to stderr (progress, per-target headers, hints),
// dropped with -q.
func (p *Printer) Info(format string, args ...any) {
	if p.opts.Quiet {
		return
	}
	p.Warn(format, args...)
}

// Warn writes a line to stderr even with -q (warnings about the peer).
func (p *Printer) Warn(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.flush() // keep stdout and stderr in order on a terminal
	fmt.Fprintf(p.err, format, args...)
	if !strings.HasSuffix(format, "\n") {
		io.WriteString(p.err, "\n")
	}
}

// Stdout returns the buffered stdout writer for output that is neither text
// lines nor JSON (a raw body to a pipe). Call Flush when done.
func (p *Printer) Stdout() io.Writer { return lockedWriter{p} }

// Stderr returns the diagnostics writer.
func (p *Printer) Stderr() io.Writer { return p.err }

type lockedWriter struct{ p *Printer }

func (l lockedWriter) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.p.out.Write(b)
}

// Style is a text colour or weight.
type Style string

const (
	Bold   Style = "1"
	Dim    Style = "2"
	Red    Style = "31"
	Green  Style = "32"
	Yellow Style = "33"
	Blue   Style = "34"
	Cyan   Style = "36"
)

// Paint wraps s in an ANSI style when colour is on, and returns s unchanged
// otherwise.
func (p *Printer) Paint(st Style, s string) string {
	if !p.Color() || s == "" {
		return s
	}
	return "\x1b[" + string(st) + "m" + s + "\x1b[0m"
}

// ColorWanted applies the colour policy: only on a terminal, never when
// NO_COLOR is set and non-empty, never with TERM=dumb, never with --no-color.
func ColorWanted(w io.Writer, noColorFlag bool, getenv func(string) string) bool {
	if noColorFlag || getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}
