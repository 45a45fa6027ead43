package ui

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The public pages speak Japanese and English. Messages live in this one
// catalog so that every public page can use it; a test checks that each
// key has both languages.

const (
	langEN = "en"
	langJA = "ja"
)

// messages maps a key to its English and Japanese text.
var messages = map[string]struct{ en, ja string }{
	"skip":       {"Skip to content", "本文へ移動"},
	"back":       {"Back to the start", "トップページへ"},
	"lang.other": {"日本語", "English"}, // the switch names the other language in itself

	"status.title":     {"Your report", "ご報告の状況"},
	"status.thanks":    {"Thank you. We have your report.", "ご報告ありがとうございます。受け付けました。"},
	"status.thanks.p":  {"Our security team is on it. You do not need to do anything else, and you do not need to call us.", "セキュリティ担当チームが対応します。これ以上の操作や、お電話でのご連絡は必要ありません。"},
	"status.ref":       {"Reference", "受付番号"},
	"status.status":    {"Status", "状況"},
	"status.received":  {"Received", "受付日時"},
	"status.updated":   {"Last change", "最終更新"},
	"status.keep":      {"To check on it later, keep this private address (anyone who has it can see this status, and nothing else):", "後で状況を確認するには、この専用アドレスを保存してください（このアドレスを知っている人が見られるのは、この状況だけです）。"},
	"status.call":      {"If you contact us, the reference above is all we need.", "お問い合わせの際は、上記の受付番号だけお伝えください。"},
	"status.404.title": {"We can't find this status page", "この状況ページが見つかりません"},
	"status.404.body":  {"Please check that you copied the whole address. If you reported an email, your report is safe with us even if this page does not open.", "アドレスを最後まで正しくコピーしたかご確認ください。ご報告いただいた内容は、このページが開けなくても確かに受け付けています。"},
}

// tr returns the message key in lang; an unknown key is a bug a test
// catches, so it shows itself rather than an empty string.
func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		m, ok = reporterMessages[key]
	}
	if !ok {
		m, ok = staffMessages[key]
	}
	if !ok {
		return "?" + key + "?"
	}
	if lang == langJA {
		return m.ja
	}
	return m.en
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
