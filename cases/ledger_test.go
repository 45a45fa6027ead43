package cases

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"notme/cases/sealed"
)

func validMessage() LedgerMessage {
	return LedgerMessage{MessageID: "<abc.1@mail.example.com>", AccountRef: "acct-1",
		Recipient: "Alice@Example.com", Kind: "registration", Subject: "Set your password"}
}

func TestRegisterMessageValidation(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		edit    func(*LedgerMessage)
		mention string
	}{
		{"no message_id", func(m *LedgerMessage) { m.MessageID = " <> " }, "message_id"},
		{"long message_id", func(m *LedgerMessage) { m.MessageID = strings.Repeat("a", 990) + "@example.com" }, "message_id"},
		{"message_id without @", func(m *LedgerMessage) { m.MessageID = "abc.example.com" }, "message_id"},
		{"message_id with space", func(m *LedgerMessage) { m.MessageID = "a b@example.com" }, "message_id"},
		{"message_id with inner bracket", func(m *LedgerMessage) { m.MessageID = "<a<b@example.com>" }, "message_id"},
		{"message_id non-ASCII", func(m *LedgerMessage) { m.MessageID = "ä@example.com" }, "message_id"},
		{"no account_ref", func(m *LedgerMessage) { m.AccountRef = "  " }, "account_ref"},
		{"long account_ref", func(m *LedgerMessage) { m.AccountRef = strings.Repeat("x", 129) }, "account_ref"},
		{"account_ref with control", func(m *LedgerMessage) { m.AccountRef = "a\x00b" }, "account_ref"},
		{"no recipient", func(m *LedgerMessage) { m.Recipient = "" }, "recipient"},
		{"recipient without @", func(m *LedgerMessage) { m.Recipient = "alice.example.com" }, "recipient"},
		{"recipient without dot", func(m *LedgerMessage) { m.Recipient = "alice@example" }, "recipient"},
		{"recipient list", func(m *LedgerMessage) { m.Recipient = "a@example.com,b@example.com" }, "recipient"},
		{"recipient too long", func(m *LedgerMessage) { m.Recipient = strings.Repeat("a", 320) + "@example.com" }, "recipient"},
		{"long subject", func(m *LedgerMessage) { m.Subject = strings.Repeat("s", 999) }, "subject"},
		{"no kind", func(m *LedgerMessage) { m.Kind = "" }, "kind"},
		{"unknown kind", func(m *LedgerMessage) { m.Kind = "parcel" }, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMessage()
			tt.edit(&m)
			_, created, err := d.RegisterMessage(ctx, m)
			wantCode(t, fmt.Sprintf("RegisterMessage(%q)", tt.name), err, EINVALID, tt.mention)
			if created {
				t.Errorf("RegisterMessage(%q) created = true on an error", tt.name)
			}
		})
	}
	if n := countRows(t, d.store, "ledger_messages"); n != 0 {
		t.Errorf("ledger has %d rows after only bad registrations, want 0", n)
	}
}

