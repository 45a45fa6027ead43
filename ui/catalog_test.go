package ui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

var verbRE = regexp.MustCompile(`%(\[\d\])?[-+# 0]*[\d.]*[a-zA-Z]`)

// forms are a message's texts, plural forms included.
func forms(m *i18n.Message) []string {
	var out []string
	for _, s := range []string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sameInBoth are messages whose Japanese is rightly the English text.
var sameInBoth = map[string]bool{
	"lang.other": true, // the switch names the other language in itself
	"ct.webhook": true, // Webhook is what Japanese teams call it too
	"event.note": true, // a person's own words
}

// TestCatalogComplete: both catalogs have the same message ids; each
// message has text in both languages, with the same format verbs; the
// Japanese is not the English; English plurals have an "other" form.
func TestCatalogComplete(t *testing.T) {
	en, ja := texts.msgs[langEN], texts.msgs[langJA]
	if len(en) < 400 {
		t.Fatalf("the English catalog has %d messages; it did not load whole", len(en))
	}
	for id, m := range en {
		j := ja[id]
		if j == nil {
			t.Errorf("locales/ja.json lacks %q", id)
			continue
		}
		if m.Other == "" {
			t.Errorf("locales/en.json %q has no text (or no \"other\" form)", id)
		}
		// The tail of a sentence split around a link may be empty in
		// Japanese, whose word order puts the link last.
		if strings.TrimSpace(j.Other) == "" && !strings.HasSuffix(id, ".end") {
			t.Errorf("locales/ja.json %q is empty", id)
		}
		if j.Other == m.Other && !sameInBoth[id] && !strings.HasPrefix(id, "value.") {
			t.Errorf("locales/ja.json %q is the English text %q", id, j.Other)
		}
		want := len(verbRE.FindAllString(m.Other, -1))
		for _, f := range append(forms(m), forms(j)...) {
			if got := len(verbRE.FindAllString(f, -1)); got != want {
				t.Errorf("%q: %q has %d format verbs, the English %d", id, f, got, want)
			}
		}
	}
	for id := range ja {
		if en[id] == nil {
			t.Errorf("locales/en.json lacks %q", id)
		}
	}
	if got := tr(langJA, "no.such.key"); got != "?no.such.key?" {
		t.Errorf("tr(ja, unknown key) = %q, want ?no.such.key?", got)
	}
}

// TestTemplatesAskForKnownKeys: every key a template names exists, so no
// page shows ?key?.
func TestTemplatesAskForKnownKeys(t *testing.T) {
	keyRE := regexp.MustCompile(`[({]-? ?T "([^"]+)"`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, n := range names {
		b, err := templateFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			seen++
			for _, lang := range []string{langEN, langJA} {
				if !texts.has(lang, m[1]) {
					t.Errorf("%s asks for %q, which locales/%s.json lacks", n, m[1], lang)
				}
			}
		}
	}
	if seen < 200 {
		t.Errorf("found %d keys in the templates; the pattern no longer matches them", seen)
	}
}

// TestCatalogLoadFails: a catalog that does not parse fails the start.
func TestCatalogLoadFails(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"missing ja": {"locales/en.json": {Data: []byte(`{"a": "b"}`)}},
		"bad json":   {"locales/en.json": {Data: []byte(`{"a": `)}, "locales/ja.json": {Data: []byte(`{}`)}},
	} {
		if _, err := loadCatalog(fsys); err == nil {
			t.Errorf("loadCatalog(%s) = nil error, want one", name)
		}
	}
}

// StaffEnglishFragments are the English catalog's phrases of three words
// or more, cut at the format verbs: a Japanese page must show none of them.
func StaffEnglishFragments() []string {
	var out []string
	for id, m := range texts.msgs[langEN] {
		if sameInBoth[id] {
			continue
		}
		for _, s := range forms(m) {
			for _, f := range verbRE.Split(s, -1) {
				f = strings.TrimSpace(strings.Trim(f, " .,:;()—…"))
				if len(strings.Fields(f)) >= 3 {
					out = append(out, f)
				}
			}
		}
	}
	return out
}
