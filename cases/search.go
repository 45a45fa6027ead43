package cases

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"notme/cases/ident"
)

// What a queue search matched.
const (
	FoundByRef       = "reference"
	FoundByMessageID = "message_id"
	FoundByAccount   = "account"
	FoundByReporter  = "reporter"
)

// SearchResult is the answer to a queue search: the cases, of any status, and
// what the query matched.
type SearchResult struct {
	// Ref is set when the query is the reference of an existing case.
	Ref   string
	By    []string
	Cases []QueueCase
}

// maxSearch bounds a search query: a Message-ID is at most a header line.
const maxSearch = maxMessageID

// FindCases finds cases exactly: by case reference, by the Message-ID of a
// report, of report mail or of a ledger message (whose account's cases
// are found), by account ref, or by a reporter's address (case-insensitive).
// Nothing fuzzy: a search must not become a way to browse addresses.
func (s *Service) FindCases(ctx context.Context, a Actor, query string) (SearchResult, error) {
	var out SearchResult
	if !a.canReadCases() {
		return out, errNotTrained
	}
	q := strings.TrimSpace(query)
	if q == "" {
		return out, Errorf(EINVALID, "Type a case reference, a Message-ID, an account ref or a reporter's address.")
	}
	if utf8.RuneCountInString(q) > maxSearch || !printable(q) {
		return out, Errorf(EINVALID, "That is not a case reference, Message-ID, account ref or address.")
	}
	db := s.store.r.WithContext(ctx)
	if ref := ident.NormalizeCaseRef(q); ref != "" {
		var c Case
		if err := db.Select("id, ref").Where("ref = ?", ref).Limit(1).Find(&c).Error; err != nil {
			return out, fmt.Errorf("find case by reference: %w", err)
		}
		if c.ID != 0 {
			out.Ref, out.By = c.Ref, []string{FoundByRef}
			var err error
			out.Cases, err = s.Queue(ctx, a, QueueFilter{Statuses: Statuses, ids: []int64{c.ID}})
			return out, err
		}
	}
	ids := map[int64]bool{}
	add := func(by string, found []int64) {
		if len(found) > 0 {
			out.By = append(out.By, by)
		}
		for _, id := range found {
			ids[id] = true
		}
	}
	pluck := func(what string, found *[]int64, sql string, args ...any) error {
		if err := db.Raw(sql, args...).Scan(found).Error; err != nil {
			return fmt.Errorf("find cases by %s: %w", what, err)
		}
		return nil
	}
	var byMID, byAcct, byAddr []int64
	if mid := NormalizeMessageID(q); strings.Contains(mid, "@") {
		err := pluck("Message-ID", &byMID,
			"SELECT case_id FROM reports WHERE message_id = ? "+
				"UNION SELECT case_id FROM mail_messages WHERE message_id = ? AND case_id IS NOT NULL "+
				"UNION SELECT cases.id FROM cases JOIN ledger_messages ON ledger_messages.account_ref = cases.account_ref "+
				"WHERE ledger_messages.message_id = ? AND cases.account_ref <> ''", mid, mid, mid)
		if err != nil {
			return out, err
		}
	}
	if err := pluck("account", &byAcct, "SELECT id FROM cases WHERE account_ref = ? AND account_ref <> ''", q); err != nil {
		return out, err
	}
	if addr := strings.ToLower(q); strings.Contains(addr, "@") && !strings.ContainsAny(addr, "<>") {
		err := pluck("reporter", &byAddr,
			"SELECT case_id FROM reports WHERE reporter = ? "+
				"UNION SELECT case_id FROM mail_messages WHERE LOWER(from_addr) = ? AND case_id IS NOT NULL", addr, addr)
		if err != nil {
			return out, err
		}
	}
	add(FoundByMessageID, byMID)
	add(FoundByAccount, byAcct)
	add(FoundByReporter, byAddr)
	if len(ids) == 0 {
		return out, nil
	}
	f := QueueFilter{Statuses: Statuses, ids: make([]int64, 0, len(ids)), Limit: 200}
	for id := range ids {
		f.ids = append(f.ids, id)
	}
	list, err := s.Queue(ctx, a, f)
	if err != nil {
		return out, err
	}
	out.Cases = list
	return out, nil
}
