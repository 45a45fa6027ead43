package app

import (
	"strings"
	"testing"
	"time"
)

func TestSLAConfig(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "notme.yaml", `
sla:
  resolve_by:
    critical: 12h
escalation:
  multiple_reporters: 0
  domain_cluster:
    ignore: [Example.COM]
`, 0o644)
	cfg, err := Load(path, envMap(map[string]string{
		"NOTME_SLA_BREACH_ASSESSMENT":            "48h",
		"NOTME_ESCALATION_DOMAIN_CLUSTER_WINDOW": "2d",
	}))
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	o, r := cfg.slaOptions(), cfg.escalationRules()
	if o.ResolveBy["critical"] != 12*time.Hour || o.ResolveBy["low"] != 10*24*time.Hour || o.BreachAssessment != 48*time.Hour {
		t.Errorf("slaOptions() = %+v, want critical 12h from the file, low 10d by default, assessment 48h from the environment", o)
	}
	if r.MultipleReporters != 0 || r.SharedRecipient != 2 || r.DomainCluster != 3 || r.DomainWindow != 48*time.Hour ||
		len(r.DomainIgnore) != 1 || r.DomainIgnore[0] != "example.com" || !r.SLABreach {
		t.Errorf("escalationRules() = %+v", r)
	}
}

func TestSLAConfigValidateNamesKey(t *testing.T) {
	for _, c := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"sla.resolve_by.high", func(c *Config) { c.SLA.ResolveBy["high"] = 0 }},
		{"sla.resolve_by.urgent", func(c *Config) { c.SLA.ResolveBy["urgent"] = Duration(time.Hour) }},
		{"sla.breach_assessment", func(c *Config) { c.SLA.BreachAssessment = 0 }},
		{"escalation.multiple_reporters", func(c *Config) { c.Escalation.MultipleReporters = 1 }},
		{"escalation.shared_recipient", func(c *Config) { c.Escalation.SharedRecipient = -2 }},
		{"escalation.domain_cluster.cases", func(c *Config) { c.Escalation.DomainCluster.Cases = 1 }},
		{"escalation.domain_cluster.window", func(c *Config) { c.Escalation.DomainCluster.Window = 0 }},
		{"escalation.domain_cluster.ignore", func(c *Config) { c.Escalation.DomainCluster.Ignore = []string{"x@gmail.com"} }},
	} {
		cfg := Defaults()
		c.mutate(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.key+":") {
			t.Errorf("Validate() with bad %s = %v, want an error naming it", c.key, err)
		}
	}
}
