package app

import (
	"slices"
	"strings"
	"time"

	"notme/cases"
)

// DomainClusterConfig is the domain_cluster escalation rule: at least Cases
// cases from one recipient domain within Window; Ignore lists domains that
// never cluster (big mailbox providers, where that is every day).
type DomainClusterConfig struct {
	Cases  int      `yaml:"cases"`
	Window Duration `yaml:"window"`
	Ignore []string `yaml:"ignore"`
}

func defaultResolveBy() map[string]Duration { return severityDurations(cases.DefaultResolveBy()) }

func defaultEscalation() EscalationConfig {
	r := cases.DefaultEscalationRules
	return EscalationConfig{
		PossibleTakeover:  true,
		MultipleReporters: r.MultipleReporters,
		SharedRecipient:   r.SharedRecipient,
		DomainCluster: DomainClusterConfig{Cases: r.DomainCluster, Window: Duration(r.DomainWindow), Ignore: []string{
			"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
			"yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp",
		}},
		SLABreach: r.SLABreach,
	}
}

// normalizeSLA merges resolve_by over the defaults, as contain_by.
func (c *Config) normalizeSLA() {
	if c.SLA.ResolveBy == nil {
		c.SLA.ResolveBy = map[string]Duration{}
	}
	for sev, d := range defaultResolveBy() {
		if _, ok := c.SLA.ResolveBy[sev]; !ok {
			c.SLA.ResolveBy[sev] = d
		}
	}
	for i, d := range c.Escalation.DomainCluster.Ignore {
		c.Escalation.DomainCluster.Ignore[i] = strings.ToLower(strings.TrimSpace(d))
	}
}

func (c *Config) validateSLA(v *validator) {
	for _, sev := range sortedKeys(c.SLA.ResolveBy) {
		key := "sla.resolve_by." + sev
		if !slices.Contains(severities, sev) {
			v.add(key, "unknown severity; use critical, high, normal or low")
		} else if c.SLA.ResolveBy[sev] <= 0 {
			v.add(key, "must be positive")
		}
	}
	if c.SLA.BreachAssessment <= 0 {
		v.add("sla.breach_assessment", "must be positive")
	}
	e := c.Escalation
	for _, r := range []struct {
		key string
		n   int
	}{
		{"escalation.multiple_reporters", e.MultipleReporters},
		{"escalation.shared_recipient", e.SharedRecipient},
		{"escalation.domain_cluster.cases", e.DomainCluster.Cases},
	} {
		if r.n < 0 || r.n == 1 {
			v.add(r.key, "must be 0 (off) or at least 2")
		}
	}
	if e.DomainCluster.Cases > 0 && e.DomainCluster.Window <= 0 {
		v.add("escalation.domain_cluster.window", "must be positive")
	}
	for _, d := range e.DomainCluster.Ignore {
		if d == "" || strings.ContainsAny(d, "@ /") {
			v.add("escalation.domain_cluster.ignore", "must list domains like gmail.com")
			break
		}
	}
}

// slaOptions and escalationRules are the service's view of the config.
func (c Config) slaOptions() cases.SLAOptions {
	o := cases.SLAOptions{ResolveBy: map[cases.Severity]time.Duration{}, BreachAssessment: c.SLA.BreachAssessment.D()}
	for sev, d := range c.SLA.ResolveBy {
		o.ResolveBy[cases.Severity(strings.ToLower(sev))] = d.D()
	}
	return o
}

func (c Config) escalationRules() cases.EscalationRules {
	e := c.Escalation
	return cases.EscalationRules{
		MultipleReporters: e.MultipleReporters, SharedRecipient: e.SharedRecipient,
		DomainCluster: e.DomainCluster.Cases, DomainWindow: e.DomainCluster.Window.D(),
		DomainIgnore: e.DomainCluster.Ignore, SLABreach: e.SLABreach,
	}
}
