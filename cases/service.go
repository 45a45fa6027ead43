package cases

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"notme/cases/outbox"
	"notme/cases/sealed"
	"notme/cases/store"
	"notme/cases/typo"
	"notme/internal/wake"
)

// handles are the store's database handles as the Service uses them: r
// for reads beside the writer, w for writes and the reads they depend on.
type handles struct {
	*store.Store
	r, w *gorm.DB
}

func handlesOf(st *store.Store) handles { return handles{Store: st, r: st.Reader(), w: st.Writer()} }

// Severity orders how much harm a leaked mail can do.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityNormal   Severity = "normal"
	SeverityLow      Severity = "low"
)

// Severities lists the severities, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityNormal, SeverityLow}

func (s Severity) rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityNormal:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s.rank() > 0 }

func maxSeverity(a, b Severity) Severity {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Containment actions a message kind may call for.
const (
	ActionRevokePendingLinks    = "revoke_pending_links"
	ActionSuppressRecipient     = "suppress_recipient"
	ActionRequireReverification = "require_reverification"
	ActionLockAccount           = "lock_account"
	ActionContactOwner          = "contact_owner"
)

// Actions lists every containment action.
var Actions = []string{ActionRevokePendingLinks, ActionSuppressRecipient, ActionRequireReverification, ActionLockAccount, ActionContactOwner}

// Kind is a kind of account mail, from config: how bad it is when it reaches
// a stranger and what containment it calls for.
type Kind struct {
	Name         string
	Label        string
	LabelJA      string // Label for staff reading Japanese; "" = Label
	Severity     Severity
	Credential   bool // carries a credential link: set password, reset, magic login
	PersonalData bool // shows the holder's personal data
	Actions      []string
}

// Options configures a Service.
type Options struct {
	Store  *store.Store
	Sealer *sealed.Sealer
	Kinds  []Kind
	// ContainBy is the time from a case's (re)assessment to its containment
	// deadline, per severity; missing severities take DefaultContainBy.
	ContainBy map[Severity]time.Duration
	// PublicURL is the desk's base URL, without trailing slash, for links.
	PublicURL string
	// MessageIDDomain is the right-hand side of minted Message-IDs.
	MessageIDDomain string
	// NoteMaxChars bounds a reporter's note; 0 means DefaultNoteMaxChars.
	NoteMaxChars int
	// ReopenWindow: a new report within it of a case's resolution reopens
	// the case. Default DefaultReopenWindow.
	ReopenWindow time.Duration
	// NoTakeoverEscalation turns off the rule that escalates a possible
	// takeover (a credential mail whose link the reporter used) at once.
	NoTakeoverEscalation bool
	Acks                 AckOptions
	Webhooks             WebhookOptions
	Now                  func() time.Time
	Logger               *slog.Logger
	// Instance names this desk process among those sharing the database
	// (NewInstanceID); its outbox claims carry it, so that another
	// instance can end them at once if it dies. Default NewInstanceID().
	Instance string

	// SLA and Escalation: resolve and breach-assessment deadlines, and the
	// automatic escalation rules (cases/sla.go, cases/escalation.go).
	SLA        SLAOptions
	Escalation EscalationRules

	// LoginThrottle locks an account for sign-in after failed sign-ins
	// (cases/loginthrottle.go); zero values take the defaults.
	LoginThrottle LoginThrottle
	// Sessions bounds staff sessions and password sign-in (session.go).
	Sessions SessionPolicy
	// Triage bounds the unmatched cases strangers can open (triage.go).
	Triage TriageOptions
	// MailServers, when set, lets the address guard ask whether a domain
	// can receive mail at all (guard.go); nil: it does not ask.
	MailServers MailServers
}

// DefaultContainBy returns the containment deadline per severity, a
// fresh map on each call: app's configuration defaults are these.
func DefaultContainBy() map[Severity]time.Duration {
	return map[Severity]time.Duration{
		SeverityCritical: 15 * time.Minute,
		SeverityHigh:     time.Hour,
		SeverityNormal:   4 * time.Hour,
		SeverityLow:      24 * time.Hour,
	}
}

// DefaultNoteMaxChars bounds a reporter's note when Options.NoteMaxChars
// is 0.
const DefaultNoteMaxChars = 2000

// Service is the desk's domain: every use-case is a method, one transaction each.
type Service struct {
	store            handles
	sealer           *sealed.Sealer
	kinds            map[string]Kind
	containBy        map[Severity]time.Duration
	publicURL        string
	msgIDDomain      string
	noteMaxChars     int
	reopenWindow     time.Duration
	escalateTakeover bool
	sla              slaRules
	esc              EscalationRules
	acks             AckOptions
	webhooks         WebhookOptions
	loginThrottle    LoginThrottle
	sessions         SessionPolicy
	triageOpts       TriageOptions
	mailServers      MailServers
	typos            func() (*typo.Suggester, error) // the address guard's, made at first use (guard.go)
	learned          learnedTypos                    // the typo domains it has read (typodomains.go)
	deliveryWake     wake.Signal                     // a commit queued webhooks
	ackWake          wake.Signal                     // a person released a held acknowledgement
	instance         string
	ackQ, hookQ      *outbox.Queue // the two outboxes on the one engine
	now              func() time.Time
	log              *slog.Logger
}

// NewService checks the options and returns a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil || o.Sealer == nil {
		return nil, errors.New("cases: Store and Sealer are required")
	}
	if o.PublicURL == "" || o.MessageIDDomain == "" {
		return nil, errors.New("cases: PublicURL and MessageIDDomain are required")
	}
	s := &Service{
		store:            handlesOf(o.Store),
		sealer:           o.Sealer,
		kinds:            map[string]Kind{},
		containBy:        map[Severity]time.Duration{},
		publicURL:        strings.TrimRight(o.PublicURL, "/"),
		msgIDDomain:      o.MessageIDDomain,
		noteMaxChars:     o.NoteMaxChars,
		acks:             o.Acks.withDefaults(),
		webhooks:         o.Webhooks.withDefaults(),
		loginThrottle:    o.LoginThrottle.withDefaults(),
		sessions:         o.Sessions.withDefaults(),
		triageOpts:       o.Triage.withDefaults(),
		mailServers:      o.MailServers,
		deliveryWake:     wake.NewSignal(),
		ackWake:          wake.NewSignal(),
		instance:         cmp.Or(o.Instance, NewInstanceID()),
		reopenWindow:     o.ReopenWindow,
		escalateTakeover: !o.NoTakeoverEscalation,
		now:              o.Now,
		log:              o.Logger,
	}
	if s.noteMaxChars <= 0 {
		s.noteMaxChars = DefaultNoteMaxChars
	}
	if s.reopenWindow <= 0 {
		s.reopenWindow = DefaultReopenWindow
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for sev, d := range DefaultContainBy() {
		s.containBy[sev] = d
	}
	for sev, d := range o.ContainBy {
		if !sev.Valid() || d <= 0 {
			return nil, fmt.Errorf("cases: contain-by for %q: bad severity or duration", sev)
		}
		s.containBy[sev] = d
	}
	if err := s.configureRules(o); err != nil {
		return nil, err
	}
	for _, k := range o.Kinds {
		if k.Name == "" || !k.Severity.Valid() {
			return nil, fmt.Errorf("cases: kind %q: needs a name and a valid severity", k.Name)
		}
		for _, a := range k.Actions {
			if !validAction(a) {
				return nil, fmt.Errorf("cases: kind %q: unknown action %q", k.Name, a)
			}
		}
		s.kinds[k.Name] = k
	}
	if len(s.kinds) == 0 {
		return nil, errors.New("cases: at least one message kind is required")
	}
	s.typos = sync.OnceValues(newTypos)
	if err := s.openOutboxes(); err != nil {
		return nil, err
	}
	ownInstances.Store(s.instance, true)
	return s, nil
}

func validAction(a string) bool { return slices.Contains(Actions, a) }

// Kinds returns the configured message kinds sorted by name.
func (s *Service) Kinds() []Kind {
	out := make([]Kind, 0, len(s.kinds))
	for _, k := range s.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Kind returns the named kind.
func (s *Service) Kind(name string) (Kind, bool) {
	k, ok := s.kinds[name]
	return k, ok
}

func (s *Service) kindNames() string {
	names := make([]string, 0, len(s.kinds))
	for _, k := range s.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// Now is the desk's time: on PostgreSQL the database server's (store.DBClock),
// which every instance's leases and claims are compared with.
func (s *Service) Now() time.Time { return s.now() }

// clock returns the current time as stored: UTC, microseconds (the
// precision PostgreSQL keeps).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// link returns the public "not me" URL for a token.
func (s *Service) link(token string) string { return s.publicURL + "/r/" + token }

// Ping checks that the database answers.
func (s *Service) Ping(ctx context.Context) error {
	db, err := s.store.r.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}