func TestRegisterMessageIdempotent(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	sent := time.Date(2026, 3, 1, 8, 0, 0, 123456789, time.FixedZone("JST", 9*3600))
	m := validMessage()
	m.SentAt = &sent
	first, created, err := d.RegisterMessage(ctx, m)
	if err != nil || !created {
		t.Fatalf("RegisterMessage() = %v, created %v; want nil, true", err, created)
	}
	if first.MessageID != "<abc.1@mail.example.com>" {
		t.Errorf("RegisterMessage().MessageID = %q, want <abc.1@mail.example.com>", first.MessageID)
	}
	if !strings.HasPrefix(first.URL, "https://desk.example.com/r/") {
		t.Errorf("RegisterMessage().URL = %q, want https://desk.example.com/r/…", first.URL)
	}

	// The retry differs in brackets, case of the recipient and even the
	// account: the stored message wins.
	retry := m
	retry.MessageID = " abc.1@mail.example.com "
	retry.AccountRef = "acct-other"
	d.clock.Advance(time.Hour)
	again, created, err := d.RegisterMessage(ctx, retry)
	if err != nil || created {
		t.Fatalf("RegisterMessage(same id) = %v, created %v; want nil, false", err, created)
	}
	if again != first {
		t.Errorf("RegisterMessage(same id) an hour later = %+v, want the same answer %+v", again, first)
	}
	c1 := openLink(t, d, first.URL)
	c2 := openLink(t, d, again.URL)
	if c1.AccountRef != "acct-1" || c2.AccountRef != "acct-1" {
		t.Errorf("links of RegisterMessage twice name accounts %q and %q, want acct-1 both", c1.AccountRef, c2.AccountRef)
	}
	if !bytes.Equal(c1.MessageIDHash, sealed.MessageIDHash("abc.1@mail.example.com")) || !bytes.Equal(c2.MessageIDHash, c1.MessageIDHash) {
		t.Errorf("links of RegisterMessage twice carry message-id hashes %x and %x, want %x",
			c1.MessageIDHash, c2.MessageIDHash, sealed.MessageIDHash("abc.1@mail.example.com"))
	}
	if !bytes.Equal(c1.RecipientHash, sealed.RecipientHash("alice@example.com")) {
		t.Errorf("link's recipient hash %x, want that of alice@example.com", c1.RecipientHash)
	}
	if c1.Kind != "registration" {
		t.Errorf("link's kind %q, want registration", c1.Kind)
	}

	if n := countRows(t, d.store, "ledger_messages"); n != 1 {
		t.Fatalf("ledger has %d rows after registering one message twice, want 1", n)
	}
	got, err := d.LedgerByMessageID(ctx, "<abc.1@mail.example.com>")
	if err != nil {
		t.Fatalf("LedgerByMessageID() = %v", err)
	}
	if got.AccountRef != "acct-1" || got.Recipient != "alice@example.com" || got.MessageID != "abc.1@mail.example.com" {
		t.Errorf("LedgerByMessageID() = %+v, want the first registration, normalised", got)
	}
	if got.SentAt == nil || !got.SentAt.Equal(sent.Truncate(time.Microsecond)) {
		t.Errorf("LedgerByMessageID().SentAt = %v, want %v", got.SentAt, sent.Truncate(time.Microsecond))
	}
	_, err = d.LedgerByMessageID(ctx, "nope@example.com")
	wantCode(t, "LedgerByMessageID(unknown)", err, ENOTFOUND, "")
}

func openLink(t *testing.T, d *testDesk, link string) sealed.Claims {
	t.Helper()
	tok := link[strings.LastIndex(link, "/r/")+3:]
	c, err := d.sealer.Open(tok)
	if err != nil {
		t.Fatalf("Open(token of %s) = %v", link, err)
	}
	return c
}

