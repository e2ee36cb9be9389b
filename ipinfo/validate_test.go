package ipinfo

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateBody(t *testing.T) {
	doc := ValidateOptions{AllowDocumentation: true}
	cases := []struct {
		body   string
		family Family
		opts   ValidateOptions
		want   string // the address, or the failure code
	}{
		{"8.8.4.4", IPv4, ValidateOptions{}, "8.8.4.4"},
		{"8.8.4.4\n", IPv4, ValidateOptions{}, "8.8.4.4"},
		{"  \r\n1.1.1.1 \r\n", IPv4, ValidateOptions{}, "1.1.1.1"},
		{"2606:4700:4700::1111\n", IPv6, ValidateOptions{}, "2606:4700:4700::1111"},
		{"::ffff:8.8.4.4", IPv4, ValidateOptions{}, "8.8.4.4"},
		{"203.0.113.7\n", IPv4, doc, "203.0.113.7"},
		{"203.0.113.7\n", IPv4, ValidateOptions{}, FailNotPublic},
		{"2001:db8::7", IPv6, doc, "2001:db8::7"},
		{"2001:db8::7", IPv6, ValidateOptions{}, FailNotPublic},
		{"192.168.1.1", IPv4, doc, FailNotPublic},
		{"10.0.0.1", IPv4, doc, FailNotPublic},
		{"127.0.0.1", IPv4, doc, FailNotPublic},
		{"169.254.9.9", IPv4, doc, FailNotPublic},
		{"100.64.1.2", IPv4, doc, FailNotPublic},
		{"fe80::1", IPv6, doc, FailNotPublic},
		{"fe80::1%eth0", IPv6, doc, FailNotPublic},
		{"fd00::1", IPv6, doc, FailNotPublic},
		{"224.0.0.1", IPv4, doc, FailNotPublic},
		{"0.0.0.0", IPv4, doc, FailNotPublic},
		{"2606:4700:4700::1111", IPv4, doc, FailWrongFamily},
		{"8.8.4.4", IPv6, doc, FailWrongFamily},
		{"", IPv4, doc, FailNotAnAddress},
		{"\n\n", IPv4, doc, FailNotAnAddress},
		{"<nil>", IPv4, doc, FailHTMLPage},
		{"nil", IPv4, doc, FailNotAnAddress},
		{"8.8.4.4 8.8.8.8", IPv4, doc, FailNotAnAddress},
		{"ip=8.8.4.4", IPv4, doc, FailNotAnAddress},
		{"8.8.4.4/32", IPv4, doc, FailNotAnAddress},
		{"08.8.4.4", IPv4, doc, FailNotAnAddress},
		{"<!DOCTYPE html><html><body>8.8.4.4</body></html>", IPv4, doc, FailHTMLPage},
		{"<html><head><title>Just a moment...</title></head></html>", IPv4, doc, FailHTMLPage},
		{"Attention Required! | Cloudflare", IPv4, doc, FailHTMLPage},
		{"\x1b[31m8.8.4.4\x1b[0m", IPv4, doc, FailNotAnAddress},
		{strings.Repeat(" ", MaxBody) + "8.8.4.4", IPv4, doc, FailTooLarge},
	}
	for _, c := range cases {
		a, err := ValidateBody([]byte(c.body), c.family, c.opts)
		got := a.String()
		if err != nil {
			var ae *AnswerError
			if !errors.As(err, &ae) {
				t.Fatalf("%q: error %v is not an *AnswerError", c.body, err)
			}
			got = ae.Code
			if strings.ContainsAny(ae.Reason, "\x1b\r\n") {
				t.Errorf("%q: reason carries raw control bytes: %q", c.body, ae.Reason)
			}
		}
		if got != c.want {
			t.Errorf("ValidateBody(%q, %s, %+v) = %s (%v), want %s", c.body, c.family, c.opts, got, err, c.want)
		}
	}
}

func TestValidateReasonSaysWhy(t *testing.T) {
	_, err := ValidateBody([]byte("192.168.1.1\n"), IPv4, ValidateOptions{})
	if err == nil || !strings.Contains(err.Error(), "private (RFC 1918)") {
		t.Fatalf("private: %v", err)
	}
	_, err = ValidateBody([]byte("100.64.0.9"), IPv4, ValidateOptions{})
	if err == nil || !strings.Contains(err.Error(), "carrier-grade NAT") {
		t.Fatalf("cgnat: %v", err)
	}
	_, err = ValidateBody([]byte("203.0.113.7"), IPv4, ValidateOptions{})
	if err == nil || !strings.Contains(err.Error(), "--allow-documentation") {
		t.Fatalf("documentation: %v", err)
	}
	_, err = ValidateBody([]byte("2001:db8::1"), IPv4, ValidateOptions{AllowDocumentation: true})
	if err == nil || !strings.Contains(err.Error(), "IPv6 answer 2001:db8::1 to an IPv4 question") {
		t.Fatalf("family: %v", err)
	}
	_, err = ValidateBody([]byte("\x1b]0;pwned\x07"), IPv4, ValidateOptions{})
	if err == nil || !strings.Contains(err.Error(), `\x1b]0;pwned\x07`) {
		t.Fatalf("escaping: %v", err)
	}
}
