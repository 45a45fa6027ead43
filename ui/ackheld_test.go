package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"notme/app"
	"notme/cases"
)

// Acknowledgements held by the per-domain bound (issue 12, backscatter)
// show in /metrics by reason, and on the case like other held acks.
func TestMetricsCountHeldAcks(t *testing.T) {
	d := newDesk(t, func(c *app.Config) { c.Mail.AckDomainPerHour = 2 })
	d.addUser(t, "agent@desk.example", cases.RoleAgent, true)
	var batch []cases.InboundMail
	for i := range 3 {
		id := fmt.Sprintf("lure%d@innocent.example", i)
		batch = append(batch, cases.InboundMail{Raw: []byte(id), Parsed: cases.ParsedMail{Class: cases.ClassReport, MessageID: id,
			From: fmt.Sprintf("victim%d@innocent.example", i), Subject: "URGENT: verify at https://evil.example/login",
			MessageIDs: []string{"nowhere@elsewhere.example"}, DMARCPass: true}})
	}
	got, err := d.app.Service.IngestMail(context.Background(), batch)
	if err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}
	agent := d.login(t, "agent@desk.example")
	r := d.opsGet(t, "/metrics")
	for _, want := range []string{`notme_acks_held_total{reason="domain_hourly_limit"} 1`, `notme_acks_held_total{reason="sender_check"} 0`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("%s lacks %q", r.call, want)
		}
	}
	for lang, want := range map[string]string{"en": "too many acknowledgements to this domain within the hour", "ja": "同じドメインへの受付通知が上限に達しました"} {
		if c := agent.get(t, "/cases/"+got[2].CaseRef+"?lang="+lang); !strings.Contains(c.body, want) {
			t.Errorf("%s does not say why its acknowledgement was held: want %q", c.call, want)
		}
	}
}
