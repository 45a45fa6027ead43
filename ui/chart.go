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
	chartBarW    = 18
	chartGap     = 4
	chartPlotH   = 160
	chartLeft    = 40 // room for the y labels
	chartTop     = 10
	chartLegendH = 22
)

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
	c := reportsChart{Title: staffText(lang, "chart.title", len(days)), TableNote: staffText(lang, "chart.table")}
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
	c.PlotLeft = chartLeft
	c.PlotRight = chartLeft + len(days)*(chartBarW+chartGap)
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
		c.Ticks = append(c.Ticks, chartTick{Y: y, TextX: chartLeft - 6, TextY: y + 4, Label: strconv.Itoa(v)})
	}
	for i, k := range kinds {
		colour := chartPalette[i%len(chartPalette)]
		if k == "" {
			colour = unknownKindColour
		}
		c.Series = append(c.Series, chartSeries{Name: k, Label: kindLabelIn(lang, labels, k), Colour: colour})
	}
	for i, d := range days {
		x := chartLeft + i*(chartBarW+chartGap) + chartGap/2
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
			c.Bars = append(c.Bars, chartBar{X: x, Y: y, W: chartBarW, H: h, Colour: s.Colour,
				Title: fmt.Sprintf("%s: %s, %d", row.Day, s.Label, n)})
		}
		c.Table = append(c.Table, row)
		if (len(days)-1-i)%7 == 0 { // today and each week back
			c.DayLabels = append(c.DayLabels, chartDayLabel{X: x + chartBarW/2, Y: c.Baseline + 16, Label: d.Day.Format("01-02")})
		}
	}
	// The legend: one row of entries under the day labels, wrapping.
	legendTop := c.Baseline + 30
	x, row := chartLeft, 0
	for i := range c.Series {
		w := 24 + legendTextWidth(c.Series[i].Label)
		if x+w > c.Width && x > chartLeft {
			x, row = chartLeft, row+1
		}
		c.Series[i].X, c.Series[i].Y = x, legendTop+row*chartLegendH
		c.Series[i].TextX, c.Series[i].TextY = x+20, c.Series[i].Y+12
		x += w + 12
	}
	c.Height = legendTop + (row+1)*chartLegendH
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

var chartTemplate = template.Must(template.New("chart").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}" aria-labelledby="chart-title chart-desc">
<title id="chart-title">{{.Title}}</title>
<desc id="chart-desc">{{.Summary}}{{.TableNote}}</desc>
<g class="axis" font-size="11" fill="#555555">
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
<g class="legend" font-size="12" fill="#222222">
{{- range .Series}}
<rect x="{{.X}}" y="{{.Y}}" width="14" height="14" fill="{{.Colour}}"/><text x="{{.TextX}}" y="{{.TextY}}">{{.Label}}</text>
{{- end}}
</g>
</svg>`))

// renderReportsChart draws the chart as inline SVG.
func renderReportsChart(c reportsChart) (template.HTML, error) {
	var b bytes.Buffer
	if err := chartTemplate.Execute(&b, c); err != nil {
		return "", fmt.Errorf("render reports chart: %w", err)
	}
	return template.HTML(b.String()), nil
}
