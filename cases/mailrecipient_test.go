package cases

import "testing"

// TestLedgerRecipientMailIsAProbableReport: a new mail with nothing of the
// original in it (no reply, no link) from an address the company writes
// to is a report on that account, matched probably, for a person to
// confirm; nothing is contained on a From anyone can write. Mail that casts
// doubt on its From, generated mail and strangers' mail stay out, kept.
func TestLedgerRecipientMailIsAProbableReport(t *testing.T) {
	d := newTestDesk(t)
	d.register(t, "o1@mail.example.com", "ACC-1", "taro@gmial.example", "registration")
	d.register(t, "o2@mail.example.com", "ACC-2", "hanako@example.jp", "order_confirmation")
	// A ledger that somehow lists the desk's own address: its mail is
	// still a loop, never a report.
	d.register(t, "o3@mail.example.com", "ACC-3", "notme@desk.example.com", "registration")

	mail := func(id, from, auto, class string) InboundMail {
		return InboundMail{Raw: []byte(id), Parsed: ParsedMail{Class: class, MessageID: id, From: from,
			Auto: auto, Subject: "?", Lang: "en", ParserVersion: 1}}
	}
	for _, tc := range []struct {
		name        string
		m           InboundMail
		disp        string
		reason      string
		account     string // the case's account, for a report
		ackTo, held string // the acknowledgement: sent to ackTo, or held back saying held
	}{
		{"ledger recipient", mail("a@gmial.example", "Taro@Gmial.example", "", ClassUnrelated),
			DispositionReport, "", "ACC-1", "taro@gmial.example", ""},
		{"ledger recipient, no automatic answer wanted", mail("b@example.jp", "hanako@example.jp", "x-auto-response-suppress", ClassUnrelated),
			DispositionReport, "", "ACC-2", "", "x-auto-response-suppress"},
		{"ledger recipient failing DMARC", mail("c@gmial.example", "taro@gmial.example", "dmarc=fail", ClassUnrelated),
			DispositionIgnored, ReasonUnrelated, "", "", ""},
		{"ledger recipient's auto-reply", mail("d@gmial.example", "taro@gmial.example", "vacation", ClassAutoReply),
			DispositionIgnored, ReasonAutoReply, "", "", ""},
		{"the desk's own mail", mail("k@desk.example.com", "notme@desk.example.com", "own-address", ClassAutoReply),
			DispositionIgnored, ReasonLoop, "", "", ""},
		{"ledger recipient, too large", func() InboundMail {
			m := mail("e@gmial.example", "taro@gmial.example", "", ClassUnrelated)
			m.Parsed.Reason = ReasonTooLarge
			return m
		}(), DispositionIgnored, ReasonTooLarge, "", "", ""},
		{"stranger", mail("f@example.org", "someone@example.org", "", ClassUnrelated),
			DispositionIgnored, ReasonUnrelated, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ingest(t, d, tc.m)[0]
			if g.Disposition != tc.disp || g.Reason != tc.reason || g.AckTo != tc.ackTo {
				t.Fatalf("IngestMail() = %+v, want disposition %s reason %q ack to %q", g, tc.disp, tc.reason, tc.ackTo)
			}
			var row MailMessage
			if err := d.store.r.Omit("raw").First(&row, g.MailID).Error; err != nil {
				t.Fatal(err)
			}
			if tc.disp != DispositionReport {
				if g.CaseRef != "" || row.CaseID != nil {
					t.Errorf("kept mail = %+v, case %v; want no case", g, row.CaseID)
				}
				return
			}
			if row.Class != ClassReport || row.ReportID == nil {
				t.Errorf("stored mail class %q report %v, want a report", row.Class, row.ReportID)
			}
			c := d.caseRow(t, g.CaseRef)
			if c.AccountRef != tc.account || c.Match != MatchProbable {
				t.Errorf("case %s = account %q match %s, want %s probable", c.Ref, c.AccountRef, c.Match, tc.account)
			}
			var r Report
			if err := d.store.r.First(&r, *row.ReportID).Error; err != nil {
				t.Fatal(err)
			}
			if r.MatchedBy != "recipient" || r.Channel != ChannelMail {
				t.Errorf("report = channel %s matched by %q, want mail by recipient", r.Channel, r.MatchedBy)
			}
			var actions int64
			if err := d.store.r.Model(&ContainmentAction{}).Where("case_id = ?", c.ID).Count(&actions).Error; err != nil {
				t.Fatal(err)
			}
			if actions != 0 {
				t.Errorf("case %s has %d containment actions, want none on a forgeable From", c.Ref, actions)
			}
			var acks []Ack
			if err := d.store.r.Where("mail_id = ?", g.MailID).Find(&acks).Error; err != nil {
				t.Fatal(err)
			}
			switch {
			case len(acks) != 1:
				t.Errorf("acks of the mail = %+v, want one", acks)
			case tc.held == "" && acks[0].State != AckPending:
				t.Errorf("ack = %+v, want pending", acks[0])
			case tc.held != "" && (acks[0].State != AckSuppressed || acks[0].StatusURL != ""):
				t.Errorf("ack = %+v, want held back (%s), no status URL", acks[0], tc.held)
			}
		})
	}

	// In one batch the look-up of senders is made once for all; the
	// outcome is the one mail by mail gives.
	got := ingest(t, d,
		mail("g@example.org", "nobody@example.org", "", ClassUnrelated),
		mail("h@example.jp", "hanako@example.jp", "", ClassUnrelated),
		mail("i@example.jp", "HANAKO@example.jp", "dmarc=fail", ClassUnrelated),
		mail("j@gmial.example", "taro@gmial.example", "", ClassUnrelated))
	want := []struct{ disp, account string }{
		{DispositionIgnored, ""}, {DispositionReport, "ACC-2"}, {DispositionIgnored, ""}, {DispositionReport, "ACC-1"},
	}
	for i, w := range want {
		if got[i].Disposition != w.disp {
			t.Errorf("batch mail %d = %+v, want %s", i+1, got[i], w.disp)
			continue
		}
		if w.account != "" {
			if c := d.caseRow(t, got[i].CaseRef); c.AccountRef != w.account || c.Match != MatchProbable {
				t.Errorf("batch mail %d: case account %q match %s, want %s probable", i+1, c.AccountRef, c.Match, w.account)
			}
		}
	}
}
