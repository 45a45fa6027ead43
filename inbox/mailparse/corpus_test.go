package mailparse

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusEnv points the corpus tests at the shared corpus of real-world
// mail when it is not at its usual place, ../shared/corpus beside the
// checkout. The corpus is read in place, never copied.
const corpusEnv = "NOTME_CORPUS"

// corpusDir returns the corpus folder. A missing corpus fails the test
// under CI (CI=true) or when NOTME_CORPUS names it, and otherwise skips,
// saying where it looked and how to get it.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, fromEnv := os.Getenv(corpusEnv), true
	if dir == "" {
		dir, fromEnv = filepath.Join("..", "..", "..", "shared", "corpus"), false
	}
	_, err := os.Stat(filepath.Join(dir, "INDEX.tsv"))
	if err == nil {
		return dir
	}
	fail, msg := corpusMissing(dir, err, fromEnv, os.Getenv("CI") == "true")
	if fail {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// corpusMissing says what to do when dir has no INDEX.tsv (err).
func corpusMissing(dir string, err error, fromEnv, ci bool) (fail bool, msg string) {
	where := dir
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		where = abs
	}
	switch {
	case fromEnv:
		return true, fmt.Sprintf("%s=%s has no corpus: %v", corpusEnv, dir, err)
	case ci:
		return true, fmt.Sprintf("the shared mail corpus is missing in CI (CI=true): looked for %s: %v; "+
			"put it there or set %s to its folder", filepath.Join(where, "INDEX.tsv"), err, corpusEnv)
	default:
		return false, fmt.Sprintf("no shared mail corpus at %s (%v). The corpus (real-world mail from public "+
			"projects' test suites, with INDEX.tsv) is kept outside the repository, in shared/corpus beside the "+
			"checkout: link or copy it there, or set %s to its folder (docs/testing.md)", where, err, corpusEnv)
	}
}

type corpusRow struct {
	path, category, client, idPresent, id, notes string
}

func corpusIndex(t *testing.T, dir string) []corpusRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "INDEX.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []corpusRow
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if i == 0 || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 6 {
			f = append(f, "")
		}
		rows = append(rows, corpusRow{f[0], f[1], f[2], f[3], strings.Trim(strings.TrimSpace(f[4]), "<>"), f[5]})
	}
	if len(rows) < 100 {
		t.Fatalf("INDEX.tsv has %d rows; the corpus looks truncated", len(rows))
	}
	return rows
}

// indexExceptions are INDEX rows (made by a script) that the files do not
// bear out, checked by hand; the reason says why the row's Message-ID is not
// expected among MessageIDs.
var indexExceptions = map[string]string{}

// classExceptions are corpus files whose category is not the class Parse
// gives, with the reason the class is right.
var classExceptions = map[string]struct {
	class  Class
	reason string
}{
	"sisimai-set-of-emails/maildir/bsd/lhost-fml-03.eml": {ClassAutoReply, "fml's \"Loop Alert\" is a mailing list's notice to its admin, not a delivery status notification"},
}

// TestCorpus parses every file of the corpus; for the ARF, DSN and
// attached-forward rows whose INDEX names the original's Message-ID, that
// ID must be among the candidates.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	rows := corpusIndex(t, dir)
	for _, row := range rows {
		t.Run(row.path, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, row.path))
			if err != nil {
				t.Fatal(err)
			}
			r := Parse(raw, Options{})
			checkInvariants(t, r)
			switch row.category {
			case "arf", "dsn", "forward-attached":
			default:
				return
			}
			if row.idPresent != "yes" {
				return
			}
			if reason, ok := indexExceptions[row.path]; ok {
				t.Logf("INDEX exception: %s", reason)
				return
			}
			if row.id == "" {
				t.Fatalf("INDEX row says the Message-ID is present but names none")
			}
			// The row was made by a script: check it against the file first.
			if !bytes.Contains(raw, []byte(row.id)) && !bytes.Contains(decodeQP(raw), []byte(row.id)) {
				t.Fatalf("INDEX names %q, which is not in the file: add it to indexExceptions with the reason", row.id)
			}
			if !slices.Contains(r.MessageIDs, row.id) {
				t.Errorf("Parse(%s).MessageIDs = %q, want %q among them (class %s)", row.path, r.MessageIDs, row.id, r.Class)
			}
			if ex, ok := classExceptions[row.path]; ok {
				t.Logf("class exception: %s", ex.reason)
				if r.Class != ex.class {
					t.Errorf("Class = %q, want %q: %s", r.Class, ex.class, ex.reason)
				}
				return
			}
			switch row.category {
			case "arf":
				if r.Class != ClassARF && r.Class != ClassBounce {
					t.Errorf("Class = %q, want arf", r.Class)
				}
			case "dsn":
				if r.Class != ClassBounce {
					t.Errorf("Class = %q, want bounce", r.Class)
				}
			}
		})
	}
}

// TestCorpusForwardBodies wraps each body-only inline forward of the
// crisp-email-forward-parser fixtures in a minimal message; where the body
// shows the original's sender and subject, Original must have them.
func TestCorpusForwardBodies(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "crisp-email-forward-parser", "*_body*.txt"))
	if err != nil || len(files) < 20 {
		t.Fatalf("crisp-email-forward-parser bodies: %d files, %v", len(files), err)
	}
	const subject = "Integer consequat non purus"
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			raw := append([]byte("From: reporter@example.org\r\nTo: notme@desk.example.com\r\nSubject: Fwd: "+subject+"\r\n"+
				"Content-Type: text/plain; charset=utf-8\r\n\r\n"), body...)
			r := Parse(raw, Options{})
			checkInvariants(t, r)
			if r.Class != ClassReport {
				t.Errorf("Class = %q, want report", r.Class)
			}
			if r.Original == nil {
				t.Fatalf("Original = nil, want the forwarded sender")
			}
			wantFrom := "john.doe@acme.com"
			if !bytes.Contains(body, []byte(wantFrom)) {
				wantFrom = "John Doe" // the body shows the name only
			}
			if r.Original.From != wantFrom {
				t.Errorf("Original.From = %q, want %q", r.Original.From, wantFrom)
			}
			// Reply bodies ("On … wrote:") show no subject.
			if bytes.Contains(body, []byte(subject)) && r.Original.Subject != subject {
				t.Errorf("Original.Subject = %q, want %q", r.Original.Subject, subject)
			}
		})
	}
}

// TestCorpusMissing: without its corpus the corpus test fails under CI or
// when NOTME_CORPUS names a folder without one, and skips otherwise; the
// message names the folder it looked in.
func TestCorpusMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	_, err := os.Stat(filepath.Join(dir, "INDEX.tsv"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat(empty folder/INDEX.tsv) = %v, want not exist", err)
	}
	for _, tc := range []struct {
		fromEnv, ci, fail bool
		mention           string
	}{
		{false, false, false, corpusEnv},
		{false, true, true, "CI=true"},
		{true, false, true, corpusEnv + "="},
		{true, true, true, corpusEnv + "="},
	} {
		fail, msg := corpusMissing(dir, err, tc.fromEnv, tc.ci)
		if fail != tc.fail || !strings.Contains(msg, dir) || !strings.Contains(msg, tc.mention) {
			t.Errorf("corpusMissing(fromEnv %v, CI %v) = %v, %q; want %v, naming %s and %q",
				tc.fromEnv, tc.ci, fail, msg, tc.fail, dir, tc.mention)
		}
	}
}
