package inbox

import (
	"testing"
	"testing/fstest"
)

// TestAckCatalogs: both languages load whole; a catalog that lacks a
// message or does not parse is refused at start, naming what is wrong.
func TestAckCatalogs(t *testing.T) {
	for _, lang := range []string{"en", "ja"} {
		at, err := loadAckText(ackLocales, lang)
		if err != nil {
			t.Fatalf("loadAckText(%s) = %v", lang, err)
		}
		if at.received.intro[0] == "" || at.outcome.rest[len(at.outcome.rest)-1] == "" || at.refLabel == "" {
			t.Errorf("loadAckText(%s) = %+v, want every part", lang, at)
		}
	}
	if ackJapanese.received.intro[0] == ackEnglish.received.intro[0] {
		t.Errorf("the Japanese acknowledgement opens in English: %q", ackJapanese.received.intro[0])
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a message missing": {"locales/en.json": {Data: []byte(`{"ack.received.subject": "We received your report"}`)}},
		"bad json":          {"locales/en.json": {Data: []byte(`{"ack.received.subject": `)}},
		"no file":           {},
	} {
		if _, err := loadAckText(fsys, "en"); err == nil {
			t.Errorf("loadAckText(%s) = nil error, want one", name)
		}
	}
}
