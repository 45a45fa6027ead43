//go:build race

package inbox_test

// raceEnabled: the test binary has the race detector, so the desk
// processes it starts are built with it too.
const raceEnabled = true
