package ui

// EventText renders a timeline event as a page in lang does, for tests
// outside the package.
var EventText = eventText
