package ui

import "sort"

// Route is one entry of the route table: a method and a path pattern
// (":name" for a parameter, "*" for the rest).
type Route struct{ Method, Path string }

// Routes lists the route table, sorted, for tests that walk every page.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
