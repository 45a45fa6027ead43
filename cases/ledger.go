package cases

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"notme/cases/sealed"
	"notme/cases/store"
)

// LedgerMessage is one account mail the company sent, registered so that a
// report quoting its Message-ID finds the account.
type LedgerMessage struct {
	ID         int64
	MessageID  string // without angle brackets
	AccountRef string
	Recipient  string // lower-cased address
	Kind       string
	Subject    string
	SentAt     *time.Time
	CreatedAt  time.Time
}

func (LedgerMessage) TableName() string { return "ledger_messages" }

// Registered is the answer to a ledger registration: the Message-ID as
// stored and the "not me" link to put in the mail.
type Registered struct {
	MessageID string `json:"message_id"`
	URL       string `json:"url"`
}

// Limits on ledger fields; a Message-ID may be at most a header line long.
const (
	maxMessageID  = 995
	maxAccountRef = 128
	maxRecipient  = 320
	maxSubject    = 998
)

// NormalizeMessageID strips angle brackets and surrounding space.
func NormalizeMessageID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	return strings.TrimSpace(id)
}

// prepareMessage normalises m in place and checks it; the error is EINVALID
// with a message naming the field.
func (s *Service) prepareMessage(m *LedgerMessage) error {
	m.MessageID = NormalizeMessageID(m.MessageID)
	m.AccountRef = strings.TrimSpace(m.AccountRef)
	m.Recipient = strings.ToLower(strings.TrimSpace(m.Recipient))
	m.Kind = strings.TrimSpace(m.Kind)
	m.Subject = store.StorableText(m.Subject)
	switch {
	case m.MessageID == "":
		return Errorf(EINVALID, "message_id is required")
	case len(m.MessageID) > maxMessageID:
		return Errorf(EINVALID, "message_id is longer than %d bytes", maxMessageID)
	case !validMessageID(m.MessageID):
		return Errorf(EINVALID, "message_id must look like local@domain with no spaces or brackets")
	case m.AccountRef == "":
		return Errorf(EINVALID, "account_ref is required")
	case len(m.AccountRef) > maxAccountRef || !printable(m.AccountRef):
		return Errorf(EINVALID, "account_ref must be at most %d printable bytes", maxAccountRef)
	case m.Recipient == "":
		return Errorf(EINVALID, "recipient is required")
	case len(m.Recipient) > maxRecipient || !validAddress(m.Recipient):
		return Errorf(EINVALID, "recipient must be an email address")
	case len(m.Subject) > maxSubject:
		return Errorf(EINVALID, "subject is longer than %d bytes", maxSubject)
	}
	if _, ok := s.kinds[m.Kind]; !ok {
		return Errorf(EINVALID, "kind must be one of: %s", s.kindNames())
	}
	if m.SentAt != nil {
		t := m.SentAt.UTC().Truncate(time.Microsecond)
		m.SentAt = &t
	}
	m.ID = 0
	m.CreatedAt = s.clock()
	return nil
}

func validMessageID(id string) bool {
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' {
			return false
		}
	}
	return true
}

