package exporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nettool/nettool/probe/output"
)

// DefaultTimeoutOffset is taken off Prometheus's scrape timeout, so the
// answer reaches Prometheus before it gives up (blackbox's
// --timeout-offset).
const DefaultTimeoutOffset = 0.5

// graceAfterDeadline is how long past its deadline a probe may take to
// return before the scrape is answered without it.
const graceAfterDeadline = 100 * time.Millisecond

// Exporter serves /probe, /metrics and /-/reload.
type Exporter struct {
	File          string  // the module file
	TimeoutOffset float64 // seconds taken off the scrape timeout
	Log           io.Writer

	cfg   atomic.Pointer[Config]
	state state

	mu             sync.Mutex // serialises reloads
	reloadOK       atomic.Bool
	reloadTime     atomic.Int64 // unix seconds of the last successful load
	unknownModules atomic.Int64
	probes         sync.Map // "module\x00result" -> *atomic.Int64
	inFlight       atomic.Int64
	start          time.Time
}

// New loads file and returns an exporter serving it.
func New(file string) (*Exporter, error) {
	e := &Exporter{File: file, TimeoutOffset: DefaultTimeoutOffset, start: time.Now()}
	if err := e.Reload(); err != nil {
		return nil, err
	}
	return e, nil
}

// NewWithConfig serves an already loaded config (tests, one-shot use).
func NewWithConfig(c *Config) *Exporter {
	e := &Exporter{TimeoutOffset: DefaultTimeoutOffset, start: time.Now()}
	e.cfg.Store(c)
	e.reloadOK.Store(true)
	e.reloadTime.Store(time.Now().Unix())
	return e
}

// Reload reads the module file again; on error the old modules stay.
func (e *Exporter) Reload() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := LoadFile(e.File)
	if err != nil {
		e.reloadOK.Store(false)
		return err
	}
	e.cfg.Store(c)
	e.reloadOK.Store(true)
	e.reloadTime.Store(time.Now().Unix())
	return nil
}

// Config is the modules in force.
func (e *Exporter) Config() *Config { return e.cfg.Load() }

func (e *Exporter) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}

// ServeHTTP routes the exporter's endpoints.
func (e *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/probe":
		e.serveProbe(w, r)
	case "/metrics":
		e.serveMetrics(w)
	case "/-/reload":
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "This endpoint requires a POST request.", http.StatusMethodNotAllowed)
			return
		}
		if err := e.Reload(); err != nil {
			e.logf("nettool: serve metrics: reload failed: %v", err)
			http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
			return
		}
		e.logf("reloaded %s", e.File)
		io.WriteString(w, "OK\n")
	case "/-/healthy", "/-/ready":
		io.WriteString(w, "Healthy\n")
	case "/config":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		e.writeConfig(w)
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><head><title>nettool serve metrics</title></head><body><h1>nettool serve metrics</h1>"+
			"<p><a href=\"/probe?target=127.0.0.1&amp;module=icmp\">/probe?target=127.0.0.1&amp;module=icmp</a> (a module of your file)</p>"+
			"<p><a href=\"/metrics\">/metrics</a> &middot; <a href=\"/config\">/config</a></p></body></html>\n")
	default:
		http.NotFound(w, r)
	}
}

func (e *Exporter) writeConfig(w io.Writer) {
	c := e.Config()
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	io.WriteString(w, "modules:\n")
	for _, n := range names {
		fmt.Fprintf(w, "  %s:\n", n)
		io.WriteString(w, indent(moduleYAML(c.Modules[n]), "    "))
	}
}

func moduleYAML(m *Module) string {
	if m.src == nil {
		return ""
	}
	b, err := yaml.Marshal(m.src)
	if err != nil {
		return ""
	}
	return string(b)
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}

// scrapeTimeout is blackbox's rule: Prometheus's header (120 s without it)
// minus the offset, or the module's timeout when that is shorter.
func scrapeTimeout(r *http.Request, m *Module, offset float64) (float64, error) {
	t := 0.0
	if v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "" {
		var err error
		t, err = strconv.ParseFloat(v, 64)
		if err != nil || t < 0 || t != t {
			return 0, fmt.Errorf("bad X-Prometheus-Scrape-Timeout-Seconds %q", v)
		}
	}
	if t == 0 {
		t = 120
	}
	max := t - offset
	mt := time.Duration(m.Timeout).Seconds()
	if mt > 0 && mt < max || max < 0 {
		if mt > 0 {
			return mt, nil
		}
		return t, nil
	}
	return max, nil
}

