package app

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/commands.md from the command line's help")

// docs/commands.md is what the command line prints: a command or flag
// added without regenerating it fails here.
func TestCommandsDocCurrent(t *testing.T) {
	const path = "../docs/commands.md"
	want := commandsMarkdown(context.Background())
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if string(got) != want {
		t.Errorf("%s is not what the command line prints; run: go test ./app -run TestCommandsDocCurrent -update-docs", path)
	}
}

// Every command has help of its own, and every runnable command is in
// the table the overview and help are made from.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		if c.summary == "" || c.about == "" {
			t.Errorf("command %q lacks a summary or about text", c.name)
		}
	}
	for _, name := range []string{"serve", "demo", "parse", "ingest", "mint", "apikey add", "user add", "migrate"} {
		if runner(name) == nil {
			t.Errorf("runner(%q) = nil", name)
		}
		if _, ok := commandNamed(name); !ok {
			t.Errorf("%q runs but is not in the commands table", name)
		}
	}
}

// Help is asked for in three ways and answered on standard output with
// status 0; a bad command line gets its usage on standard error and 2.
func TestCLIHelp(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args      []string
		code      int
		out, errs string
	}{
		{[]string{"help"}, 0, "notme help COMMAND", ""},
		{[]string{"help", "user", "add"}, 0, "-password-stdin", ""},
		{[]string{"user", "add", "-h"}, 0, "Usage: notme user add EMAIL", ""},
		{[]string{"mint", "--help"}, 0, "Seals a token", ""},
		{[]string{"help", "version"}, 0, "Prints the version.", ""},
		{[]string{"help", "nosuch"}, 2, "", `no command "nosuch"`},
		{[]string{"mint", "--bogus"}, 2, "", "usage: notme mint --account REF"},
		{[]string{"apikey"}, 2, "", "usage: notme apikey add NAME"},
		{[]string{"parse"}, 2, "", "(notme help parse says more)"},
	} {
		code, out, errs := cli(t, dir, "", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.errs) {
			t.Errorf("notme %v = %d, stdout %q, stderr %q; want %d, %q on stdout, %q on stderr", tc.args, code, clipText(out), clipText(errs), tc.code, tc.out, tc.errs)
		}
	}
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