func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || !strings.Contains(a[at:], ".") && a[at+1:] != "localhost" {
		return false
	}
	for _, r := range a {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == ',' {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// RegisterMessage records one sent message. It is idempotent on the
// Message-ID: registering it again changes nothing and returns the same
// answer with created false.
func (s *Service) RegisterMessage(ctx context.Context, m LedgerMessage) (Registered, bool, error) {
	if err := s.prepareMessage(&m); err != nil {
		return Registered{}, false, err
	}
	res := s.store.w.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m)
	if res.Error != nil {
		return Registered{}, false, fmt.Errorf("register message: %w", res.Error)
	}
	created := res.RowsAffected == 1
	if !created {
		// Answer from what is stored, so a retry with other fields still
		// gets the link of the message that was really registered.
		if err := s.store.w.WithContext(ctx).Where("message_id = ?", m.MessageID).First(&m).Error; err != nil {
			return Registered{}, false, fmt.Errorf("read registered message: %w", err)
		}
	}
	reg, err := s.registered(m)
	return reg, created, err
}

func (s *Service) registered(m LedgerMessage) (Registered, error) {
	tok, err := s.sealer.SealDeterministic(sealed.Claims{
		IssuedAt:      m.CreatedAt,
		AccountRef:    m.AccountRef,
		Kind:          m.Kind,
		RecipientHash: sealed.RecipientHash(m.Recipient),
		MessageIDHash: sealed.MessageIDHash(m.MessageID),
	})
	if err != nil {
		return Registered{}, fmt.Errorf("seal link for %s: %w", m.MessageID, err)
	}
	return Registered{MessageID: "<" + m.MessageID + ">", URL: s.link(tok)}, nil
}

// BatchLine is the outcome of one line of a batch registration.
type BatchLine struct {
	Line  int
	Error string // empty when the line was accepted
}

// LedgerBatch collects ledger messages and writes them in chunks, one
// transaction per chunk, so a stream of any length needs bounded memory.
type LedgerBatch struct {
	s        *Service
	pending  []LedgerMessage
	Accepted int // valid lines
	Inserted int // lines that were new (Accepted minus duplicates)
}

// batchChunk rows go into one INSERT; 8 columns keep it far below
// SQLite's and PostgreSQL's bound-parameter limits.
const batchChunk = 500

// NewLedgerBatch starts a batch registration.
func (s *Service) NewLedgerBatch() *LedgerBatch { return &LedgerBatch{s: s} }

// Add validates m and queues it, flushing a full chunk. A validation error
// is returned as EINVALID and the message is skipped; any other error means
// the chunk could not be stored.
func (b *LedgerBatch) Add(ctx context.Context, m LedgerMessage) error {
	if err := b.s.prepareMessage(&m); err != nil {
		return err
	}
	b.pending = append(b.pending, m)
	b.Accepted++
	if len(b.pending) >= batchChunk {
		return b.Flush(ctx)
	}
	return nil
}

// Flush writes the queued messages.
func (b *LedgerBatch) Flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	var inserted int64
	err := b.s.store.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&b.pending)
		inserted = res.RowsAffected
		return res.Error
	})
	if err != nil {
		b.Accepted -= len(b.pending)
		b.pending = b.pending[:0]
		return fmt.Errorf("store ledger batch: %w", err)
	}
	b.Inserted += int(inserted)
	b.pending = b.pending[:0]
	return nil
}

// LedgerByMessageID returns the registered message with that Message-ID.
func (s *Service) LedgerByMessageID(ctx context.Context, messageID string) (LedgerMessage, error) {
	var m LedgerMessage
	err := s.store.r.WithContext(ctx).Where("message_id = ?", NormalizeMessageID(messageID)).Take(&m).Error
	if err == gorm.ErrRecordNotFound {
		return m, Errorf(ENOTFOUND, "no such message")
	}
	if err != nil {
		return m, fmt.Errorf("look up message: %w", err)
	}
	return m, nil
}

// Minted is a sealed Message-ID and "not me" link for one account mail.
type Minted struct {
	MessageID string `json:"message_id"`
	URL       string `json:"url"`
	Token     string `json:"token"`
}

// Mint seals a token for an account mail the company is about to send and
// returns the Message-ID and link that carry it. Nothing is stored: the
// token itself says which account and kind it belongs to.
func (s *Service) Mint(accountRef, kind, recipient string) (Minted, error) {
	accountRef = strings.TrimSpace(accountRef)
	recipient = strings.ToLower(strings.TrimSpace(recipient))
	switch {
	case accountRef == "":
		return Minted{}, Errorf(EINVALID, "account_ref is required")
	case len(accountRef) > maxAccountRef || !printable(accountRef):
		return Minted{}, Errorf(EINVALID, "account_ref must be at most %d printable bytes", maxAccountRef)
	case recipient != "" && (len(recipient) > maxRecipient || !validAddress(recipient)):
		return Minted{}, Errorf(EINVALID, "recipient must be an email address")
	}
	if _, ok := s.kinds[kind]; !ok {
		return Minted{}, Errorf(EINVALID, "kind must be one of: %s", s.kindNames())
	}
	c := sealed.Claims{AccountRef: accountRef, Kind: kind}
	if recipient != "" {
		c.RecipientHash = sealed.RecipientHash(recipient)
	}
	tok, err := s.sealer.Seal(c)
	if err != nil {
		return Minted{}, fmt.Errorf("mint: %w", err)
	}
	return Minted{
		MessageID: "<nm1." + tok + "@" + s.msgIDDomain + ">",
		URL:       s.link(tok),
		Token:     tok,
	}, nil
}

// TokenFromMessageID returns the sealed token inside a minted Message-ID
// (nm1.TOKEN@domain), or "".
func TokenFromMessageID(messageID string) string {
	id := NormalizeMessageID(messageID)
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.HasPrefix(id, "nm1.") {
		return ""
	}
	tok := id[len("nm1."):at]
	if !sealed.LooksLikeToken(tok) {
		return ""
	}
	return tok
}
