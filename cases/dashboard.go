package cases

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"notme/cases/mask"
)

// Dashboard is what the security leads see besides the escalations: how
// fast cases are contained, how many reports come in, patterns worth a
// look, and who looked at personal data. Every query is read-only.
type Dashboard struct {
	Now time.Time
	// Containment is the time from a case's opening to its first
	// containment, over the last 7 and the last 30 days.
	Containment []ContainmentStat
	// Days are the last 30 days, oldest first, with reports per kind.
	Days []DayReports
	// Kinds are the kinds that appear in Days, sorted; "" is a report
	// not matched to a kind.
	Kinds           []string
	RepeatReporters []PatternAlert // one reporter address on two or more cases
	RepeatAccounts  []PatternAlert // one account with two or more cases
	DomainClusters  []PatternAlert // three or more cases from one recipient domain
	Reveals         []AuditEntry   // who revealed which personal data, newest first
}

// Pattern windows and thresholds of the dashboard.
const (
	DashboardDays         = 30
	RepeatWindow          = 30 * 24 * time.Hour
	ClusterWindow         = 24 * time.Hour
	ClusterMinCases       = 3
	dashboardAlertLimit   = 20
	dashboardRevealsLimit = 50
)

// ContainmentStat summarises time to containment over a window; N is 0
// when no case was contained in it.
type ContainmentStat struct {
	Days     int
	N        int
	P50, P90 time.Duration
}

// DayReports counts one UTC day's reports per message kind.
type DayReports struct {
	Day    time.Time
	ByKind map[string]int
	Total  int
}

// PatternAlert is one pattern: what repeats (a masked address, an account
// reference or a domain) and the cases it spans.
type PatternAlert struct {
	Key       string
	Cases     []string // case references, oldest first
	Addresses []string // masked addresses behind a domain cluster
}

// Dashboard computes the leads' dashboard; only leads and admins may.
func (s *Service) Dashboard(ctx context.Context, a Actor) (Dashboard, error) {
	if a.User == nil || a.User.Disabled || (a.User.Role != RoleLead && a.User.Role != RoleAdmin) {
		return Dashboard{}, Errorf(EFORBIDDEN, "The dashboard is for security leads and admins.")
	}
	db := s.store.r.WithContext(ctx)
	d := Dashboard{Now: s.clock()}
	var err error
	if d.Containment, err = containmentStats(db, d.Now); err != nil {
		return d, err
	}
	if d.Days, d.Kinds, err = reportsPerDay(db, d.Now); err != nil {
		return d, err
	}
	if d.RepeatReporters, err = repeatReporters(db, d.Now); err != nil {
		return d, err
	}
	if d.RepeatAccounts, err = repeatAccounts(db, d.Now); err != nil {
		return d, err
	}
	if d.DomainClusters, err = domainClusters(db, d.Now); err != nil {
		return d, err
	}
	err = db.Where("action = ?", AuditRevealAddress).Order("id DESC").Limit(dashboardRevealsLimit).Find(&d.Reveals).Error
	if err != nil {
		return d, fmt.Errorf("read reveals from the audit log: %w", err)
	}
	return d, nil
}

// containedPattern finds the timeline entry of a move to contained, which
// SetStatus writes as "Status new → contained…".
const containedPattern = "Status % → contained%"

// containmentStats measures, per case first contained within the window,
// the time from opening to that first containment.
func containmentStats(db *gorm.DB, now time.Time) ([]ContainmentStat, error) {
	since := now.Add(-30 * 24 * time.Hour)
	var rows []struct {
		CaseID    int64
		At        time.Time
		CreatedAt time.Time
	}
	err := db.Table("case_events").Select("case_events.case_id, case_events.at, cases.created_at").
		Joins("JOIN cases ON cases.id = case_events.case_id").
		Where("case_events.type = ? AND case_events.detail LIKE ? AND case_events.at >= ?", EventStatus, containedPattern, since).
		Order("case_events.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read containments: %w", err)
	}
	first := map[int64]time.Duration{}
	at := map[int64]time.Time{}
	var ids []int64
	for _, r := range rows {
		if _, ok := first[r.CaseID]; ok {
			continue // contained again after a reopening: the first one counts
		}
		first[r.CaseID], at[r.CaseID] = r.At.Sub(r.CreatedAt), r.At
		ids = append(ids, r.CaseID)
	}
	if len(ids) > 0 {
		// Cases first contained before the window are not in it.
		var earlier []int64
		err := db.Table("case_events").Distinct("case_id").
			Where("type = ? AND detail LIKE ? AND at < ? AND case_id IN ?", EventStatus, containedPattern, since, ids).
			Pluck("case_id", &earlier).Error
		if err != nil {
			return nil, fmt.Errorf("read earlier containments: %w", err)
		}
		for _, id := range earlier {
			delete(first, id)
		}
	}
	var out []ContainmentStat
	for _, days := range []int{7, 30} {
		from := now.Add(-time.Duration(days) * 24 * time.Hour)
		var ds []time.Duration
		for id, d := range first {
			if !at[id].Before(from) {
				ds = append(ds, d)
			}
		}
		st := ContainmentStat{Days: days, N: len(ds)}
		if len(ds) > 0 {
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			st.P50, st.P90 = percentile(ds, 50), percentile(ds, 90)
		}
		out = append(out, st)
	}
	return out, nil
}

