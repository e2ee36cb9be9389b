package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nettool/nettool/exporter"
	"github.com/nettool/nettool/probe"
)

// promCommands take -o prom.
var promCommands = map[string]bool{"ping": true, "tcp": true, "get": true, "resolve": true}

// promOutput reads -o prom and -o prom=FILE. It returns nil for any other
// output format. The command then runs as with --json, and its document
// becomes Prometheus text: on stdout, or written to FILE atomically
// (a temporary file in the same directory, renamed over FILE), which is
// what node_exporter's textfile collector needs.
func (e *appEnv) promOutput(c *cli.Context, name string) (func([]byte) ([]byte, error), error) {
	format, file, hasFile := strings.Cut(name, "=")
	switch strings.ToLower(format) {
	case "prom", "prometheus", "openmetrics":
	default:
		return nil, nil
	}
	cmd := c.Command.Name
	if !promCommands[cmd] {
		return nil, usageErrorf("-o prom is for ping, tcp, get and resolve, not %s", cmd)
	}
	if hasFile && file == "" {
		return nil, usageErrorf("-o prom=FILE needs a file name")
	}
	if hasFile {
		if fi, err := os.Stat(file); err == nil && !fi.Mode().IsRegular() {
			return nil, usageErrorf("-o prom=%s: not a regular file (the file is replaced by a rename)", file)
		}
	}
	return func(doc []byte) ([]byte, error) {
		// Errors go to the command's exit code and its one error line.
		text, err := promFromDoc(doc)
		if err != nil {
			e.promErr = usageErrorf("%v", err)
			return nil, nil
		}
		if !hasFile {
			return text, nil
		}
		if err := writeAtomic(file, text); err != nil {
			e.promErr = probe.Localf("-o prom: %v", err)
		}
		return nil, nil
	}, nil
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// The documents' fields, as their JSON schemas define them.
type promPingHost struct {
	Target      string   `json:"target"`
	Addr        string   `json:"addr"`
	OK          bool     `json:"ok"`
	ElapsedMS   float64  `json:"elapsed_ms"`
	Transmitted int      `json:"transmitted"`
	Received    int      `json:"received"`
	Duplicates  int      `json:"duplicates"`
	Loss        *float64 `json:"loss_percent"`
	Min         float64  `json:"rtt_min_ms"`
	Avg         float64  `json:"rtt_avg_ms"`
	Max         float64  `json:"rtt_max_ms"`
	Mdev        float64  `json:"rtt_mdev_ms"`
}

type promTCPSummary struct {
	Target    string   `json:"target"`
	Address   string   `json:"address"`
	OK        bool     `json:"ok"`
	ElapsedMS float64  `json:"elapsed_ms"`
	Attempts  int      `json:"attempts"`
	Connected int      `json:"connected"`
	Loss      *float64 `json:"loss_percent"`
	Min       float64  `json:"rtt_min_ms"`
	Avg       float64  `json:"rtt_avg_ms"`
	Max       float64  `json:"rtt_max_ms"`
	Mdev      float64  `json:"rtt_mdev_ms"`
}

type promHop struct {
	Timings struct {
		NameLookup    float64 `json:"namelookup_ms"`
		Connect       float64 `json:"connect_ms"`
		AppConnect    float64 `json:"appconnect_ms"`
		StartTransfer float64 `json:"starttransfer_ms"`
		Total         float64 `json:"total_ms"`
	} `json:"timings"`
	TLS *struct {
		Version string `json:"version"`
	} `json:"tls"`
	Response *struct {
		Version       string `json:"http_version"`
		ContentLength int64  `json:"content_length"`
		BodyBytes     int64  `json:"body_bytes"`
		Complete      bool   `json:"complete"`
	} `json:"response"`
}

type promDNS struct {
	OK       bool `json:"ok"`
	Question struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"question"`
	Server     string            `json:"server"`
	Rcode      string            `json:"rcode"`
	RTTMS      float64           `json:"rtt_ms"`
	ElapsedMS  float64           `json:"elapsed_ms"`
	Answer     []json.RawMessage `json:"answer"`
	Authority  []json.RawMessage `json:"authority"`
	Additional []json.RawMessage `json:"additional"`
}

const (
	helpSuccess  = "Displays whether or not the probe was a success"
	helpDuration = "Returns how long the probe took to complete in seconds"
)

// ms turns a *_ms figure into seconds, rounded to the nanosecond so that
// differences of timings show no float noise.
func ms(v float64) float64 { return math.Round(v*1e6) / 1e9 }

// promFromDoc turns a command's --json document into metrics, one series
// per target (the target label: a textfile has no relabelling to add it).
func promFromDoc(doc []byte) ([]byte, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	reg := exporter.NewRegistry()
	switch head.Type {
	case "ping":
		var d struct {
			Hosts []promPingHost `json:"hosts"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		for _, h := range d.Hosts {
			l := []exporter.Label{{Name: "target", Value: h.Target}, {Name: "address", Value: h.Addr}}
			reg.Set("probe_success", helpSuccess, b2f(h.OK), l...)
			reg.Set("probe_duration_seconds", helpDuration, ms(h.ElapsedMS), l...)
			reg.Set("nettool_ping_packets_transmitted", "Echo requests sent", float64(h.Transmitted), l...)
			reg.Set("nettool_ping_packets_received", "Echo replies received in time (duplicates not counted)", float64(h.Received), l...)
			reg.Set("nettool_ping_packets_duplicate", "Duplicate echo replies", float64(h.Duplicates), l...)
			if h.Loss != nil {
				reg.Set("nettool_ping_loss_ratio", "Lost probes over probes whose fate is known (0 to 1)", *h.Loss/100, l...)
			}
			if h.Received > 0 {
				for _, st := range []struct {
					n string
					v float64
				}{{"min", h.Min}, {"avg", h.Avg}, {"max", h.Max}, {"mdev", h.Mdev}} {
					reg.Set("nettool_ping_rtt_seconds", "Round-trip time of the replies (min, avg, max, mdev)", ms(st.v), append(l, exporter.Label{Name: "stat", Value: st.n})...)
				}
			}
		}
	case "tcp_connect":
		var d struct {
			Results []promTCPSummary `json:"results"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		for _, r := range d.Results {
			l := []exporter.Label{{Name: "target", Value: r.Target}, {Name: "address", Value: r.Address}}
			reg.Set("probe_success", helpSuccess, b2f(r.OK), l...)
			reg.Set("probe_duration_seconds", helpDuration, ms(r.ElapsedMS), l...)
			reg.Set("nettool_tcp_attempts", "Connection attempts", float64(r.Attempts), l...)
			reg.Set("nettool_tcp_connected", "Attempts that connected", float64(r.Connected), l...)
			if r.Connected > 0 {
				for _, st := range []struct {
					n string
					v float64
				}{{"min", r.Min}, {"avg", r.Avg}, {"max", r.Max}, {"mdev", r.Mdev}} {
					reg.Set("nettool_tcp_connect_seconds", "Connect time of the attempts that connected (min, avg, max, mdev)", ms(st.v), append(l, exporter.Label{Name: "stat", Value: st.n})...)
				}
			}
		}
	case "http":
		var d struct {
			Target    string    `json:"target"`
			OK        bool      `json:"ok"`
			Status    int       `json:"status"`
			Redirects int       `json:"num_redirects"`
			ElapsedMS float64   `json:"elapsed_ms"`
			Hops      []promHop `json:"hops"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		l := []exporter.Label{{Name: "target", Value: d.Target}}
		reg.Set("probe_success", helpSuccess, b2f(d.OK && d.Status > 0), l...)
		reg.Set("probe_duration_seconds", helpDuration, ms(d.ElapsedMS), l...)
		reg.Set("probe_http_status_code", "Response HTTP status code", float64(d.Status), l...)
		reg.Set("probe_http_redirects", "The number of redirects", float64(d.Redirects), l...)
		phase := func(p string, v float64) {
			reg.Add("probe_http_duration_seconds", "Duration of http request by phase, summed over all redirects", ms(v), append(l, exporter.Label{Name: "phase", Value: p})...)
		}
		for _, h := range d.Hops {
			tm := h.Timings
			phase("resolve", tm.NameLookup)
			if tm.Connect == 0 {
				continue
			}
			phase("connect", tm.Connect-tm.NameLookup)
			phase("tls", tm.AppConnect-tm.Connect)
			if tm.StartTransfer > 0 {
				phase("processing", tm.StartTransfer-tm.AppConnect)
				phase("transfer", tm.Total-tm.StartTransfer)
			}
		}
		if n := len(d.Hops); n > 0 {
			last := d.Hops[n-1]
			reg.Set("probe_http_ssl", "Indicates if SSL was used for the final redirect", b2f(last.TLS != nil), l...)
			if last.Response != nil {
				reg.Set("probe_http_content_length", "Length of http content response", float64(last.Response.ContentLength), l...)
				reg.Set("probe_http_uncompressed_body_length", "Length of uncompressed response body", float64(last.Response.BodyBytes), l...)
				var v float64
				fmt.Sscanf(strings.TrimPrefix(last.Response.Version, "HTTP/"), "%g", &v)
				reg.Set("probe_http_version", "Returns the version of HTTP of the probe response", v, l...)
			}
			if last.TLS != nil && last.TLS.Version != "" {
				reg.Set("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", 1, append(l, exporter.Label{Name: "version", Value: last.TLS.Version})...)
			}
		}
	case "resolve":
		var d struct {
			Results []promDNS `json:"results"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			return nil, err
		}
		for _, r := range d.Results {
			l := []exporter.Label{{Name: "target", Value: r.Question.Name}, {Name: "type", Value: r.Question.Type}, {Name: "server", Value: r.Server}}
			reg.Set("probe_success", helpSuccess, b2f(r.OK), l...)
			reg.Set("probe_duration_seconds", helpDuration, ms(r.ElapsedMS), l...)
			reg.Set("probe_dns_duration_seconds", "Duration of DNS request by phase", ms(r.RTTMS), append(l, exporter.Label{Name: "phase", Value: "request"})...)
			reg.Set("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", float64(len(r.Answer)), l...)
			reg.Set("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", float64(len(r.Authority)), l...)
			reg.Set("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", float64(len(r.Additional)), l...)
			reg.Set("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", b2f(r.Rcode != ""), l...)
			if r.Rcode != "" {
				reg.Set("nettool_dns_rcode_info", "The reply's rcode", 1, append(l, exporter.Label{Name: "rcode", Value: r.Rcode})...)
			}
		}
	default:
		return nil, fmt.Errorf("-o prom: no metrics for a %q result (a port scan has none yet)", head.Type)
	}
	var b bytes.Buffer
	if err := reg.WriteText(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
