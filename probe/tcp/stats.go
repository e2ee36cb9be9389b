package tcp

import (
	"math"
	"time"
)

// Stats accumulates connect times with constant memory: count, min, max and
// Welford's running mean and variance. Mdev is the population standard
// deviation, the figure iputils ping prints as mdev.
type Stats struct {
	Attempts  int
	Connected int
	min, max  time.Duration
	mean, m2  float64 // in nanoseconds
}

// AddSuccess records a connect time.
func (s *Stats) AddSuccess(d time.Duration) {
	s.Attempts++
	s.Connected++
	if s.Connected == 1 || d < s.min {
		s.min = d
	}
	if d > s.max {
		s.max = d
	}
	x := float64(d)
	delta := x - s.mean
	s.mean += delta / float64(s.Connected)
	s.m2 += delta * (x - s.mean)
}

// AddFailure records an attempt that did not connect.
func (s *Stats) AddFailure() { s.Attempts++ }

// Failed is the number of attempts that did not connect.
func (s *Stats) Failed() int { return s.Attempts - s.Connected }

// LossPct is the share of attempts that failed, in percent.
func (s *Stats) LossPct() float64 {
	if s.Attempts == 0 {
		return 0
	}
	return math.Round(float64(s.Failed())*100/float64(s.Attempts)*10) / 10
}

// Min, Avg, Max and Mdev describe the successful connect times (zero when
// none connected).
func (s *Stats) Min() time.Duration { return s.min }
func (s *Stats) Max() time.Duration { return s.max }
func (s *Stats) Avg() time.Duration { return time.Duration(s.mean) }
func (s *Stats) Mdev() time.Duration {
	if s.Connected == 0 {
		return 0
	}
	return time.Duration(math.Sqrt(s.m2 / float64(s.Connected)))
}
