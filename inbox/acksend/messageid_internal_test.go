package acksend

import (
	"strings"
	"testing"
	"time"

	"notme/cases"
)

// An acknowledgement sent again (it went out, and the desk died before
// recording it) carries the same Message-ID, so the reporter's client
// shows one mail; two acknowledgements never share one (issue 13).
func TestAckMessageIDIsTheSameOnEveryAttempt(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 0, 0, 123456789, time.UTC)
	a := cases.Ack{ID: 41, MailID: 7, CaseRef: "NM-7K3Q-9XRD", ToAddr: "taro@gmial.example", CreatedAt: at}
	first := stableMessageID(a, "desk.example.com")
	retry := a
	retry.Attempts, retry.LastError, retry.NextAttemptAt = 3, "451 greylisted", at.Add(time.Hour)
	if again := stableMessageID(retry, "desk.example.com"); again != first {
		t.Errorf("the same acknowledgement's Message-ID on a later attempt = %q, want %q", again, first)
	}
	if !strings.HasPrefix(first, "ack.NM-7K3Q-9XRD.") || !strings.HasSuffix(first, "@desk.example.com") || !validMsgID(first) {
		t.Errorf("stableMessageID = %q, want ack.<case>.<id>@<desk domain>, a valid Message-ID", first)
	}
	seen := map[string]bool{first: true}
	for _, other := range []cases.Ack{
		{ID: 42, MailID: 7, CaseRef: a.CaseRef, ToAddr: a.ToAddr, CreatedAt: at},
		{ID: 41, MailID: 7, CaseRef: a.CaseRef, ToAddr: a.ToAddr, CreatedAt: at.Add(time.Nanosecond)}, // another desk's row 41
		{ID: 41, MailID: 8, CaseRef: a.CaseRef, ToAddr: "other@example.org", CreatedAt: at},
	} {
		id := stableMessageID(other, "desk.example.com")
		if seen[id] {
			t.Errorf("stableMessageID(%+v) = %q, already given to another acknowledgement", other, id)
		}
		seen[id] = true
	}
}
