package ui

import (
	"testing"
	"time"
)

func TestNegotiateLang(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"ja", "ja"},
		{"ja-JP", "ja"},
		{"JA-jp", "ja"},
		{"en-US,en;q=0.9", "en"},
		{"ja,en-US;q=0.9,en;q=0.8", "ja"},
		{"en-US,en;q=0.9,ja;q=0.8", "en"},
		{"en;q=0.5, ja;q=0.8", "ja"},
		{"ja;q=0.8, en;q=0.8", "ja"}, // a tie goes to the earlier range
		{"en;q=0.8, ja;q=0.8", "en"},
		{"fr, de;q=0.9, ja;q=0.1", "ja"}, // the only supported language, however faint
		{"fr, de", "en"},
		{"*", "en"},
		{"ja;q=0", "en"}, // q=0 means "not acceptable"
		{"ja;q=0, en;q=0", "en"},
		{"ja;q=abc", "en"},
		{"ja;q=2", "en"},
		{"zh-Hant-TW;q=0.9, ja-Latn;q=0.95", "ja"},
		{" ja ; q = 0.7 , en ; q = 0.6 ", "ja"},
		{"jav", "en"}, // Javanese is not Japanese
		{",,;;=", "en"},
	} {
		if got := negotiateLang(tc.header); got != tc.want {
			t.Errorf("negotiateLang(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestLocalDate(t *testing.T) {
	at := time.Date(2026, 11, 24, 21, 38, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, want string }{
		{langEN, "2026-11-24 21:38 UTC"},
		{langJA, "2026年11月25日 06:38（日本時間）"},
	} {
		if got := localDate(tc.lang, at); got != tc.want {
			t.Errorf("localDate(%s, %v) = %q, want %q", tc.lang, at, got, tc.want)
		}
	}
}
