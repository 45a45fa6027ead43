package cases

import (
	"time"
)

// Status is where a case stands.
type Status string

const (
	StatusNew       Status = "new"
	StatusContained Status = "contained"
	StatusResolved  Status = "resolved"
	StatusDismissed Status = "dismissed"
)

// OpenStatuses are the statuses of cases still in the queue.
var OpenStatuses = []Status{StatusNew, StatusContained}

// Statuses lists every status in the order a case moves through them.
var Statuses = []Status{StatusNew, StatusContained, StatusResolved, StatusDismissed}

// Open reports whether a case in this status is still being worked.
func (s Status) Open() bool { return s == StatusNew || s == StatusContained }

// Match is how sure the desk is about which account a report concerns.
type Match string

const (
	MatchExact     Match = "exact"     // sealed token or ledger Message-ID
	MatchProbable  Match = "probable"  // heuristic: a person confirms
	MatchUnmatched Match = "unmatched" // triage
)

// Matches lists the match confidences, strongest first.
var Matches = []Match{MatchExact, MatchProbable, MatchUnmatched}

func (m Match) rank() int {
	switch m {
	case MatchExact:
		return 3
	case MatchProbable:
		return 2
	}
	return 1
}

// Channel is how a report reached the desk.
type Channel string

const (
	ChannelLink Channel = "link"
	ChannelMail Channel = "mail"
	ChannelForm Channel = "form"
	ChannelAPI  Channel = "api"
)

// TierSecurity is the only tier these cases go to: staff trained for
// security cases.
const TierSecurity = "security"

// Case gathers every report about one affected account (or, unmatched, about
// one link or message) while it is open.
type Case struct {
	ID         int64
	Ref        string
	GroupKey   string
	OpenKey    *string // GroupKey while open, NULL once closed
	AccountRef string
	Kind       string
	Status     Status
	Severity   Severity
	Tier       string
	Match      Match `gorm:"column:confidence"`
	Escalated  bool
	AssigneeID *int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ContainBy  time.Time
	ResolveBy  *time.Time // nil on cases opened before resolve deadlines existed
	AssessBy   *time.Time // breach-assessment deadline; see needsAssessment
	AssessedAt *time.Time
	Assessment string // notifiable | not_notifiable once a lead assessed it
	// TriageClient is the hashed client that opened an unmatched case
	// (triage.go); nil otherwise.
	TriageClient []byte
}

// Report is one report from one channel, on one case.
type Report struct {
	ID            int64
	CaseID        int64
	Channel       Channel
	MatchedBy     string // token, ledger, recipient, none
	Match         Match  `gorm:"column:confidence"`
	MessageID     string
	TokenKeyID    int
	OpenedLink    bool
	SetPassword   bool
	NeverSignedUp bool
	Note          string
	Reporter      string // reporter's address where the channel gives one
	StatusHash    []byte
	// RequestDigest is ReportInput.Request's, for a named submission.
	RequestDigest []byte
	ReceivedAt    time.Time
	// RecipientDomain is the domain of the address the misdirected mail
	// went to (ledger recipient, else the reporter's), for domain clusters.
	RecipientDomain string
	// TokenHash and RecipientHash identify the report's sealed link and
	// recipient for a dismissal's holds (holds.go); nil when unknown.
	TokenHash     []byte
	RecipientHash []byte
	// OnClosedCase: kept on a closed case by a hold or a triage bound.
	OnClosedCase bool
}

// Event is one entry of a case's append-only timeline.
type Event struct {
	ID     int64
	CaseID int64
	At     time.Time
	Actor  string
	Type   string
	// Detail is the English sentence; Code and Args say the same for any
	// language (eventcode.go). Rows older than migration 12 have no code.
	Detail string
	Code   string
	Args   Args
}

func (Event) TableName() string { return "case_events" }

// Timeline event types.
const (
	EventOpened         = "opened"
	EventReportAdded    = "report_added"
	EventSeverityRaised = "severity_raised"
	EventMatchImproved  = "match_improved"
	EventUndeliverable  = "undeliverable"
)
