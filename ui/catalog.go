package ui

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Every word a person reads on the desk's pages lives in the message
// catalogs ui/locales/en.json and ui/locales/ja.json, which a translator
// edits without reading Go (docs/i18n.md). go-i18n loads them: it reads
// plain JSON at start (no code generation step, unlike x/text's gotext),
// picks plural forms by CLDR rules, and a catalog file that does not parse
// fails the start, not a request. A message is a fmt format where it takes
// arguments (%d, %s, or %[2]s to reorder them); a message with plural
// forms ("one", "other") chooses by its first argument.

//go:embed locales/*.json
var localeFiles embed.FS

// catalog is the loaded message catalogs, one localizer per language.
type catalog struct {
	byLang map[string]*i18n.Localizer
	msgs   map[string]map[string]*i18n.Message // lang → id → message
}

// texts is every message the pages use; it is read-only once loaded.
var texts = mustLoadCatalog(localeFiles)

func mustLoadCatalog(fsys fs.FS) *catalog {
	c, err := loadCatalog(fsys)
	if err != nil {
		panic(fmt.Sprintf("ui: message catalog: %v", err))
	}
	return c
}

// loadCatalog reads locales/en.json and locales/ja.json from fsys.
func loadCatalog(fsys fs.FS) (*catalog, error) {
	b := i18n.NewBundle(language.English)
	c := &catalog{byLang: map[string]*i18n.Localizer{}, msgs: map[string]map[string]*i18n.Message{}}
	for _, lang := range []string{langEN, langJA} {
		path := "locales/" + lang + ".json"
		raw, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		f, err := b.ParseMessageFileBytes(raw, path)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		msgs := map[string]*i18n.Message{}
		for _, m := range f.Messages {
			msgs[m.ID] = m
		}
		c.msgs[lang] = msgs
		c.byLang[lang] = i18n.NewLocalizer(b, lang)
	}
	return c, nil
}

// text is message id in lang, its plural form chosen by count when count
// is not nil. An id missing from the catalog shows as ?id?: a bug that the
// catalog tests and the browser walk catch, never an empty string.
func (c *catalog) text(lang, id string, count any) string {
	l := c.byLang[lang]
	if l == nil {
		l = c.byLang[langEN]
	}
	m := c.msgs[lang][id]
	if m == nil {
		return "?" + id + "?"
	}
	if m.One == "" && m.Two == "" && m.Few == "" && m.Many == "" && m.Zero == "" {
		return m.Other // no plural forms: the text as written, no template
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count})
	if err != nil {
		var nf *i18n.MessageNotFoundErr
		if errors.As(err, &nf) || s == "" {
			return "?" + id + "?"
		}
	}
	return s
}

// has reports whether lang's catalog has message id.
func (c *catalog) has(lang, id string) bool { return c.msgs[lang][id] != nil }