func TestNormalizeMessageID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<a@b.example>", "a@b.example"},
		{"a@b.example", "a@b.example"},
		{"  <a@b.example>  ", "a@b.example"},
		{"< a@b.example >", "a@b.example"},
		{"<a@b.example", "a@b.example"},
		{"a@b.example>", "a@b.example"},
		{"<>", ""},
		{"", ""},
		{"<<a@b>>", "<a@b>"},
	}
	for _, tt := range tests {
		if got := NormalizeMessageID(tt.in); got != tt.want {
			t.Errorf("NormalizeMessageID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLedgerBatch(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, mid(5), "acct-pre", "pre@example.com", "newsletter")

	b := d.NewLedgerBatch()
	const lines = 1234 // two full chunks and a rest
	var invalid int
	for i := 0; i < lines; i++ {
		m := LedgerMessage{MessageID: "<" + mid(i%1200) + ">", AccountRef: fmt.Sprintf("acct-%d", i),
			Recipient: fmt.Sprintf("user%d@example.com", i), Kind: "order_confirmation"}
		if i%100 == 99 {
			m.Kind = "bogus"
			invalid++
		}
		err := b.Add(ctx, m)
		if i%100 == 99 {
			wantCode(t, fmt.Sprintf("Add(line %d)", i), err, EINVALID, "kind")
			continue
		}
		if err != nil {
			t.Fatalf("Add(line %d) = %v", i, err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush() again = %v", err)
	}
	// Lines 1200..1233 repeat the ids of lines 0..33 in a later chunk, and
	// mid(5) was registered before the batch.
	wantAccepted := lines - invalid
	distinct := map[string]bool{}
	for i := 0; i < lines; i++ {
		if i%100 != 99 {
			distinct[mid(i%1200)] = true
		}
	}
	wantInserted := len(distinct) - 1
	if b.Accepted != wantAccepted || b.Inserted != wantInserted {
		t.Errorf("LedgerBatch Accepted, Inserted = %d, %d; want %d, %d", b.Accepted, b.Inserted, wantAccepted, wantInserted)
	}
	if n := countRows(t, d.store, "ledger_messages"); n != int64(len(distinct)) {
		t.Errorf("ledger has %d rows, want %d", n, len(distinct))
	}
	m, err := d.LedgerByMessageID(ctx, mid(5))
	if err != nil || m.AccountRef != "acct-pre" {
		t.Errorf("LedgerByMessageID(pre-registered) = %+v, %v; want the first registration kept", m, err)
	}
	m, err = d.LedgerByMessageID(ctx, mid(10))
	if err != nil || m.AccountRef != "acct-10" || m.Kind != "order_confirmation" || m.Recipient != "user10@example.com" {
		t.Errorf("LedgerByMessageID(%s) = %+v, %v; want acct-10", mid(10), m, err)
	}
	if !m.CreatedAt.Equal(d.clock.Now()) {
		t.Errorf("LedgerByMessageID().CreatedAt = %v, want the injected clock's %v", m.CreatedAt, d.clock.Now())
	}
}

func TestLedgerBatchDuplicatesInOneChunk(t *testing.T) {
	d := newTestDesk(t)
	ctx := context.Background()
	d.register(t, mid(1), "acct-1", "a@example.com", "newsletter")
	b := d.NewLedgerBatch()
	for i, id := range []string{mid(2), "<" + mid(2) + ">", mid(1), mid(2), mid(3)} {
		m := LedgerMessage{MessageID: id, AccountRef: "acct-2", Recipient: "b@example.com", Kind: "newsletter"}
		if err := b.Add(ctx, m); err != nil {
			t.Fatalf("Add(line %d) = %v", i, err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	if b.Accepted != 5 || b.Inserted != 2 {
		t.Errorf("LedgerBatch Accepted, Inserted = %d, %d; want 5, 2", b.Accepted, b.Inserted)
	}
	if n := countRows(t, d.store, "ledger_messages"); n != 3 {
		t.Errorf("ledger has %d rows, want 3", n)
	}
}

func TestLedgerBatchEmpty(t *testing.T) {
	d := newTestDesk(t)
	b := d.NewLedgerBatch()
	if err := b.Flush(context.Background()); err != nil {
		t.Fatalf("Flush() of an empty batch = %v", err)
	}
	if b.Accepted != 0 || b.Inserted != 0 {
		t.Errorf("empty batch Accepted, Inserted = %d, %d; want 0, 0", b.Accepted, b.Inserted)
	}
}

func TestMint(t *testing.T) {
	d := newTestDesk(t)
	m, err := d.Mint(" acct-9 ", "registration", " Bob@Example.com ")
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	if want := "<nm1." + m.Token + "@mail.example.com>"; m.MessageID != want {
		t.Errorf("Mint().MessageID = %q, want %q", m.MessageID, want)
	}
	if want := "https://desk.example.com/r/" + m.Token; m.URL != want {
		t.Errorf("Mint().URL = %q, want %q", m.URL, want)
	}
	if !sealed.LooksLikeToken(m.Token) {
		t.Errorf("sealed.LooksLikeToken(Mint().Token) = false")
	}
	if got := TokenFromMessageID(m.MessageID); got != m.Token {
		t.Errorf("TokenFromMessageID(%q) = %q, want %q", m.MessageID, got, m.Token)
	}
	if got := TokenFromMessageID(strings.Trim(m.MessageID, "<>")); got != m.Token {
		t.Errorf("TokenFromMessageID(without brackets) = %q, want %q", got, m.Token)
	}
	c, err := d.sealer.Open(m.Token)
	if err != nil {
		t.Fatalf("Open(Mint().Token) = %v", err)
	}
	if c.AccountRef != "acct-9" || c.Kind != "registration" || !bytes.Equal(c.RecipientHash, sealed.RecipientHash("bob@example.com")) {
		t.Errorf("Open(Mint().Token) = %+v, want acct-9, registration, bob's hash", c)
	}
	if !c.IssuedAt.Equal(d.clock.Now()) {
		t.Errorf("Open(Mint().Token).IssuedAt = %v, want the clock's %v", c.IssuedAt, d.clock.Now())
	}

	noRcpt, err := d.Mint("acct-9", "newsletter", "")
	if err != nil {
		t.Fatalf("Mint(no recipient) = %v", err)
	}
	if c, _ := d.sealer.Open(noRcpt.Token); c.RecipientHash != nil {
		t.Errorf("Open(Mint(no recipient)).RecipientHash = %x, want none", c.RecipientHash)
	}
	if noRcpt.Token == m.Token {
		t.Errorf("Mint() twice gave the same token")
	}

	_, err = d.Mint("acct-9", "parcel", "")
	wantCode(t, "Mint(unknown kind)", err, EINVALID, "")
	for _, k := range svcKinds {
		if err != nil && !strings.Contains(ErrorMessage(err), k.Name) {
			t.Errorf("Mint(unknown kind) = %q, want it to list %s", ErrorMessage(err), k.Name)
		}
	}
	_, err = d.Mint("", "registration", "")
	wantCode(t, "Mint(no account)", err, EINVALID, "account_ref")
	_, err = d.Mint(strings.Repeat("a", 129), "registration", "")
	wantCode(t, "Mint(long account)", err, EINVALID, "account_ref")
	_, err = d.Mint("acct-9", "registration", "not-an-address")
	wantCode(t, "Mint(bad recipient)", err, EINVALID, "recipient")
}

func TestTokenFromMessageID(t *testing.T) {
	d := newTestDesk(t)
	tok := d.mint(t, "acct-1", "registration").Token
	tests := []struct{ in, want string }{
		{"<nm1." + tok + "@mail.example.com>", tok},
		{"nm1." + tok + "@other.example", tok},
		{"<nm2." + tok + "@mail.example.com>", ""},
		{"<" + tok + "@mail.example.com>", ""},
		{"<nm1.short@mail.example.com>", ""},
		{"<nm1." + tok + "!@mail.example.com>", ""},
		{"nm1." + tok, ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := TokenFromMessageID(tt.in); got != tt.want {
			t.Errorf("TokenFromMessageID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRegisterMessageConcurrent(t *testing.T) {
	d := newTestDesk(t)
	const n = 20
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, created[i], errs[i] = d.RegisterMessage(context.Background(), LedgerMessage{
				MessageID: "<race@mail.example.com>", AccountRef: fmt.Sprintf("acct-%d", i),
				Recipient: "r@example.com", Kind: "newsletter"})
		}()
	}
	wg.Wait()
	wins := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("RegisterMessage(#%d) = %v", i, errs[i])
		}
		if created[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent RegisterMessage calls of one Message-ID say created, want 1", wins, n)
	}
	if c := countRows(t, d.store, "ledger_messages"); c != 1 {
		t.Errorf("ledger has %d rows, want 1", c)
	}
}
