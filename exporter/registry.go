package exporter

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds the metrics of one probe (or of the exporter itself) and
// writes them in the Prometheus text exposition format 0.0.4, the format
// blackbox_exporter answers with. It is a few gauges and counters with at
// most a handful of labels: a small writer does it with one allocation per
// series, where client_golang builds descriptors, collectors and a protobuf
// per metric on every scrape.
type Registry struct {
	mu   sync.Mutex
	fams map[string]*family
}

// Label is one label pair.
type Label struct{ Name, Value string }

type family struct {
	name, help, typ string
	series          []series
}

type series struct {
	labels []Label
	value  float64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{fams: map[string]*family{}} }

func (r *Registry) fam(name, help, typ string) *family {
	f := r.fams[name]
	if f == nil {
		f = &family{name: name, help: help, typ: typ}
		r.fams[name] = f
	}
	return f
}

func sameLabels(a, b []Label) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (r *Registry) put(name, help, typ string, v float64, add bool, labels []Label) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fam(name, help, typ)
	for i := range f.series {
		if sameLabels(f.series[i].labels, labels) {
			if add {
				f.series[i].value += v
			} else {
				f.series[i].value = v
			}
			return
		}
	}
	f.series = append(f.series, series{labels: append([]Label(nil), labels...), value: v})
}

// Set sets a gauge.
func (r *Registry) Set(name, help string, v float64, labels ...Label) {
	r.put(name, help, "gauge", v, false, labels)
}

// Add adds to a gauge (phases summed over redirects).
func (r *Registry) Add(name, help string, v float64, labels ...Label) {
	r.put(name, help, "gauge", v, true, labels)
}

// Counter sets a counter's value.
func (r *Registry) Counter(name, help string, v float64, labels ...Label) {
	r.put(name, help, "counter", v, false, labels)
}

// Has reports whether a family was registered.
func (r *Registry) Has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fams[name] != nil
}

// Value returns the value of a series (tests and -o prom).
func (r *Registry) Value(name string, labels ...Label) (float64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.fams[name]
	if f == nil {
		return 0, false
	}
	for _, s := range f.series {
		if sameLabels(s.labels, labels) {
			return s.value, true
		}
	}
	return 0, false
}

// Names lists the families, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.fams))
	for n := range r.fams {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Merge copies every series of o into r.
func (r *Registry) Merge(o *Registry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.fams {
		for _, s := range f.series {
			r.put(f.name, f.help, f.typ, s.value, false, s.labels)
		}
	}
}

// WriteText writes the registry in the text format, families sorted by name
// and series by labels, as client_golang does.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.fams))
	for n := range r.fams {
		names = append(names, n)
	}
	sort.Strings(names)
	bw := bufio.NewWriterSize(w, 4096)
	for _, n := range names {
		f := r.fams[n]
		ss := append([]series(nil), f.series...)
		sort.SliceStable(ss, func(i, j int) bool { return labelKey(ss[i].labels) < labelKey(ss[j].labels) })
		bw.WriteString("# HELP ")
		bw.WriteString(f.name)
		bw.WriteByte(' ')
		bw.WriteString(escapeHelp(f.help))
		bw.WriteString("\n# TYPE ")
		bw.WriteString(f.name)
		bw.WriteByte(' ')
		bw.WriteString(f.typ)
		bw.WriteByte('\n')
		for _, s := range ss {
			bw.WriteString(f.name)
			if len(s.labels) > 0 {
				bw.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.Name)
					bw.WriteString(`="`)
					bw.WriteString(escapeLabel(l.Value))
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatFloat(s.value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

func labelKey(ls []Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(0)
	}
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// escapeLabel escapes a label value; invalid UTF-8 (bytes from the network)
// becomes U+FFFD so the exposition stays valid.
func escapeLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return labelEscaper.Replace(s)
}
