package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The audit log read in pages and exported for a SIEM (docs/admin.md):
// leads and admins, API keys with audit:read, and the command line.

// AuditExported records that someone exported the audit log: since and
// until (absent for no bound) and how (web or cli).
const AuditExported = "audit_exported"

// ActorCLI is the actor of what `notme` commands do: whoever runs them
// with the desk's configuration holds its database already.
const ActorCLI = "cli"

// AuditSettle is how old an entry must be before a reader that resumes
// after an id (AuditFilter.Settled) sees it. On PostgreSQL a transaction
// that took id 10 may commit after one that took id 11; a SIEM resuming
// after 11 would skip 10 for good. Audit entries are written in short
// transactions, so one not committed after this long is not expected.
const AuditSettle = 5 * time.Second

// Most entries one page holds, and how many when none is asked for.
const (
	AuditPageMax     = 1000
	auditPageDefault = 100
)

// AuditFilter selects audit entries.
type AuditFilter struct {
	Since time.Time // at or after; zero for the beginning
	Until time.Time // before; zero for no bound
	// AfterID pages forward in id order (the export, the API); BeforeID
	// pages backward from the newest (the console).
	AfterID, BeforeID int64
	Action            string // exactly this action, "" for any
	Actor             string // exactly this actor ("user:EMAIL", "api:NAME", "sso"…), "" for any
	// Settled leaves out entries younger than AuditSettle: for readers
	// that come back for more after the last id they saw.
	Settled bool
	Limit   int // 1 to AuditPageMax; 0 means 100
}

// AuditJSON is an audit entry as the export and the API write it; the
// field names are a contract with SIEMs (docs/admin.md): fields may be
// added, never renamed.
type AuditJSON struct {
	ID      int64             `json:"id"`
	At      string            `json:"at"` // RFC 3339, UTC
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Subject string            `json:"subject"`
	Detail  string            `json:"detail"`
	Args    map[string]string `json:"args"` // {} when the entry has none
}

// JSON is e's SIEM form.
func (e AuditEntry) JSON() AuditJSON {
	args := map[string]string{}
	for k, v := range e.Args {
		args[k] = v
	}
	return AuditJSON{ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), Actor: e.Actor, Action: e.Action,
		Subject: e.Subject, Detail: e.Detail, Args: args}
}

var errAuditForbidden = Errorf(EFORBIDDEN, "The audit log is for admins and leads, and API keys with the audit:read scope.")

// canReadAudit: leads and admins, and API keys granted audit:read.
func (a Actor) canReadAudit() bool {
	switch {
	case a.User != nil:
		return !a.User.Disabled && (a.User.Role == RoleAdmin || a.User.Role == RoleLead)
	case a.APIKey != nil:
		return a.APIKey.HasScope(ScopeAuditRead)
	}
	return false
}

// AuditSince is a page of the entries at or after since, after the id
// afterID, in id order: the reader resumes with the last id it got.
func (s *Service) AuditSince(ctx context.Context, a Actor, since time.Time, afterID int64, limit int) ([]AuditEntry, error) {
	return s.AuditPage(ctx, a, AuditFilter{Since: since, AfterID: afterID, Limit: limit})
}

// AuditPage is one page of the entries f selects, in id order after
// f.AfterID.
func (s *Service) AuditPage(ctx context.Context, a Actor, f AuditFilter) ([]AuditEntry, error) {
	if !a.canReadAudit() {
		return nil, errAuditForbidden
	}
	return s.auditPage(ctx, f, true)
}

// AuditNewest is a page of the entries f selects, newest first, before
// f.BeforeID when it is set: the console's table.
func (s *Service) AuditNewest(ctx context.Context, a Actor, f AuditFilter) ([]AuditEntry, error) {
	if !a.canReadAudit() {
		return nil, errAuditForbidden
	}
	return s.auditPage(ctx, f, false)
}

