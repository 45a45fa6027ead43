package ui

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// svgNode is a parsed SVG element, enough to check the chart's structure.
type svgNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []svgNode  `xml:",any"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) all(name string, out *[]svgNode) {
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			*out = append(*out, c)
		}
		c.all(name, out)
	}
}

func (n svgNode) group(class string) svgNode {
	for _, c := range n.Children {
		if c.XMLName.Local == "g" && c.attr("class") == class {
			return c
		}
	}
	return svgNode{}
}

func testDays(counts ...map[string]int) []cases.DayReports {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	days := make([]cases.DayReports, 30)
	for i := range days {
		days[i] = cases.DayReports{Day: start.AddDate(0, 0, i), ByKind: map[string]int{}}
		if i < len(counts) {
			for k, n := range counts[i] {
				days[i].ByKind[k] = n
				days[i].Total += n
			}
		}
	}
	return days
}

func TestReportsChartStructure(t *testing.T) {
	labels := map[string]string{"password_reset": "Password reset", "postal_notice": "Postal <notice> & co"}
	for _, tc := range []struct {
		name    string
		days    []cases.DayReports
		kinds   []string
		bars    int // non-empty segments
		top     string
		summary string
	}{
		{"one kind", testDays(map[string]int{"password_reset": 3}), []string{"password_reset"}, 1, "5", "3 reports in all; the most on 2026-11-01 (3)."},
		{"stacked", testDays(map[string]int{"password_reset": 2, "postal_notice": 4}, nil, map[string]int{"": 1}),
			[]string{"", "password_reset", "postal_notice"}, 3, "10", "7 reports in all; the most on 2026-11-01 (6)."},
		{"many", testDays(map[string]int{"postal_notice": 170}), []string{"postal_notice"}, 1, "200", "170 reports in all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := layoutReportsChart(tc.days, tc.kinds, labels)
			html, err := renderReportsChart(c)
			if err != nil {
				t.Fatalf("renderReportsChart() = %v", err)
			}
			s := string(html)
			for _, bad := range []string{"<script", "style=", "javascript:", "on" + "load=", "<notice>"} {
				if strings.Contains(strings.ToLower(s), strings.ToLower(bad)) {
					t.Errorf("renderReportsChart() contains %q: the CSP refuses it, or a label is not escaped:\n%s", bad, s)
				}
			}
			var root svgNode
			dec := xml.NewDecoder(strings.NewReader(s))
			dec.Entity = xml.HTMLEntity
			if err := dec.Decode(&root); err != nil && err != io.EOF {
				t.Fatalf("renderReportsChart() is not well-formed XML: %v\n%s", err, s)
			}
			if root.XMLName.Local != "svg" || root.attr("role") != "img" || root.attr("aria-labelledby") != "chart-title chart-desc" {
				t.Fatalf("root = <%s role=%q aria-labelledby=%q>, want an accessible <svg role=img>", root.XMLName.Local, root.attr("role"), root.attr("aria-labelledby"))
			}
			var titles, descs []svgNode
			root.all("title", &titles)
			root.all("desc", &descs)
			if len(titles) == 0 || titles[0].attr("id") != "chart-title" || !strings.Contains(titles[0].Text, "Reports per day by message kind") {
				t.Errorf("first <title> = %+v, want the chart's title", titles)
			}
			if len(descs) != 1 || !strings.Contains(descs[0].Text, tc.summary) {
				t.Errorf("<desc> = %+v, want the summary %q", descs, tc.summary)
			}

			var bars []svgNode
			root.group("bars").all("rect", &bars)
			if len(bars) != tc.bars {
				t.Fatalf("%d bar segments, want %d", len(bars), tc.bars)
			}
			// Heights are proportional to counts; each segment names its day,
			// kind and count.
			top, _ := strconv.Atoi(tc.top)
			for _, b := range bars {
				var title svgNode
				for _, ch := range b.Children {
					if ch.XMLName.Local == "title" {
						title = ch
					}
				}
				n, _ := strconv.Atoi(title.Text[strings.LastIndex(title.Text, " ")+1:])
				h, _ := strconv.Atoi(b.attr("height"))
				if want := max(1, chartPlotH*n/top); h != want {
					t.Errorf("bar %q has height %d, want %d (of %d for %s)", title.Text, h, want, chartPlotH, tc.top)
				}
				if b.attr("fill") == "" {
					t.Errorf("bar %q has no fill", title.Text)
				}
			}
			var ticks []svgNode
			root.group("axis").all("text", &ticks)
			// The value labels (right-aligned) ascend in equal steps from 0
			// to the top; the day labels follow them.
			var values []int
			for _, tk := range ticks {
				if tk.attr("text-anchor") == "end" {
					v, _ := strconv.Atoi(tk.Text)
					values = append(values, v)
				}
			}
			if len(values) < 2 || values[0] != 0 || strconv.Itoa(values[len(values)-1]) != tc.top {
				t.Errorf("axis values = %v, want 0 up to %s", values, tc.top)
			}
			for i := 2; i < len(values); i++ {
				if values[i]-values[i-1] != values[1]-values[0] {
					t.Errorf("axis values = %v, want equal steps", values)
				}
			}
			var legend []svgNode
			root.group("legend").all("text", &legend)
			if len(legend) != len(tc.kinds) {
				t.Fatalf("legend has %d entries, want %d", len(legend), len(tc.kinds))
			}
			for i, k := range tc.kinds {
				if want := kindLabel(labels, k); legend[i].Text != want {
					t.Errorf("legend[%d] = %q, want %q", i, legend[i].Text, want)
				}
			}
			if len(c.Table) != 30 || c.Table[0].Total != tc.days[0].Total {
				t.Errorf("table fallback = %d rows, first total %d; want 30 rows", len(c.Table), c.Table[0].Total)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 170: 200, 201: 500, 999: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestReportsChartLegibleOnAPhone: drawn for a phone, thirty days of
// every kind keep their text at least 12 px on a 360-px screen (the chart
// is stretched to phoneChartWidth, never shrunk below its font size),
// and every legend entry stays inside the drawing, in both languages.
func TestReportsChartLegibleOnAPhone(t *testing.T) {
	labels := map[string]string{
		"registration": "Registration: set your password", "order_confirmation": "Order confirmation",
		"postal_notice": "Postal notice", "newsletter": "Newsletter",
	}
	labelsJA := map[string]string{
		"registration": "会員登録・パスワード設定", "order_confirmation": "注文確認",
		"postal_notice": "郵送のお知らせ", "newsletter": "メールマガジン",
	}
	kinds := []string{"", "registration", "order_confirmation", "postal_notice", "newsletter"}
	busy := map[string]int{"": 2, "registration": 40, "order_confirmation": 7, "postal_notice": 1, "newsletter": 3}
	for _, tc := range []struct {
		name   string
		lang   string
		labels map[string]string
		g      chartGeometry
		width  int // the room the chart gets, in CSS px
	}{
		{"phone en", langEN, labels, narrowChart, phoneChartWidth},
		{"phone ja", langJA, labelsJA, narrowChart, phoneChartWidth},
		{"desktop en", langEN, labels, wideChart, 1120},
		{"desktop ja", langJA, labelsJA, wideChart, 1120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := layoutReportsChartWith(tc.lang, testDays(busy, busy, nil, busy), kinds, tc.labels, tc.g)
			// A phone stretches the narrow chart to its width; a desktop
			// draws the wide one at its own size (max-width: 100%).
			scale := 1.0
			if tc.g.Class == narrowChart.Class || c.Width > tc.width {
				scale = float64(tc.width) / float64(c.Width)
			}
			for name, font := range map[string]int{"axis": c.AxisFont, "legend": c.LegendFont} {
				if px := float64(font) * scale; px < 12 {
					t.Errorf("%s text is %.1f px (font %d in a %d-unit drawing over %d px), want at least 12", name, px, font, c.Width, tc.width)
				}
			}
			for _, s := range c.Series {
				if right := s.TextX + legendTextWidth(s.Label)*c.LegendFont/12; right > c.Width {
					t.Errorf("legend %q ends at %d, past the drawing's width %d", s.Label, right, c.Width)
				}
				if s.Y+c.Swatch > c.Height {
					t.Errorf("legend %q at y %d is below the drawing's height %d", s.Label, s.Y, c.Height)
				}
			}
			html, err := renderReportsChart(c)
			if err != nil {
				t.Fatalf("renderReportsChart() = %v", err)
			}
			if want := `aria-labelledby="` + tc.g.ID + `-title ` + tc.g.ID + `-desc"`; !strings.Contains(string(html), want) {
				t.Errorf("renderReportsChart() lacks %s: two charts on one page need their own ids", want)
			}
		})
	}
}
