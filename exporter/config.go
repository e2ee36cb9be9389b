// Package exporter is the Prometheus side of `nettool serve metrics`: it reads
// blackbox_exporter's module file, maps prober names to probes, and turns the
// typed results of nettool's own domain packages (httpget, resolve,
// probe/ping, probe/tcp, ipinfo) into blackbox's metrics. No protocol is
// implemented here twice: each prober calls the function the matching
// command calls and only translates its result.
package exporter

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is a module file.
type Config struct {
	Modules map[string]*Module `yaml:"modules"`
}

// Module is one module: a prober and its options.
type Module struct {
	Prober  string     `yaml:"prober"`
	Timeout Duration   `yaml:"timeout"`
	HTTP    HTTPProbe  `yaml:"http"`
	TCP     TCPProbe   `yaml:"tcp"`
	ICMP    ICMPProbe  `yaml:"icmp"`
	DNS     DNSProbe   `yaml:"dns"`
	MyIP    MyIPProbe  `yaml:"myip"`
	Trace   TraceProbe `yaml:"trace"`

	name  string
	src   *yaml.Node     // the module as written, for debug output
	roots *x509.CertPool // the prober's ca_file, read at load (nil: the system's roots)
}

// Name is the module's name in the file.
func (m *Module) Name() string { return m.name }

// HTTPProbe is an http module's options (blackbox's names and meanings).
type HTTPProbe struct {
	ValidStatusCodes           []int         `yaml:"valid_status_codes"`
	ValidHTTPVersions          []string      `yaml:"valid_http_versions"`
	IPProtocol                 string        `yaml:"preferred_ip_protocol"`
	IPProtocolFallback         *bool         `yaml:"ip_protocol_fallback"`
	NoFollowRedirects          *bool         `yaml:"no_follow_redirects"`
	FollowRedirects            *bool         `yaml:"follow_redirects"`
	FailIfSSL                  bool          `yaml:"fail_if_ssl"`
	FailIfNotSSL               bool          `yaml:"fail_if_not_ssl"`
	Method                     string        `yaml:"method"`
	Headers                    yaml.Node     `yaml:"headers"`
	Body                       string        `yaml:"body"`
	FailIfBodyMatchesRegexp    []Regexp      `yaml:"fail_if_body_matches_regexp"`
	FailIfBodyNotMatchesRegexp []Regexp      `yaml:"fail_if_body_not_matches_regexp"`
	FailIfHeaderMatches        []HeaderMatch `yaml:"fail_if_header_matches"`
	FailIfHeaderNotMatches     []HeaderMatch `yaml:"fail_if_header_not_matches"`
	TLSConfig                  TLSConfig     `yaml:"tls_config"`
	// DNSServer (nettool): resolve the target's name with this server
	// instead of the system resolver (blackbox #1443).
	DNSServer string `yaml:"dns_server"`

	headers [][2]string // Headers, in file order
}

// HeaderMatch is one fail_if_header_(not_)matches entry.
type HeaderMatch struct {
	Header       string `yaml:"header"`
	Regexp       Regexp `yaml:"regexp"`
	AllowMissing bool   `yaml:"allow_missing"`
}

// TLSConfig is the part of prometheus/common's tls_config nettool supports.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	ServerName         string `yaml:"server_name"`
}

// QueryResponse is one step of a tcp conversation.
type QueryResponse struct {
	Expect   Regexp `yaml:"expect"`
	Send     string `yaml:"send"`
	StartTLS bool   `yaml:"starttls"`
}

// TCPProbe is a tcp module's options.
type TCPProbe struct {
	IPProtocol         string          `yaml:"preferred_ip_protocol"`
	IPProtocolFallback *bool           `yaml:"ip_protocol_fallback"`
	SourceIPAddress    string          `yaml:"source_ip_address"`
	QueryResponse      []QueryResponse `yaml:"query_response"`
	TLS                bool            `yaml:"tls"`
	TLSConfig          TLSConfig       `yaml:"tls_config"`
	DNSServer          string          `yaml:"dns_server"` // nettool
}

// ICMPProbe is an icmp module's options.
type ICMPProbe struct {
	IPProtocol         string `yaml:"preferred_ip_protocol"`
	IPProtocolFallback *bool  `yaml:"ip_protocol_fallback"`
	PayloadSize        int    `yaml:"payload_size"`
	DontFragment       bool   `yaml:"dont_fragment"`
	TTL                int    `yaml:"ttl"`
	DNSServer          string `yaml:"dns_server"` // nettool
}

// DNSRRValidator checks the records of one section.
type DNSRRValidator struct {
	FailIfMatchesRegexp     []Regexp `yaml:"fail_if_matches_regexp"`
	FailIfAllMatchRegexp    []Regexp `yaml:"fail_if_all_match_regexp"`
	FailIfNotMatchesRegexp  []Regexp `yaml:"fail_if_not_matches_regexp"`
	FailIfNoneMatchesRegexp []Regexp `yaml:"fail_if_none_matches_regexp"`
}

