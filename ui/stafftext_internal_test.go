package ui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

var verbRE = regexp.MustCompile(`%(\[\d\])?[-+# 0]*[\d.]*[a-zA-Z]`)

// TestStaffCatalogComplete: every staff message has both languages with
// the same arguments, shares no key with the reporter catalogs, and every
// key a template asks for exists, so a Japanese page never shows ?key?.
func TestStaffCatalogComplete(t *testing.T) {
	for k, m := range staffMessages {
		// The tail of a sentence split around a link may be empty in
		// Japanese, whose word order puts the link last.
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.ja) == "" && !strings.HasSuffix(k, ".end") {
			t.Errorf("staffMessages[%q] = %+v, want both en and ja", k, m)
		}
		if m.ja == m.en && k != "ct.webhook" { // Webhook is what Japanese teams call it too
			t.Errorf("staffMessages[%q].ja = %q, the English text", k, m.ja)
		}
		if _, ok := messages[k]; ok {
			t.Errorf("staffMessages[%q] is also in messages", k)
		}
		if _, ok := reporterMessages[k]; ok {
			t.Errorf("staffMessages[%q] is also in reporterMessages", k)
		}
		en, ja := verbRE.FindAllString(m.en, -1), verbRE.FindAllString(m.ja, -1)
		if len(en) != len(ja) {
			t.Errorf("staffMessages[%q]: en has verbs %q, ja %q", k, en, ja)
		}
	}
	for k := range staffOne {
		if _, ok := staffMessages[k]; !ok {
			t.Errorf("staffOne[%q] has no staffMessages entry", k)
		}
	}
	for k, m := range valueMessages {
		// An id with an underscore reads as words in English too.
		if m.en != k && !strings.Contains(k, "_") || m.ja == "" {
			t.Errorf("valueMessages[%q] = %+v, want en as stored (words for an id with _) and a ja name", k, m)
		}
	}
	for typ := range eventLabels {
		if _, ok := eventLabelsJA[typ]; !ok {
			t.Errorf("eventLabelsJA lacks %q", typ)
		}
	}
	keyRE := regexp.MustCompile(`\{\{T "([^"]+)"`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := templateFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			if _, ok := staffMessages[m[1]]; !ok {
				t.Errorf("%s asks for T %q, which staffMessages lacks", n, m[1])
			}
		}
	}
}

// TestStaffTextPlurals: English says "1 case" and "2 cases"; Japanese has
// one form.
func TestStaffTextPlurals(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{langEN, 1, "1 case, nearest deadline first"},
		{langEN, 2, "2 cases, nearest deadline first"},
		{langJA, 1, "1件の案件（期限が近い順）"},
	} {
		if got := staffText(c.lang, "queue.caption", c.n); got != c.want {
			t.Errorf("staffText(%s, queue.caption, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

// StaffEnglishFragments are the staff catalog's English phrases of three
// words or more, cut at the format verbs: a Japanese staff page must show
// none of them.
func StaffEnglishFragments() []string {
	var out []string
	for _, m := range staffMessages {
		for _, f := range verbRE.Split(m.en, -1) {
			f = strings.TrimSpace(strings.Trim(f, " .,:;()—…"))
			if len(strings.Fields(f)) >= 3 {
				out = append(out, f)
			}
		}
	}
	return out
}

// TestChartInJapanese: the chart's title, summary and legend are in
// Japanese, and legend entries of full-width text (12 px a glyph at the
// legend's 12-px font) do not run into each other.
func TestChartInJapanese(t *testing.T) {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	kinds := []string{"registration", "password_reset", "order_confirmation", "postal_notice", ""}
	labels := map[string]string{"registration": "会員登録・パスワード設定", "password_reset": "パスワード再設定",
		"order_confirmation": "注文確認", "postal_notice": "郵送のお知らせ"}
	var days []cases.DayReports // 30 days, as the dashboard draws them
	for i := range 30 {
		days = append(days, cases.DayReports{Day: day.AddDate(0, 0, i-29), ByKind: map[string]int{}})
	}
	days[29] = cases.DayReports{Day: day, Total: 5, ByKind: map[string]int{"registration": 1, "password_reset": 1, "order_confirmation": 1, "postal_notice": 1, "": 1}}
	c := layoutReportsChartIn(langJA, days, kinds, labels)
	if c.Series[1].Y != c.Series[0].Y {
		t.Fatalf("layoutReportsChartIn(ja) puts each legend entry on its own row: %+v", c.Series)
	}
	if c.Title != "メール種別ごとの日別報告数（直近30日間）" || !strings.HasPrefix(c.Summary, "合計5件。") {
		t.Errorf("layoutReportsChartIn(ja) title, summary = %q, %q", c.Title, c.Summary)
	}
	if got := c.Series[len(c.Series)-1].Label; got != "未照合" {
		t.Errorf("layoutReportsChartIn(ja) legend for no kind = %q, want 未照合", got)
	}
	for i := 1; i < len(c.Series); i++ {
		prev, cur := c.Series[i-1], c.Series[i]
		if cur.Y == prev.Y && cur.X < prev.TextX+12*len([]rune(prev.Label)) {
			t.Errorf("legend %q at x=%d overlaps %q (text from x=%d)", cur.Label, cur.X, prev.Label, prev.TextX)
		}
	}
}
