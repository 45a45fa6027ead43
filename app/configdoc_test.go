package app

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docs/configuration.md is what ConfigReference renders today.
func TestConfigReferenceCurrent(t *testing.T) {
	want, err := ConfigReference()
	if err != nil {
		t.Fatalf("ConfigReference() = %v", err)
	}
	got, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("docs/configuration.md is stale: run go generate ./app\nfirst difference, line %d:\n file: %s\n code: %s", i+1, g, w)
			}
		}
	}
}

// Every key of Config has a row in the reference, and every row a key of
// Config; the walk of Config itself reaches the nested sections.
func TestConfigDocsCoverEveryKey(t *testing.T) {
	if err := checkConfigDocs(); err != nil {
		t.Errorf("checkConfigDocs() = %v", err)
	}
	keys := ConfigKeys()
	for _, k := range []string{"data_dir", "http.report_rate", "mail.mailboxes[].batch_size", "kinds.<name>.actions", "desk.contact.hours_ja", "tokens.keys[].secret_file", "escalation.domain_cluster.ignore"} {
		if !strings.Contains("\n"+strings.Join(keys, "\n")+"\n", "\n"+k+"\n") {
			t.Errorf("ConfigKeys() lacks %s", k)
		}
	}
	if len(keys) < 100 {
		t.Errorf("ConfigKeys() = %d keys, want every one of Config's (more than 100)", len(keys))
	}
}

// A row with a key Config lacks, or without one Config has, is refused by
// name, and so is words in place of a real default.
func TestConfigDocsRefuseDrift(t *testing.T) {
	saved := configDocs
	t.Cleanup(func() { configDocs = saved })

	configDocs = append(append([]configDoc(nil), saved[1:]...), configDoc{keys: []string{"http.no_such_key"}, what: "x"})
	err := checkConfigDocs()
	if err == nil || !strings.Contains(err.Error(), "no entry for data_dir") || !strings.Contains(err.Error(), "http.no_such_key, which Config does not have") {
		t.Errorf("checkConfigDocs() without data_dir, with http.no_such_key = %v", err)
	}
	if _, err := ConfigReference(); err == nil {
		t.Error("ConfigReference() with a missing key = nil error")
	}

	configDocs = append([]configDoc(nil), saved...)
	configDocs[0].empty = "somewhere"
	if _, err := ConfigReference(); err == nil || !strings.Contains(err.Error(), "data_dir: has a default of its own") {
		t.Errorf("ConfigReference() with words over data_dir's default = %v", err)
	}
}

// config.example.yaml is generated from the same table as the reference:
// a stale one fails here, naming its first different line.
func TestConfigExampleCurrent(t *testing.T) {
	want, err := ConfigExample()
	if err != nil {
		t.Fatalf("ConfigExample() = %v", err)
	}
	got, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		g, w := "", ""
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("config.example.yaml is stale: run go generate ./app\nfirst difference, line %d:\n file: %s\n code: %s", i+1, g, w)
		}
	}
}

// Every example of the table, put where it stands in a config file, has
// the shape of the configuration (no unknown or misplaced key): an operator
// can uncomment it and fill in their values.
func TestConfigDocExamplesFit(t *testing.T) {
	n := 0
	for _, d := range configDocs {
		if d.example == "" {
			continue
		}
		n++
		var cfg Config
		dec := yaml.NewDecoder(strings.NewReader(exampleInPlace(d)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			t.Errorf("the example of %s does not fit the configuration: %v\n%s", d.keys[0], err, exampleInPlace(d))
		}
	}
	if n < 3 {
		t.Errorf("%d examples in configDocs, want the token keys, a mailbox and the webhook secrets", n)
	}
}