// DNSProbe is a dns module's options.
type DNSProbe struct {
	IPProtocol         string         `yaml:"preferred_ip_protocol"`
	IPProtocolFallback *bool          `yaml:"ip_protocol_fallback"`
	DNSOverTLS         bool           `yaml:"dns_over_tls"`
	TLSConfig          TLSConfig      `yaml:"tls_config"`
	TransportProtocol  string         `yaml:"transport_protocol"`
	QueryClass         string         `yaml:"query_class"`
	QueryName          string         `yaml:"query_name"`
	QueryType          string         `yaml:"query_type"`
	RecursionDesired   *bool          `yaml:"recursion_desired"`
	ValidRcodes        []string       `yaml:"valid_rcodes"`
	ValidateAnswer     DNSRRValidator `yaml:"validate_answer_rrs"`
	ValidateAuthority  DNSRRValidator `yaml:"validate_authority_rrs"`
	ValidateAdditional DNSRRValidator `yaml:"validate_additional_rrs"`
	// Server (nettool): ask this server, and take the scrape's target as
	// the query name (blackbox #331).
	Server string `yaml:"server"`
}

// MyIPProbe is a myip module's options (nettool).
type MyIPProbe struct {
	Providers []string `yaml:"providers"` // provider specs as `nettool myip --provider` takes them; empty: the default list
	Quorum    int      `yaml:"quorum"`
	CAFile    string   `yaml:"ca_file"`
	// AllowDocumentation accepts documentation addresses (203.0.113.0/24...)
	// as answers, as `nettool myip --allow-documentation`: for test rigs.
	AllowDocumentation bool `yaml:"allow_documentation"`
}

// TraceProbe is a trace module's options (nettool).
type TraceProbe struct {
	IPProtocol         string `yaml:"preferred_ip_protocol"`
	IPProtocolFallback *bool  `yaml:"ip_protocol_fallback"`
	MaxHops            int    `yaml:"max_hops"`
	Method             string `yaml:"method"`  // icmp (default), udp or tcp, as `nettool trace`
	Port               int    `yaml:"port"`    // udp and tcp: the destination port
	Queries            int    `yaml:"queries"` // probes per hop; 0: 3
	DNSServer          string `yaml:"dns_server"`
}

// Duration is a duration written as Prometheus writes them ("5s", "1m30s",
// "500ms", "1d").
type Duration time.Duration

var promDuration = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)
})

// UnmarshalYAML reads a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := n.Value
	if n.Kind != yaml.ScalarNode || s == "" || s == "0" {
		if s == "0" {
			*d = 0
			return nil
		}
		return fmt.Errorf("bad duration %q", s)
	}
	if t, err := time.ParseDuration(s); err == nil && t >= 0 {
		*d = Duration(t)
		return nil
	}
	m := promDuration().FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("bad duration %q (want e.g. 5s, 500ms, 1m30s)", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}
	var total time.Duration
	for i, u := range units {
		if v := m[2+2*i]; v != "" {
			var x int64
			fmt.Sscan(v, &x)
			total += time.Duration(x) * u
		}
	}
	*d = Duration(total)
	return nil
}

// Regexp is a regular expression from the file. blackbox compiles them
// unanchored; so does nettool.
type Regexp struct {
	*regexp.Regexp
	src string
}

// UnmarshalYAML compiles the expression.
func (r *Regexp) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a regular expression must be a string")
	}
	re, err := regexp.Compile(n.Value)
	if err != nil {
		return fmt.Errorf("bad regular expression %q: %v", n.Value, err)
	}
	r.Regexp, r.src = re, n.Value
	return nil
}

// MarshalYAML writes the expression back.
func (r Regexp) MarshalYAML() (any, error) { return r.src, nil }

// blackboxOnly are keys blackbox_exporter reads that nettool does not
// implement: using one is a load error that says so, never ignored.
var blackboxOnly = map[string]bool{
	"grpc": true, "unix": true, "websocket": true,
	"skip_resolve_phase_with_proxy": true, "fail_if_body_json_matches_cel": true,
	"fail_if_body_json_not_matches_cel": true, "body_file": true, "compression": true,
	"body_size_limit": true, "enable_http3": true, "basic_auth": true, "authorization": true,
	"oauth2": true, "bearer_token": true, "bearer_token_file": true, "proxy_url": true,
	"no_proxy": true, "proxy_from_environment": true, "proxy_connect_header": true,
	"enable_http2": true, "http_headers": true, "tls_config.ca": true, "cert_file": true,
	"key_file": true, "cert": true, "key": true, "min_version": true, "max_version": true,
	"ca": true, "expect_bytes": true, "labels": true, "source_ip_address": true,
}

