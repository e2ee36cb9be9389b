package resolve

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/nettool/nettool/probe"
)

// A DoH server that sends an endless body or endless headers: the reply
// is refused once past its cap, long before the timeout, as a protocol
// error.
func TestDoHEndlessReplyIsCapped(t *testing.T) {
	block := make([]byte, 32<<10)
	body := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/dns-message")
		for r.Context().Err() == nil {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
	}))
	defer body.Close()
	pool := body.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	r := lookup(t, Options{Timeout: time.Minute, TLS: &tls.Config{RootCAs: pool}}, body.URL+"/dns-query", "x.example", dns.TypeA)
	if r.OK || r.Failure != probe.FailProtocol || !strings.Contains(r.Error, "reply over 65535 bytes") {
		t.Fatalf("endless body: %+v", r)
	}
	head := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 4000 {
			w.Header().Add("X-Pad", strings.Repeat("p", 64)+string(rune('a'+i%26)))
		}
		w.Header().Set("Content-Type", "application/dns-message")
		w.WriteHeader(200)
	}))
	defer head.Close()
	pool = head.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	r = lookup(t, Options{Timeout: time.Minute, TLS: &tls.Config{RootCAs: pool}}, head.URL+"/dns-query", "x.example", dns.TypeA)
	if r.OK || !strings.Contains(r.Error, "response header") {
		t.Fatalf("huge head: %+v", r)
	}
}
