package ui

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"notme/cases"
)

// The colours the reporter pages use meet WCAG 2.2 AA: 4.5:1 for text,
// 3:1 for the focus ring and input borders against their background.
func TestReporterColourContrast(t *testing.T) {
	css, err := staticFS.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"#fff": "#fff"}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{3,6})`).FindAllStringSubmatch(string(css), -1) {
		vars[m[1]] = m[2]
	}
	for _, p := range []struct {
		fg, bg string
		min    float64
	}{
		{"fg", "card", 4.5}, {"fg", "bg", 4.5},
		{"muted", "card", 4.5}, {"muted", "bg", 4.5}, // hints, the step line, the code box
		{"accent", "card", 4.5}, {"accent", "bg", 4.5}, // links, the switch, summary
		{"accent-fg", "accent", 4.5}, // the primary button
		{"error", "card", 4.5},
		{"accent", "card", 3}, {"accent", "bg", 3}, // the focus ring
		{"muted", "card", 3}, // input borders
	} {
		fg, bg := vars[p.fg], vars[p.bg]
		if fg == "" || bg == "" {
			t.Fatalf("app.css has no --%s or --%s", p.fg, p.bg)
		}
		if r := contrast(fg, bg); r < p.min {
			t.Errorf("contrast(--%s %s, --%s %s) = %.2f, want at least %.1f", p.fg, fg, p.bg, bg, r, p.min)
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two #rgb or #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

func TestContrastKnownValues(t *testing.T) {
	if r := contrast("#000", "#fff"); math.Abs(r-21) > 0.01 {
		t.Errorf("contrast(#000, #fff) = %.2f, want 21", r)
	}
	if r := contrast("#777777", "#ffffff"); math.Abs(r-4.48) > 0.01 {
		t.Errorf("contrast(#777777, #ffffff) = %.2f, want 4.48", r)
	}
}

// Every outcome and fact cases.ReporterOutcome can give has its words in
// both languages, so the status page never shows a raw code.
func TestReporterOutcomesHaveWords(t *testing.T) {
	var keys []string
	for _, c := range cases.ReporterCodes {
		keys = append(keys, "outcome."+string(c))
	}
	for _, f := range cases.ReporterFacts {
		keys = append(keys, "fact."+string(f))
	}
	for _, k := range keys {
		for _, lang := range []string{langEN, langJA} {
			if got := tr(lang, k); strings.HasPrefix(got, "?") || got == "" {
				t.Errorf("tr(%s, %q) = %q, want words", lang, k, got)
			}
		}
	}
}
