package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"

	"notme/cases"
)

// The reports-per-day chart is SVG drawn on the server: no script, and
// colours as presentation attributes, which the strict CSP allows where it
// refuses style attributes. Screen readers get the title and a summary;
// everyone can open the same numbers as a table.

// chartPalette is Okabe and Ito's palette, told apart by colour-blind
// readers; kinds beyond it repeat it.
var chartPalette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// unknownKindColour marks reports matched to no kind.
const unknownKindColour = "#999999"

// Geometry of the chart, in SVG user units.
const (
	chartPlotH = 160
	chartTop   = 10
)

// chartGeometry is one drawing of the chart. The page carries two: a wide
// one for desktops and a narrow one for phones, which CSS chooses between.
// An SVG scales as a whole, so text stays legible only where the drawing
// is about as wide as the screen: thirty wide bars shrunk onto a phone
// made 11-unit text about 5 px.
type chartGeometry struct {
	ID         string // prefix of the title's and description's ids
	Class      string
	BarW, Gap  int
	Left       int // room for the y labels
	AxisFont   int
	LegendFont int
	Swatch     int
	LegendH    int
	// LegendFromEdge starts the legend at the left edge, not under the
	// plot: on a phone the y labels' room is too precious to leave empty.
	LegendFromEdge bool
}

var (
	// wideChart is drawn at its own size on a desktop (about 710 units
	// for thirty days).
	wideChart = chartGeometry{ID: "chart", Class: "chart chart-wide", BarW: 18, Gap: 4, Left: 40,
		AxisFont: 12, LegendFont: 12, Swatch: 14, LegendH: 22}
	// narrowChart is drawn for a phone: thirty days in about 310 units,
	// stretched to the screen's width (336 px at 360), so its text is
	// larger than its font size, never smaller.
	narrowChart = chartGeometry{ID: "chart-n", Class: "chart chart-narrow", BarW: 7, Gap: 2, Left: 30,
		AxisFont: 12, LegendFont: 13, Swatch: 14, LegendH: 22, LegendFromEdge: true}
)

// phoneChartWidth is the room a 360-px phone gives the chart: the screen
// less main's padding (.75rem each side).
const phoneChartWidth = 336

type chartSeries struct {
	Name, Label, Colour string
	X, Y, TextX, TextY  int // legend swatch and text
}

type chartBar struct {
	X, Y, W, H int
	Colour     string
	Title      string
}

type chartTick struct {
	Y, TextX, TextY int
	Label           string
}

type chartDayLabel struct {
	X, Y  int
	Label string
}

// reportsChart is the chart's data, laid out.
type reportsChart struct {
	chartGeometry
	Width, Height  int
	Title, Summary string
	TableNote      string // where the same numbers are
	Series         []chartSeries
	Bars           []chartBar
	Ticks          []chartTick
	DayLabels      []chartDayLabel
	PlotLeft       int
	PlotRight      int
	Baseline       int
	// Table is the fallback: one row per day.
	Table []chartRow
	Total int
}

type chartRow struct {
	Day    string
	Counts []int
	Total  int
}

// kindLabel names a kind for people; "" is a report matched to no kind.
func kindLabel(labels map[string]string, kind string) string {
	return kindLabelIn(langEN, labels, kind)
}

func kindLabelIn(lang string, labels map[string]string, kind string) string {
	if kind == "" {
		return staffValue(lang, "unmatched")
	}
	if l := labels[kind]; l != "" {
		return l
	}
	return kind
}

// layoutReportsChart lays out stacked bars, one per day, one segment per
// kind, under a y axis rounded up to a readable maximum.
func layoutReportsChart(days []cases.DayReports, kinds []string, labels map[string]string) reportsChart {
	return layoutReportsChartIn(langEN, days, kinds, labels)
}

// layoutReportsChartIn is layoutReportsChart with its words in lang.
func layoutReportsChartIn(lang string, days []cases.DayReports, kinds []string, labels map[string]string) reportsChart {
	return layoutReportsChartWith(lang, days, kinds, labels, wideChart)
}

