package app

import (
	"flag"
	"os"
	"testing"
)

// longTestsEnv is the switch that runs the long tests in a plain
// `go test ./...`; .ci/run sets it. See docs/testing.md.
const longTestsEnv = "NOTME_LONG_TESTS"

// longTest skips t, which takes tens of seconds (a browser, a stress run
// or a real wait), unless NOTME_LONG_TESTS=1 or the run names tests with
// -run: whoever asks for a test by name wants it run.
func longTest(t *testing.T, takes string) {
	t.Helper()
	if os.Getenv(longTestsEnv) == "1" {
		return
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return
	}
	t.Skipf("long test (%s): runs with %s=1, as .ci/run sets, or when -run names it (docs/testing.md)", takes, longTestsEnv)
}
