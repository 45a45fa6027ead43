package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"notme/cases"
)

// TestStaffErrorPages: staff without the security-trained flag are told
// what they lack and whom to ask; a trained agent on a leads' page is told
// whose page it is; an unknown page or case is a 404 that keeps the
// console and offers the search; the public 404 stays public.
func TestStaffErrorPages(t *testing.T) {
	d := newDesk(t)
	d.addUser(t, "parcel@desk.example", cases.RoleAgent, false)
	d.addUser(t, "ann@desk.example", cases.RoleAgent, true)
	ref, _ := d.browser(t).report(t, d.mint(t, "ACC-1", "newsletter").Token, nil)

	parcel := d.login(t, "parcel@desk.example")
	for _, path := range []string{"/queue", "/cases/" + ref, "/queue?q=ACC-1"} {
		r := parcel.get(t, path)
		r.wantStatus(t, http.StatusForbidden)
		r.wantHTML(t)
		for _, want := range []string{"You don&#39;t have access to this", "security-trained", "Ask an admin", "parcel@desk.example", `action="/logout"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("%s lacks %q:\n%s", r.call, want, clip(r.body))
			}
		}
		if strings.Contains(r.body, "ACC-1") && path != "/queue?q=ACC-1" || strings.Contains(r.body, ref) {
			t.Errorf("%s shows case data to untrained staff", r.call)
		}
	}

	ann := d.login(t, "ann@desk.example")
	r := ann.get(t, "/leads")
	r.wantStatus(t, http.StatusForbidden)
	if !strings.Contains(r.body, "This page is for leads and admins only.") || !strings.Contains(r.body, `<a href="/queue">Back to the queue</a>`) {
		t.Errorf("%s does not say whose page it is and lead back to the queue:\n%s", r.call, clip(r.body))
	}

	for _, path := range []string{"/cases/NM-0000-0000", "/no-such-page", "/cases/not-a-ref"} {
		r := ann.get(t, path)
		r.wantStatus(t, http.StatusNotFound)
		r.wantHTML(t)
		for _, want := range []string{"We can&#39;t find this page", `action="/queue"`, `name="q"`, "Back to the queue", `action="/logout"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("%s lacks %q:\n%s", r.call, want, clip(r.body))
			}
		}
	}

	anon := d.browser(t).get(t, "/no-such-page")
	anon.wantStatus(t, http.StatusNotFound)
	if strings.Contains(anon.body, "Back to the queue") || strings.Contains(anon.body, `action="/logout"`) {
		t.Errorf("%s shows the staff console to someone not logged in", anon.call)
	}
}