// layoutReportsChartWith lays the chart out in geometry g.
func layoutReportsChartWith(lang string, days []cases.DayReports, kinds []string, labels map[string]string, g chartGeometry) reportsChart {
	c := reportsChart{chartGeometry: g, Title: staffText(lang, "chart.title", len(days)), TableNote: staffText(lang, "chart.table")}
	peak, peakDay := 0, ""
	for _, d := range days {
		c.Total += d.Total
		if d.Total > peak {
			peak, peakDay = d.Total, d.Day.Format("2006-01-02")
		}
	}
	if peak > 0 {
		c.Summary = staffText(lang, "chart.summary", c.Total, peakDay, peak)
	} else {
		c.Summary = staffText(lang, "chart.none")
	}
	top := niceCeil(peak)
	c.PlotLeft = g.Left
	c.PlotRight = g.Left + len(days)*(g.BarW+g.Gap)
	c.Baseline = chartTop + chartPlotH
	c.Width = c.PlotRight + 10
	// Gridlines in round steps: halves of 1, 2 or 10×; fifths of 5×.
	steps := 2
	switch {
	case top == 1:
		steps = 1
	case top%2 != 0:
		steps = 5
	}
	for i := 0; i <= steps; i++ {
		v := top * i / steps
		y := c.Baseline - chartPlotH*v/top
		c.Ticks = append(c.Ticks, chartTick{Y: y, TextX: g.Left - 6, TextY: y + g.AxisFont/3, Label: strconv.Itoa(v)})
	}
	for i, k := range kinds {
		colour := chartPalette[i%len(chartPalette)]
		if k == "" {
			colour = unknownKindColour
		}
		c.Series = append(c.Series, chartSeries{Name: k, Label: kindLabelIn(lang, labels, k), Colour: colour})
	}
	for i, d := range days {
		x := g.Left + i*(g.BarW+g.Gap) + g.Gap/2
		y := c.Baseline
		row := chartRow{Day: d.Day.Format("2006-01-02"), Total: d.Total}
		for _, s := range c.Series {
			n := d.ByKind[s.Name]
			row.Counts = append(row.Counts, n)
			if n == 0 {
				continue
			}
			h := chartPlotH * n / top
			if h < 1 {
				h = 1 // a report is never invisible
			}
			y -= h
			c.Bars = append(c.Bars, chartBar{X: x, Y: y, W: g.BarW, H: h, Colour: s.Colour,
				Title: fmt.Sprintf("%s: %s, %d", row.Day, s.Label, n)})
		}
		c.Table = append(c.Table, row)
		if (len(days)-1-i)%7 == 0 { // today and each week back
			c.DayLabels = append(c.DayLabels, chartDayLabel{X: x + g.BarW/2, Y: c.Baseline + 4 + g.AxisFont, Label: d.Day.Format("01-02")})
		}
	}
	// The legend: one row of entries under the day labels, wrapping.
	legendTop := c.Baseline + 14 + 2*g.AxisFont
	left := g.Left
	if g.LegendFromEdge {
		left = 0
	}
	x, row := left, 0
	for i := range c.Series {
		w := g.Swatch + 6 + legendTextWidth(c.Series[i].Label)*g.LegendFont/12
		if x+w > c.Width && x > left {
			x, row = left, row+1
		}
		c.Series[i].X, c.Series[i].Y = x, legendTop+row*g.LegendH
		c.Series[i].TextX, c.Series[i].TextY = x+g.Swatch+6, c.Series[i].Y+g.Swatch-2
		x += w + 12
	}
	c.Height = legendTop + (row+1)*g.LegendH
	return c
}

// legendTextWidth estimates the legend's 12-px text: Japanese glyphs are
// full-width, about twice a Latin letter.
func legendTextWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x2E80 { // CJK, kana and full-width forms
			w += 12
		} else {
			w += 7
		}
	}
	return w
}

// niceCeil rounds a peak up to 1, 2 or 5 times a power of ten, so the
// axis reads in round numbers; 0 becomes 1.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

var chartTemplate = template.Must(template.New("chart").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="{{.Class}}" role="img" viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}" aria-labelledby="{{.ID}}-title {{.ID}}-desc">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Summary}}{{.TableNote}}</desc>
<g class="axis" font-size="{{.AxisFont}}" fill="#555555">
{{- range .Ticks}}
<line x1="{{$.PlotLeft}}" x2="{{$.PlotRight}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#dddddd"/><text x="{{.TextX}}" y="{{.TextY}}" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .DayLabels}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="middle">{{.Label}}</text>
{{- end}}
</g>
<g class="bars">
{{- range .Bars}}
<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Colour}}"><title>{{.Title}}</title></rect>
{{- end}}
</g>
<g class="legend" font-size="{{.LegendFont}}" fill="#222222">
{{- range .Series}}
<rect x="{{.X}}" y="{{.Y}}" width="{{$.Swatch}}" height="{{$.Swatch}}" fill="{{.Colour}}"/><text x="{{.TextX}}" y="{{.TextY}}">{{.Label}}</text>
{{- end}}
</g>
</svg>`))

// renderReportsCharts draws the chart twice, wide and narrow; CSS shows
// the one that fits the screen (the other is display:none, so screen
// readers meet one chart).
func renderReportsCharts(wide, narrow reportsChart) (template.HTML, error) {
	w, err := renderReportsChart(wide)
	if err != nil {
		return "", err
	}
	n, err := renderReportsChart(narrow)
	if err != nil {
		return "", err
	}
	return w + "\n" + n, nil
}

// renderReportsChart draws the chart as inline SVG.
func renderReportsChart(c reportsChart) (template.HTML, error) {
	var b bytes.Buffer
	if err := chartTemplate.Execute(&b, c); err != nil {
		return "", fmt.Errorf("render reports chart: %w", err)
	}
	return template.HTML(b.String()), nil
}
