package ui

import (
	"html/template"
	"time"

	"github.com/labstack/echo/v4"

	"notme/cases"
)

// dashboardView is the leads' dashboard below the escalations.
type dashboardView struct {
	cases.Dashboard
	Chart       template.HTML // the SVG, or "" without reports
	ChartKinds  []string      // table header: the kinds' labels
	ChartTable  []chartRow
	ChartTotal  int
	ContainRows []containRow
}

type containRow struct {
	Days     int
	N        int
	P50, P90 string
}

// dashboard computes the leads' dashboard and lays out its chart.
func (s *Server) dashboard(c echo.Context, lang string) (dashboardView, error) {
	d, err := s.svc.Dashboard(c.Request().Context(), actor(c))
	if err != nil {
		return dashboardView{}, err
	}
	labels := map[string]string{}
	for _, k := range s.svc.Kinds() {
		labels[k.Name] = kindLabelOf(lang, k)
	}
	v := dashboardView{Dashboard: d}
	for _, st := range d.Containment {
		r := containRow{Days: st.Days, N: st.N, P50: staffText(lang, "nodata"), P90: staffText(lang, "nodata")}
		if st.N > 0 {
			r.P50, r.P90 = spellIn(lang, st.P50), spellIn(lang, st.P90)
		}
		v.ContainRows = append(v.ContainRows, r)
	}
	ch := layoutReportsChartIn(lang, d.Days, d.Kinds, labels)
	for _, k := range ch.Series {
		v.ChartKinds = append(v.ChartKinds, k.Label)
	}
	v.ChartTable, v.ChartTotal = ch.Table, ch.Total
	if ch.Total > 0 {
		narrow := layoutReportsChartWith(lang, d.Days, d.Kinds, labels, narrowChart)
		if v.Chart, err = renderReportsCharts(ch, narrow); err != nil {
			return v, err
		}
	}
	return v, nil
}

// spellIn writes a duration as people read it at a glance, in lang.
func spellIn(lang string, d time.Duration) string {
	switch {
	case d < time.Minute:
		return staffText(lang, "time.s", int(d.Seconds()))
	case d < time.Hour:
		return staffText(lang, "time.min", int(d.Minutes()))
	case d < 48*time.Hour:
		return staffText(lang, "time.hmin", int(d.Hours()), int(d.Minutes())%60)
	}
	return staffText(lang, "time.fdays", d.Hours()/24)
}