func (s *Service) auditPage(ctx context.Context, f AuditFilter, forward bool) ([]AuditEntry, error) {
	if err := f.valid(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = auditPageDefault
	}
	q := s.store.r.WithContext(ctx).Limit(min(limit, AuditPageMax))
	if forward {
		q = q.Where("id > ?", f.AfterID).Order("id")
	} else {
		q = q.Order("id DESC")
		if f.BeforeID > 0 {
			q = q.Where("id < ?", f.BeforeID)
		}
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	until := f.Until
	if settled := s.clock().Add(-AuditSettle); f.Settled && (until.IsZero() || until.After(settled)) {
		until = settled
	}
	if !until.IsZero() {
		// Paging by id, COALESCE keeps SQLite on the primary key: given a
		// two-sided range on at it would take audit_log_at and sort the
		// whole range again for every page.
		at := "at"
		if forward {
			at = "COALESCE(at, at)"
		}
		q = q.Where(at+" < ?", until.UTC())
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	var out []AuditEntry
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("read audit log page: %w", err)
	}
	return out, nil
}

func (f AuditFilter) valid() error {
	if f.Limit < 0 || f.Limit > AuditPageMax {
		return Errorf(EINVALID, "limit must be between 1 and %d", AuditPageMax)
	}
	if f.AfterID < 0 || f.BeforeID < 0 {
		return Errorf(EINVALID, "an entry id is a positive number")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return Errorf(EINVALID, "until must be after since")
	}
	if f.Action != "" && !slices.Contains(AuditActions, f.Action) {
		return Errorf(EINVALID, "unknown audit action %q (known: %s)", f.Action, strings.Join(AuditActions, ", "))
	}
	return nil
}

// ExportAudit writes every entry f selects to write, in id order, one page
// in memory at a time, and returns how many it wrote. A person's export is
// recorded first (AuditExported), so that an export that fails halfway is
// on the record too. An API key's reads are not: a SIEM polls every few
// minutes, and the log would fill with its own reading.
func (s *Service) ExportAudit(ctx context.Context, a Actor, f AuditFilter, write func(AuditEntry) error) (int, error) {
	if !a.canReadAudit() {
		return 0, errAuditForbidden
	}
	if err := f.valid(); err != nil {
		return 0, err
	}
	if a.User != nil {
		if err := s.recordExport(ctx, a.String(), "web", f); err != nil {
			return 0, err
		}
	}
	return s.exportAudit(ctx, f, write)
}

// ExportAuditCLI is ExportAudit for `notme audit export`: nobody to refuse
// (see ActorCLI), but the export is on the record like any other.
func (s *Service) ExportAuditCLI(ctx context.Context, f AuditFilter, write func(AuditEntry) error) (int, error) {
	if err := f.valid(); err != nil {
		return 0, err
	}
	if err := s.recordExport(ctx, ActorCLI, "cli", f); err != nil {
		return 0, err
	}
	return s.exportAudit(ctx, f, write)
}

func (s *Service) recordExport(ctx context.Context, actor, how string, f AuditFilter) error {
	args := Args{"how": how}
	if !f.Since.IsZero() {
		args["since"] = f.Since.UTC().Format(time.RFC3339)
	}
	if !f.Until.IsZero() {
		args["until"] = f.Until.UTC().Format(time.RFC3339)
	}
	e := AuditEntry{At: s.clock(), Actor: actor, Action: AuditExported,
		Detail: fmt.Sprintf("exported the audit log from %q before %q (%s)", args["since"], args["until"], how), Args: args}
	if err := s.store.w.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("record audit export: %w", err)
	}
	return nil
}

func (s *Service) exportAudit(ctx context.Context, f AuditFilter, write func(AuditEntry) error) (int, error) {
	f.Limit, f.BeforeID = AuditPageMax, 0
	n := 0
	for {
		page, err := s.auditPage(ctx, f, true)
		if err != nil {
			return n, err
		}
		for _, e := range page {
			if err := write(e); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < f.Limit {
			return n, nil
		}
		f.AfterID = page[len(page)-1].ID
	}
}