// LoadError is a problem in the module file, with where it is.
type LoadError struct {
	File string
	Line int
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadFile reads and checks a module file.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Msg: err.Error()}
	}
	return Parse(b, path)
}

var lineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`) })

// Parse checks a module file's bytes; file names it in errors.
func Parse(data []byte, file string) (*Config, error) {
	errAt := func(n *yaml.Node, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &LoadError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 0
		if m := lineRE().FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
			msg = m[2]
		}
		return nil, &LoadError{File: file, Line: line, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	c := &Config{Modules: map[string]*Module{}}
	if len(doc.Content) == 0 {
		return nil, errAt(nil, "no modules: the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "want a mapping with a modules key")
	}
	var mods *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "modules" {
			return nil, errAt(k, "unknown top-level key %q (want modules)", k.Value)
		}
		mods = v
	}
	if mods == nil || mods.Kind != yaml.MappingNode {
		return nil, errAt(root, "modules must be a mapping of module names to modules")
	}
	for i := 0; i+1 < len(mods.Content); i += 2 {
		k, v := mods.Content[i], mods.Content[i+1]
		name := k.Value
		if _, dup := c.Modules[name]; dup {
			return nil, errAt(k, "module %q defined twice", name)
		}
		if v.Kind != yaml.MappingNode {
			return nil, errAt(v, "module %q: want a mapping", name)
		}
		if err := checkKeys(v, reflect.TypeOf(Module{}), ""); err != nil {
			var ke *keyError
			if errors.As(err, &ke) {
				return nil, errAt(ke.node, "module %q: %s", name, ke.msg)
			}
			return nil, errAt(v, "module %q: %v", name, err)
		}
		m := &Module{}
		if err := v.Decode(m); err != nil {
			line := v.Line
			msg := err.Error()
			var te *yaml.TypeError
			if errors.As(err, &te) && len(te.Errors) > 0 {
				msg = te.Errors[0]
			}
			if mm := lineRE().FindStringSubmatch(strings.TrimPrefix(msg, "yaml: ")); mm != nil {
				fmt.Sscan(mm[1], &line)
				msg = mm[2]
			} else if n := findBadNode(v, err); n != nil {
				line = n.Line
			}
			return nil, &LoadError{File: file, Line: line, Msg: fmt.Sprintf("module %q: %s", name, msg)}
		}
		m.name, m.src = name, v
		if err := m.check(); err != nil {
			n := v
			var ke *keyError
			if errors.As(err, &ke) {
				n = ke.node
				err = errors.New(ke.msg)
			}
			if n == v {
				if kn := keyNode(v, "prober"); kn != nil {
					n = kn
				}
			}
			return nil, errAt(n, "module %q: %v", name, err)
		}
		c.Modules[name] = m
	}
	return c, nil
}

// findBadNode finds the scalar whose custom decoder failed (Duration and
// Regexp errors carry no line): the first scalar that does not decode
// alone into its field's type is the culprit. It falls back to nil.
func findBadNode(v *yaml.Node, err error) *yaml.Node {
	msg := err.Error()
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.ScalarNode && n.Value != "" && strings.Contains(msg, fmt.Sprintf("%q", n.Value)) {
			return n
		}
		for _, c := range n.Content {
			if f := walk(c); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(v)
}

type keyError struct {
	node *yaml.Node
	msg  string
}

func (e *keyError) Error() string { return e.msg }

func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func valueNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

var nodeType = reflect.TypeOf(yaml.Node{})
var customTypes = map[reflect.Type]bool{reflect.TypeOf(Regexp{}): true, reflect.TypeOf(Duration(0)): true}

// checkKeys walks a mapping against the struct type it decodes into: every
// key must be a field; a key blackbox knows but nettool does not implement
// gets its own message. Decoding stays strict, as blackbox's KnownFields.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || customTypes[t] {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil // the decoder reports the type error
		}
		for _, c := range n.Content {
			if err := checkKeys(c, t.Elem(), path); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return &keyError{n, fmt.Sprintf("%s: want a mapping", strings.TrimSuffix(path, "."))}
	}
	fields := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag := strings.Split(f.Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			fields[tag] = f
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			if blackboxOnly[k.Value] {
				return &keyError{k, fmt.Sprintf("key %q (%s%s) is a blackbox_exporter option nettool does not support", k.Value, path, k.Value)}
			}
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			sort.Strings(known)
			return &keyError{k, fmt.Sprintf("unknown key %q in %s (known: %s)", k.Value, strings.TrimSuffix(path, ".")+orTop(path), strings.Join(known, ", "))}
		}
		if err := checkKeys(v, f.Type, path+k.Value+"."); err != nil {
			return err
		}
	}
	return nil
}

func orTop(path string) string {
	if path == "" {
		return "the module"
	}
	return ""
}