// percentile is the nearest-rank percentile p of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// reportsPerDay counts the reports of the last DashboardDays UTC days
// (today included) by the kind of their case.
func reportsPerDay(db *gorm.DB, now time.Time) ([]DayReports, []string, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -(DashboardDays - 1))
	days := make([]DayReports, DashboardDays)
	for i := range days {
		days[i] = DayReports{Day: start.AddDate(0, 0, i), ByKind: map[string]int{}}
	}
	seen := map[string]bool{}
	// Streamed row by row: a busy month is many reports, and only the
	// counts are kept.
	rows, err := db.Table("reports").Select("reports.received_at, cases.kind").
		Joins("JOIN cases ON cases.id = reports.case_id").
		Where("reports.received_at >= ?", start).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("count reports per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		var kind string
		if err := rows.Scan(&at, &kind); err != nil {
			return nil, nil, fmt.Errorf("count reports per day: %w", err)
		}
		i := int(at.UTC().Sub(start) / (24 * time.Hour))
		if i < 0 || i >= len(days) {
			continue
		}
		days[i].ByKind[kind]++
		days[i].Total++
		seen[kind] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("count reports per day: %w", err)
	}
	kinds := make([]string, 0, len(seen))
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return days, kinds, nil
}

// group collects case references per key, keeps keys with at least
// `least` distinct cases, and orders them by size, then key.
func group(pairs [][2]string, least int) []PatternAlert {
	byKey := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, p := range pairs {
		if seen[p] {
			continue
		}
		seen[p] = true
		byKey[p[0]] = append(byKey[p[0]], p[1])
	}
	var out []PatternAlert
	for k, refs := range byKey {
		if len(refs) >= least {
			out = append(out, PatternAlert{Key: k, Cases: refs})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Cases) != len(out[j].Cases) {
			return len(out[i].Cases) > len(out[j].Cases)
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > dashboardAlertLimit {
		out = out[:dashboardAlertLimit]
	}
	return out
}

// repeatReporters: one reporter address on two or more cases within
// RepeatWindow; the address is shown masked.
func repeatReporters(db *gorm.DB, now time.Time) ([]PatternAlert, error) {
	var rows []struct {
		Reporter string
		Ref      string
	}
	err := db.Table("reports").Select("reports.reporter, cases.ref").
		Joins("JOIN cases ON cases.id = reports.case_id").
		Where("reports.reporter <> '' AND reports.received_at >= ?", now.Add(-RepeatWindow)).
		Order("cases.created_at, cases.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read reporters: %w", err)
	}
	pairs := make([][2]string, len(rows))
	for i, r := range rows {
		pairs[i] = [2]string{r.Reporter, r.Ref}
	}
	out := group(pairs, 2)
	for i := range out {
		out[i].Key = mask.Address(out[i].Key)
	}
	return out, nil
}

// repeatAccounts: one account with two or more cases opened within
// RepeatWindow.
func repeatAccounts(db *gorm.DB, now time.Time) ([]PatternAlert, error) {
	var rows []struct {
		AccountRef string
		Ref        string
	}
	err := db.Table("cases").Select("account_ref, ref").
		Where("account_ref <> '' AND created_at >= ?", now.Add(-RepeatWindow)).
		Order("created_at, id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	pairs := make([][2]string, len(rows))
	for i, r := range rows {
		pairs[i] = [2]string{r.AccountRef, r.Ref}
	}
	return group(pairs, 2), nil
}

// domainClusters: ClusterMinCases or more cases opened within
// ClusterWindow whose misdirected mail went to one domain (a typo domain
// such as gmial.com). The recipient is the reporter's address or, for a
// link report, the ledger's recipient of the reported mail.
func domainClusters(db *gorm.DB, now time.Time) ([]PatternAlert, error) {
	var rows []struct {
		Ref             string
		Reporter        string
		Recipient       *string
		RecipientDomain string
	}
	err := db.Table("cases").Select("cases.ref, reports.reporter, ledger_messages.recipient, reports.recipient_domain").
		Joins("JOIN reports ON reports.case_id = cases.id").
		Joins("LEFT JOIN ledger_messages ON ledger_messages.message_id = reports.message_id AND reports.message_id <> ''").
		Where("cases.created_at >= ?", now.Add(-ClusterWindow)).
		Order("cases.created_at, cases.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read recipient domains: %w", err)
	}
	var pairs [][2]string
	addrs := map[string]map[string]bool{}
	for _, r := range rows {
		// A sealed link's report knows its recipient's domain, not the
		// address: the domain counts, as it does for the escalation rule.
		if r.RecipientDomain != "" {
			pairs = append(pairs, [2]string{strings.ToLower(r.RecipientDomain), r.Ref})
		}
		for _, a := range []string{r.Reporter, deref(r.Recipient)} {
			at := strings.LastIndexByte(a, '@')
			if at < 0 || at == len(a)-1 {
				continue
			}
			dom := strings.ToLower(a[at+1:])
			pairs = append(pairs, [2]string{dom, r.Ref})
			if addrs[dom] == nil {
				addrs[dom] = map[string]bool{}
			}
			addrs[dom][mask.Address(a)] = true
		}
	}
	out := group(pairs, ClusterMinCases)
	for i := range out {
		for m := range addrs[out[i].Key] {
			out[i].Addresses = append(out[i].Addresses, m)
		}
		sort.Strings(out[i].Addresses)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
