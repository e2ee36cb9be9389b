package httpget

import "testing"

func TestSameOrigin(t *testing.T) {
	base := Target{Scheme: "http", Host: "example.com", Port: 80, Path: "/"}
	for _, c := range []struct {
		t    Target
		same bool
	}{
		{Target{Scheme: "http", Host: "example.com", Port: 80, Path: "/x"}, true},
		{Target{Scheme: "http", Host: "EXAMPLE.com", Port: 80}, true},
		{Target{Scheme: "https", Host: "example.com", Port: 80}, false},
		{Target{Scheme: "http", Host: "example.com", Port: 8080}, false},
		{Target{Scheme: "http", Host: "www.example.com", Port: 80}, false},
	} {
		if got := sameOrigin(c.t, base); got != c.same {
			t.Errorf("%+v: sameOrigin %v", c.t, got)
		}
	}
	if !sameHost(Target{Host: "::1"}, Target{Host: "0:0::1"}) {
		t.Error("IPv6 addresses are compared by value")
	}
}