func (e *Exporter) serveProbe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	modName := q.Get("module")
	if modName == "" {
		modName = "http_2xx"
	}
	c := e.Config()
	m, ok := c.Modules[modName]
	if !ok {
		e.unknownModules.Add(1)
		http.Error(w, fmt.Sprintf("Unknown module %q", modName), http.StatusBadRequest)
		return
	}
	target := q.Get("target")
	if target == "" {
		http.Error(w, "Target parameter is missing", http.StatusBadRequest)
		return
	}
	if len(target) > 2048 || strings.ContainsAny(target, "\x00\r\n\t ") {
		http.Error(w, fmt.Sprintf("Bad target %q: control characters, spaces or over 2048 bytes", target), http.StatusBadRequest)
		return
	}
	if msg := checkTarget(m.Prober, target, m); msg != "" {
		http.Error(w, fmt.Sprintf("Bad target %q for prober %s: %s", target, m.Prober, msg), http.StatusBadRequest)
		return
	}
	timeout, err := scrapeTimeout(r, m, e.TimeoutOffset)
	if err != nil {
		http.Error(w, fmt.Sprintf("Failed to parse timeout from Prometheus header: %s", err), http.StatusBadRequest)
		return
	}
	reg, log, success := e.Probe(r.Context(), target, m, time.Duration(timeout*float64(time.Second)))
	e.count(modName, success)
	if q.Get("debug") == "true" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Logs for the probe:\n")
		io.WriteString(w, log)
		io.WriteString(w, "\n\n\nMetrics that would have been returned:\n")
		reg.WriteText(w)
		io.WriteString(w, "\n\n\nModule configuration:\n")
		io.WriteString(w, moduleYAML(m))
		return
	}
	if e.Log != nil && !success {
		e.logf("probe failed: module=%s target=%s", modName, output.Escape(target))
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	reg.WriteText(w)
}

// Probe runs one probe with a deadline and returns its metrics (with
// probe_success and probe_duration_seconds), its log and its verdict. A
// probe that has not returned shortly after the deadline is answered for
// without it: probe_success 0.
func (e *Exporter) Probe(ctx context.Context, target string, m *Module, timeout time.Duration) (*Registry, string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s := &Scrape{Reg: NewRegistry(), Log: &Log{}, state: &e.state}
	s.Log.Debug("Beginning probe", "probe", m.Prober, "timeout_seconds", timeout.Seconds())
	start := time.Now()
	done := make(chan bool, 1)
	e.inFlight.Add(1)
	go func() {
		defer e.inFlight.Add(-1)
		done <- Probers[m.Prober](ctx, target, m, s)
	}()
	var success, finished bool
	t := time.NewTimer(timeout + graceAfterDeadline)
	defer t.Stop()
	select {
	case success = <-done:
		finished = true
	case <-t.C:
	}
	out := NewRegistry()
	if finished {
		out = s.Reg
	} else {
		s.Log.Error("Probe did not end at its deadline; answered without it")
	}
	dur := time.Since(start).Seconds()
	out.Set("probe_success", "Displays whether or not the probe was a success", b2f(success))
	out.Set("probe_duration_seconds", "Returns how long the probe took to complete in seconds", dur)
	out.Set("probe_timeout_seconds", "Returns how long the probe timeout is in seconds", timeout.Seconds())
	if success {
		s.Log.Debug("Probe succeeded", "duration_seconds", dur)
	} else {
		s.Log.Error("Probe failed", "duration_seconds", dur)
	}
	return out, s.Log.String(), success
}

func (e *Exporter) count(module string, ok bool) {
	res := "failure"
	if ok {
		res = "success"
	}
	key := module + "\x00" + res
	v, _ := e.probes.Load(key)
	if v == nil {
		v, _ = e.probes.LoadOrStore(key, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

func (e *Exporter) serveMetrics(w http.ResponseWriter) {
	reg := NewRegistry()
	reg.Set("nettool_exporter_config_last_reload_successful", "Whether the last module file reload succeeded", b2f(e.reloadOK.Load()))
	reg.Set("nettool_exporter_config_last_reload_success_timestamp_seconds", "When the module file was last loaded", float64(e.reloadTime.Load()))
	// blackbox's names too, so its dashboards and alerts keep working.
	reg.Set("blackbox_exporter_config_last_reload_successful", "Blackbox exporter config loaded successfully", b2f(e.reloadOK.Load()))
	reg.Set("blackbox_exporter_config_last_reload_success_timestamp_seconds", "Timestamp of the last successful configuration reload", float64(e.reloadTime.Load()))
	reg.Counter("blackbox_module_unknown_total", "Count of unknown modules requested by probes", float64(e.unknownModules.Load()))
	reg.Set("nettool_exporter_probes_in_flight", "Probes running now (including any past their deadline)", float64(e.inFlight.Load()))
	e.probes.Range(func(k, v any) bool {
		mod, res, _ := strings.Cut(k.(string), "\x00")
		reg.Counter("nettool_exporter_probes_total", "Probes run, by module and result", float64(v.(*atomic.Int64).Load()), Label{"module", mod}, Label{"result", res})
		return true
	})
	reg.Set("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	reg.Set("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", float64(ms.HeapInuse))
	reg.Set("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", float64(e.start.Unix()))
	if cpu, rss, ok := procStat(); ok {
		reg.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu)
		reg.Set("process_resident_memory_bytes", "Resident memory size in bytes.", rss)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	reg.WriteText(w)
}

// procStat reads this process's CPU seconds and RSS from /proc (Linux).
func procStat() (cpu, rss float64, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 22 {
		return 0, 0, false
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	pages, _ := strconv.ParseFloat(f[21], 64)
	const hz = 100 // USER_HZ on Linux
	return (ut + st) / hz, pages * float64(os.Getpagesize()), true
}
