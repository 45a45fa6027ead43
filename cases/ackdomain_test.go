package cases

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A stranger names 25 addresses at one domain in report mails (issue 12,
// backscatter): every report is filed, but at most DomainPerHour (20 by
// default) acknowledgements go to that domain within an hour; the rest
// are held, visibly, with a reason code, and counted for /metrics. Other
// domains are not held, and the next hour the domain is answered again.
// (The desk's server saw DMARC pass for each From, so only the bound
// holds them; an implausible reporter is held before it, see
// TestAckOnlyToPlausibleReporters.)
func TestAcksBoundedPerDomainPerHour(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, "o1@mail.example.com", "ACC-1", "a@example.org", "registration")
	mail := func(i int, from string) InboundMail {
		id := fmt.Sprintf("lure%d@innocent.example", i)
		return InboundMail{Raw: []byte(id), Parsed: ParsedMail{Class: ClassReport, MessageID: id, From: from,
			Subject: "URGENT: your account is suspended - verify at https://evil.example/login", Lang: "en",
			MessageIDs: []string{"o1@mail.example.com"}, DMARCPass: true}}
	}
	var batch []InboundMail
	for i := range 15 {
		batch = append(batch, mail(i, fmt.Sprintf("victim%d@innocent.example", i)))
	}
	got := ingest(t, d, batch...)
	for i := 15; i < 25; i++ {
		from := fmt.Sprintf("victim%d@innocent.example", i)
		if i == 24 {
			from = "Victim24@INNOCENT.example" // the domain's case does not matter
		}
		got = append(got, ingest(t, d, mail(i, from))...)
	}
	got = append(got, ingest(t, d, mail(25, "reporter@other.example"))...)
	for i, g := range got {
		if g.Disposition != DispositionReport {
			t.Fatalf("IngestMail(mail %d) disposition = %q, want every report filed", i, g.Disposition)
		}
	}

	var acks []Ack
	if err := d.store.r.Order("id").Find(&acks).Error; err != nil {
		t.Fatal(err)
	}
	byState := map[string]int{}
	for _, a := range acks {
		dom := strings.ToLower(a.ToAddr[strings.LastIndexByte(a.ToAddr, '@')+1:])
		byState[dom+" "+a.State]++
		if a.State == AckSuppressed && (a.LastError != AckHeldDomainLimit || a.StatusURL != "") {
			t.Errorf("held ack to %s: reason %q, status URL %q; want %q and no URL", a.ToAddr, a.LastError, a.StatusURL, AckHeldDomainLimit)
		}
	}
	want := map[string]int{"innocent.example pending": 20, "innocent.example suppressed": 5, "other.example pending": 1}
	if fmt.Sprint(byState) != fmt.Sprint(want) {
		t.Errorf("acks by domain and state = %v, want %v", byState, want)
	}
	counts, err := d.HeldAckCounts(ctx)
	if err != nil {
		t.Fatalf("HeldAckCounts() = %v", err)
	}
	if fmt.Sprint(counts) != fmt.Sprint([]HeldAckCount{{AckHeldDomainLimit, 5}, {AckHeldSender, 0}, {AckHeldAddressWindow, 0}, {AckHeldNotPlausible, 0}}) {
		t.Errorf("HeldAckCounts() = %v, want 5 held for %s", counts, AckHeldDomainLimit)
	}

	d.clock.Advance(time.Hour + time.Minute)
	ingest(t, d, mail(26, "victim26@innocent.example"))
	var last Ack
	if err := d.store.r.Order("id DESC").Take(&last).Error; err != nil {
		t.Fatal(err)
	}
	if last.ToAddr != "victim26@innocent.example" || last.State != AckPending {
		t.Errorf("ack an hour later = %s %s, want pending to victim26@innocent.example", last.ToAddr, last.State)
	}
}

// The bound is a setting: AckOptions.DomainPerHour.
func TestAcksDomainBoundConfigurable(t *testing.T) {
	clock := newFakeClock()
	svc, err := NewService(Options{Store: openTestStore(t), Sealer: svcSealer(t, clock.Now), Kinds: svcKinds,
		PublicURL: "https://desk.example.com/", MessageIDDomain: "mail.example.com", Now: clock.Now,
		Acks: AckOptions{DomainPerHour: 2}})
	if err != nil {
		t.Fatalf("NewService() = %v", err)
	}
	var batch []InboundMail
	for i := range 3 {
		id := fmt.Sprintf("r%d@example.net", i)
		batch = append(batch, InboundMail{Raw: []byte(id), Parsed: ParsedMail{Class: ClassReport, MessageID: id,
			From: fmt.Sprintf("p%d@example.net", i), MessageIDs: []string{"nowhere@elsewhere.example"}, DMARCPass: true}})
	}
	if _, err := svc.IngestMail(context.Background(), batch); err != nil {
		t.Fatalf("IngestMail() = %v", err)
	}
	counts, err := svc.HeldAckCounts(context.Background())
	if err != nil || counts[0] != (HeldAckCount{AckHeldDomainLimit, 1}) {
		t.Errorf("HeldAckCounts() = %v, %v; want 1 held for %s with DomainPerHour 2", counts, err, AckHeldDomainLimit)
	}
}
