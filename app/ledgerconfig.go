package app

import "time"

// LedgerConfig is the ledger of sent account mail.
type LedgerConfig struct {
	// Retention: ledger messages registered longer ago than this are
	// deleted; 0 keeps them for ever. A report quoting a pruned
	// Message-ID goes unmatched to triage; sealed links still match.
	Retention Duration `yaml:"retention"`
}

// minLedgerRetention: reports come days to weeks after the mail, so a
// shorter ledger would send ordinary reports to triage.
const minLedgerRetention = 30 * 24 * time.Hour

// defaultLedger keeps half a year: "not me" reports about mail older than
// that are rare (people report what just arrived, or what they find when
// clearing a mailbox within months), while a large sender's ledger at
// millions of rows a day stays bounded.
func defaultLedger() LedgerConfig {
	return LedgerConfig{Retention: Duration(180 * 24 * time.Hour)}
}

func (c *Config) validateLedger(v *validator) {
	if r := c.Ledger.Retention; r != 0 && r < Duration(minLedgerRetention) {
		v.add("ledger.retention", "must be 0 (keep for ever) or at least 30d: reports come weeks after the mail")
	}
}
