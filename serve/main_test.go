package serve

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// server must stop completely on Shutdown.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
