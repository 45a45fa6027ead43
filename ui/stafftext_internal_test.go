package ui

import (
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// TestStaffTextPlurals: English says "1 case" and "2 cases"; Japanese has
// one form.
func TestStaffTextPlurals(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{langEN, 1, "1 case, most urgent first"},
		{langEN, 2, "2 cases, most urgent first"},
		{langJA, 1, "1件の案件（緊急度の高い順）"},
	} {
		if got := staffText(c.lang, "queue.caption", c.n); got != c.want {
			t.Errorf("staffText(%s, queue.caption, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
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
