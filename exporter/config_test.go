package exporter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigErrorsNameFileLineModuleAndKey(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown prober", "modules:\n  m:\n    prober: smtp\n", `f.yml:3: module "m": prober: unknown prober "smtp"`},
		{"unknown key", "modules:\n  m:\n    prober: http\n    http:\n      methd: GET\n", `f.yml:5: module "m": unknown key "methd" in http`},
		{"unknown module key", "modules:\n  m:\n    prober: tcp\n    retries: 3\n", `f.yml:4: module "m": unknown key "retries" in the module`},
		{"blackbox-only key", "modules:\n  m:\n    prober: http\n    http:\n      basic_auth:\n        username: a\n", `f.yml:5: module "m": key "basic_auth" (http.basic_auth) is a blackbox_exporter option nettool does not support`},
		{"blackbox-only prober section", "modules:\n  m:\n    prober: tcp\n    grpc:\n      tls: true\n", `f.yml:4: module "m": key "grpc"`},
		{"nested unknown key", "modules:\n  m:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: a\n        - sendd: b\n", `f.yml:7: module "m": unknown key "sendd" in tcp.query_response`},
		{"bad regexp", "modules:\n  m:\n    prober: http\n    http:\n      fail_if_body_matches_regexp:\n        - \"a(b\"\n", `f.yml:6: module "m": bad regular expression "a(b"`},
		{"bad duration", "modules:\n  m:\n    prober: http\n    timeout: 5x\n", `f.yml:4: module "m": bad duration "5x"`},
		{"bad ip protocol", "modules:\n  m:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip5\n", `f.yml:5: module "m": icmp.preferred_ip_protocol: want ip4 or ip6`},
		{"dns without name", "modules:\n  m:\n    prober: dns\n    dns:\n      query_type: A\n", `f.yml:5: module "m": dns: query_name must be set`},
		{"dns bad type", "modules:\n  m:\n    prober: dns\n    dns:\n      query_name: a.test\n      query_type: BOGUS\n", `f.yml:6: module "m": dns.query_type: unknown type "BOGUS"`},
		{"dot without tcp", "modules:\n  m:\n    prober: dns\n    dns:\n      query_name: a.test\n      dns_over_tls: true\n", `f.yml:6: module "m": dns.dns_over_tls: needs transport_protocol: tcp`},
		{"http/2 version", "modules:\n  m:\n    prober: http\n    http:\n      valid_http_versions: [\"HTTP/2.0\"]\n", `f.yml:5: module "m": http.valid_http_versions: "HTTP/2.0"`},
		{"wrong section", "modules:\n  m:\n    prober: http\n    tcp:\n      tls: true\n", `f.yml:4: module "m": a tcp section in a module whose prober is http would be ignored`},
		{"type error", "modules:\n  m:\n    prober: icmp\n    icmp:\n      ttl: many\n", `f.yml:5: module "m": cannot unmarshal`},
		{"syntax", "modules:\n  m:\n   prober: icmp\n  - x\n", `f.yml:`},
		{"top-level key", "modulez: {}\n", `f.yml:1: unknown top-level key "modulez"`},
		{"no prober", "modules:\n  m:\n    timeout: 1s\n", `f.yml:3: module "m": no prober`},
		{"unknown tls key", "modules:\n  m:\n    prober: tcp\n    tcp:\n      tls_config:\n        min_version: TLS12\n", `f.yml:6: module "m": key "min_version" (tcp.tls_config.min_version) is a blackbox_exporter option`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "f.yml")
		if err == nil {
			t.Errorf("%s: loaded", c.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s:\n got %q\nwant %q...", c.name, msg, c.want)
		}
	}
}

func TestConfigDefaultsAsBlackbox(t *testing.T) {
	c, err := Parse([]byte(`modules:
  i:
    prober: icmp
  d:
    prober: dns
    dns:
      query_name: example.test
  h:
    prober: http
    timeout: 1m30s
    http:
      headers:
        Host: example.test
        X-A: b
      fail_if_header_matches:
        - header: Server
          regexp: nginx
`), "f.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Modules["i"].ICMP.TTL != 64 || !*c.Modules["i"].ICMP.IPProtocolFallback {
		t.Errorf("icmp defaults: %+v", c.Modules["i"].ICMP)
	}
	if !*c.Modules["d"].DNS.RecursionDesired {
		t.Error("recursion_desired should default to true")
	}
	h := c.Modules["h"]
	if len(h.HTTP.headers) != 2 || h.HTTP.headers[0] != [2]string{"Host", "example.test"} || h.Timeout != Duration(90e9) {
		t.Errorf("http: %+v timeout %v", h.HTTP.headers, h.Timeout)
	}
}

// The module file blackbox_exporter ships (example.yml's common modules)
// loads as it is, but for the options nettool refuses by name.
func TestConfigLoadsBlackboxExample(t *testing.T) {
	f := filepath.Join(t.TempDir(), "blackbox.yml")
	os.WriteFile(f, []byte(`modules:
  http_2xx:
    prober: http
    http:
      preferred_ip_protocol: "ip4"
  http_post_2xx:
    prober: http
    http:
      method: POST
      headers:
        Content-Type: application/json
      body: '{}'
  tcp_connect:
    prober: tcp
  pop3s_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^+OK"
      tls: true
      tls_config:
        insecure_skip_verify: false
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^SSH-2.0-"
      - send: "SSH-2.0-blackbox-ssh-check"
  irc_banner:
    prober: tcp
    tcp:
      query_response:
      - send: "NICK prober"
      - send: "USER prober prober prober :prober"
      - expect: "PING :([^ ]+)"
        send: "PONG ${1}"
      - expect: "^:[^ ]+ 001"
  icmp:
    prober: icmp
  icmp_ttl5:
    prober: icmp
    timeout: 5s
    icmp:
      ttl: 5
  dns_udp:
    prober: dns
    dns:
      query_name: "www.prometheus.io"
      query_type: "A"
      valid_rcodes:
      - NOERROR
      validate_answer_rrs:
        fail_if_matches_regexp:
        - ".*127.0.0.1"
        fail_if_all_match_regexp:
        - ".*127.0.0.1"
        fail_if_not_matches_regexp:
        - "www.prometheus.io.\t300\tIN\tA\t127.0.0.1"
        fail_if_none_matches_regexp:
        - "127.0.0.1"
      validate_authority_rrs:
        fail_if_matches_regexp:
        - ".*127.0.0.1"
      validate_additional_rrs:
        fail_if_matches_regexp:
        - ".*127.0.0.1"
`), 0o644)
	c, err := LoadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modules) != 9 {
		t.Errorf("%d modules", len(c.Modules))
	}
}
