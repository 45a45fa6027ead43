package ui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The pages speak Japanese and English; their words are in the message
// catalogs (catalog.go, locales/*.json).

const (
	langEN = "en"
	langJA = "ja"
)

// tr returns the message key in lang; an unknown key is a bug a test
// catches, so it shows itself rather than an empty string.
func tr(lang, key string) string {
	return texts.text(lang, key, nil)
}

// jst is Japan Standard Time (no daylight saving), fixed so that the page
// does not depend on the host's time zone database.
var jst = time.FixedZone("JST", 9*3600)

// localDate writes a time the way a reader of lang expects: Japanese
// readers get Japan time.
func localDate(lang string, t time.Time) string {
	if lang == langJA {
		return t.In(jst).Format("2006年1月2日 15:04（日本時間）")
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// pageLang picks the language of a page: ?lang=ja|en (or a lang field of
// a form already read, so a choice survives a POST), else the staff
// switch's lang cookie, else the browser's Accept-Language, else the
// configured default. It never reads a body itself, so error pages can
// call it safely.
func (s *Server) pageLang(c echo.Context) string {
	l := c.QueryParam("lang")
	if f := c.Request().Form; f != nil && f.Get("lang") != "" {
		l = f.Get("lang")
	}
	switch l {
	case langJA, langEN:
		return l
	}
	return s.chosenLang(c)
}

// chosenLang is pageLang without ?lang= and form: what a page picks by
// itself.
func (s *Server) chosenLang(c echo.Context) string {
	if ck, err := c.Cookie(langCookie); err == nil && (ck.Value == langJA || ck.Value == langEN) {
		return ck.Value
	}
	if l, ok := negotiate(c.Request().Header.Get("Accept-Language")); ok {
		return l
	}
	return s.opts.DefaultLang
}

// negotiateLang is negotiate with English when nothing fits.
func negotiateLang(header string) string {
	if l, ok := negotiate(header); ok {
		return l
	}
	return langEN
}

// negotiate returns the supported language the Accept-Language header
// (RFC 9110 section 12.5.4) prefers most: the highest q-value wins, the
// earlier range on a tie; "*" and unsupported languages choose nothing
// (ok false).
func negotiate(header string) (lang string, ok bool) {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != langJA && primary != langEN {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best, best != ""
}

// setLang marks an answer with its language; the Vary header tells caches
// that the same URL answers differently per Accept-Language.
func setLang(c echo.Context, lang string) {
	h := c.Response().Header()
	h.Set("Content-Language", lang)
	if !slices.Contains(h.Values("Vary"), "Accept-Language") {
		h.Add("Vary", "Accept-Language")
	}
}

// otherLang is the language the switch link offers.
func otherLang(lang string) string {
	if lang == langJA {
		return langEN
	}
	return langJA
}
