package acksend

import (
	"testing"
	"testing/fstest"
)

// TestAckCatalogs: both languages load whole; a catalog that lacks a
// message or does not parse is refused at start, naming what is wrong.
func TestAckCatalogs(t *testing.T) {
	for _, lang := range []string{"en", "ja"} {
		at, err := loadText(locales, lang)
		if err != nil {
			t.Fatalf("loadText(%s) = %v", lang, err)
		}
		if at.received.intro[0] == "" || at.outcome.rest[len(at.outcome.rest)-1] == "" || at.refLabel == "" {
			t.Errorf("loadText(%s) = %+v, want every part", lang, at)
		}
	}
	if japanese.received.intro[0] == english.received.intro[0] {
		t.Errorf("the Japanese acknowledgement opens in English: %q", japanese.received.intro[0])
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a message missing": {"locales/en.json": {Data: []byte(`{"ack.received.subject": "We received your report"}`)}},
		"bad json":          {"locales/en.json": {Data: []byte(`{"ack.received.subject": `)}},
		"no file":           {},
	} {
		if _, err := loadText(fsys, "en"); err == nil {
			t.Errorf("loadText(%s) = nil error, want one", name)
		}
	}
}
