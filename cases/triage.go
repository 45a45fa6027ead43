package cases

import (
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Reports that match nothing (a forged or mistyped link, an unknown
// Message-ID) are triaged by a person; left to themselves, thirty forged
// links from three addresses would open thirty triage cases. So an
// unmatched report that would open a case joins instead, in this order:
//
//  1. the open case of the same link or Message-ID (matchWith's group);
//  2. the newest triage case its client opened within the hour, if open;
//  3. when the client opened PerClientHour triage cases within the hour
//     already, the newest of them even if closed (the report is kept
//     there with a report_on_dismissed event, which /leads lists);
//  4. in a burst (Burst unmatched reports desk-wide within BurstWindow),
//     the one case of the burst window.
//
// Only then does a new triage case open. Nothing is dropped. The client
// is a key the web layer chooses (an address, a network); only a keyed
// hash of it is stored. Two requests racing on PostgreSQL may both open a
// case, so the bound can be passed by the number of concurrent requests
// of one client, no more.

// TriageOptions bound the triage cases strangers can open.
type TriageOptions struct {
	// PerClientHour is how many triage cases one client may open per hour
	// (default 3).
	PerClientHour int
	// Burst and BurstWindow: at Burst or more unmatched reports desk-wide
	// within BurstWindow (default 20 within 10 minutes), further unmatched
	// reports share one case per window.
	Burst       int
	BurstWindow time.Duration
}

// Defaults of TriageOptions.
const (
	DefaultTriagePerClientHour = 3
	DefaultTriageBurst         = 20
	DefaultTriageBurstWindow   = 10 * time.Minute
)

func (o TriageOptions) withDefaults() TriageOptions {
	if o.PerClientHour <= 0 {
		o.PerClientHour = DefaultTriagePerClientHour
	}
	if o.Burst <= 0 {
		o.Burst = DefaultTriageBurst
	}
	if o.BurstWindow <= 0 {
		o.BurstWindow = DefaultTriageBurstWindow
	}
	return o
}

// triageClientWindow is the window of the per-client bound.
const triageClientWindow = time.Hour

// CodeReportTriageBound marks a report kept on a client's closed triage
// case because the client reached the bound: n.
const CodeReportTriageBound = "report.triage_bound"

// triage decides where an unmatched report m that would open a case goes:
// it may change m.groupKey to an open case's, keep the report on a closed
// case (keep is true, closed is the case and ev its event), or set
// m.triageClient for a new case.
func (s *Service) triage(tx *gorm.DB, m *match, in ReportInput, now time.Time) (closed *Case, ev Event, keep bool, err error) {
	var ch []byte
	if in.Client != "" {
		ch = s.sealer.ClientKey(in.Client)
		var recent []Case
		if err := tx.Where("triage_client = ? AND created_at > ?", ch, now.Add(-triageClientWindow)).
			Order("created_at DESC, id DESC").Limit(s.triageOpts.PerClientHour).Find(&recent).Error; err != nil {
			return nil, Event{}, false, fmt.Errorf("find the client's triage cases: %w", err)
		}
		if len(recent) > 0 && recent[0].Status.Open() {
			m.groupKey = recent[0].GroupKey
			return nil, Event{}, false, nil
		}
		if len(recent) >= s.triageOpts.PerClientHour {
			ev = Event{Type: EventReportOnDismissed,
				Detail: fmt.Sprintf("Report kept on this closed triage case: its client opened %d triage cases within the hour, the most allowed.", len(recent)),
				Code:   CodeReportTriageBound, Args: Args{"n": strconv.Itoa(len(recent))}}
			return &recent[0], ev, true, nil
		}
	}
	if in.Channel != ChannelMail {
		since := now.Add(-s.triageOpts.BurstWindow)
		var n int64
		if err := tx.Model(&Report{}).Where("confidence = ? AND received_at > ?", MatchUnmatched, since).
			Count(&n).Error; err != nil {
			return nil, Event{}, false, fmt.Errorf("count unmatched reports: %w", err)
		}
		if n >= int64(s.triageOpts.Burst) {
			m.groupKey = "burst:" + strconv.FormatInt(now.Truncate(s.triageOpts.BurstWindow).Unix(), 10)
			return nil, Event{}, false, nil
		}
	}
	m.triageClient = ch
	return nil, Event{}, false, nil
}
