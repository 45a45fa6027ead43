package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is this module's path as go.mod names it.
const module = "notme"

// importMap is the package map of STYLE.md, one row per package of the
// module (its directory): the module's packages it may import (mayUse) and
// the outside imports it must not have (mustNot, a path or a path prefix
// ending in "/"). A package missing from the map fails the test: a new
// package is added here, with what it may import, in the commit that
// creates it.
var importMap = map[string]struct {
	mayUse  []string
	mustNot []string
}{
	"cmd/notme": {mayUse: []string{"app"}},
	"app":       {mayUse: []string{"app/webhook", "cases", "cases/passwd", "cases/sealed", "cases/store", "inbox", "inbox/acksend", "inbox/mailparse", "internal/backoff", "internal/loopback", "internal/mxcheck", "internal/wake", "ui"}},
	// configdoc writes docs/configuration.md from app's table and defaults.
	"app/internal/configdoc": {mayUse: []string{"app"}},
	// loopback is the one loopback check: the standard library only.
	"internal/loopback": {},
	// mxcheck asks DNS whether a domain can receive mail (the guard's
	// optional MX check): miekg/dns and the standard library only.
	"internal/mxcheck": {},
	// app/testdb hands tests a migrated store or a PostgreSQL database;
	// only tests import it.
	"app/testdb": {mayUse: []string{"cases/store"}},
	// backoff is the one retry policy; wake the one sleep-until-due loop.
	"internal/backoff": {},
	"internal/wake":    {mayUse: []string{"internal/backoff"}},
	// outbox is the one delivery engine: claims, leases, back-off, dead
	// letters, on gorm; what a row means is cases'.
	"cases/outbox": {mayUse: []string{"internal/backoff"}, mustNot: []string{"github.com/emersion/", "gorm.io/driver/", "net/http", "net/mail", "mime"}},
	// acksend sends acknowledgements over SMTP: the outbox is cases'.
	"inbox/acksend": {mayUse: []string{"cases", "inbox", "internal/backoff", "internal/loopback", "internal/wake"}},
	// testop runs an OpenID Provider for single sign-on tests; only tests
	// import it.
	"internal/testop": {},
	// app/webhook puts webhooks on the wire; cases decides what and when.
	"app/webhook": {mayUse: []string{"cases"}},
	"ui":          {mayUse: []string{"cases", "internal/loopback"}, mustNot: []string{"github.com/emersion/", "gorm.io/"}},
	"inbox":       {mayUse: []string{"cases", "inbox/mailparse", "internal/backoff", "internal/loopback", "internal/wake"}},
	// mailparse is pure: bytes in, result out, no IMAP and no storage.
	"inbox/mailparse": {mustNot: []string{"github.com/emersion/go-imap/", "github.com/emersion/go-smtp", "gorm.io/"}},
	// cases is the bottom: HTTP, IMAP, MIME, the gorm drivers and the
	// sign-in protocols (OpenID Connect, WebAuthn) are the callers'
	// business.
	"cases": {mayUse: []string{"cases/ident", "cases/mask", "cases/outbox", "cases/passwd", "cases/sealed", "cases/store", "cases/typo", "internal/backoff", "internal/wake"}, mustNot: []string{"github.com/emersion/", "github.com/go-webauthn/", "github.com/zitadel/", "gorm.io/driver/", "net/http", "net/mail", "mime"}},
	// The pure parts of the domain: no database, no Service, none of this
	// module.
	"cases/ident":  {mustNot: pureMustNot},
	"cases/mask":   {mustNot: pureMustNot},
	"cases/passwd": {mustNot: pureMustNot},
	"cases/sealed": {mustNot: pureMustNot},
	// store is the database under cases: gorm, but no driver and none of
	// this module.
	"cases/store": {mustNot: []string{"gorm.io/driver/", "github.com/emersion/", "github.com/labstack/", "net/http", "net/mail", "mime"}},
	// cases/typo is pure: a domain in, a suggestion out, no storage, no
	// network.
	"cases/typo": {mustNot: pureMustNot},
}

// pureMustNot is what a pure package of the domain (no storage, no
// outside protocols) must not import.
var pureMustNot = []string{"gorm.io/", "github.com/emersion/", "github.com/labstack/", "net/http", "net/mail", "mime"}

// echoImport is the prefix of every Echo package; only ui imports one, in
// its code and its tests, so that a move to another Echo major is one
// package's work.
const echoImport = "github.com/labstack/echo"

// TestImportsPointOneWay walks the module's packages and fails on an import
// edge outside importMap, on an Echo import outside ui, and on a package
// the map does not know.
func TestImportsPointOneWay(t *testing.T) {
	problems, checked := checkImports(t, "..")
	for _, p := range problems {
		t.Error(p)
	}
	if checked < 10 {
		t.Fatalf("checked %d files; the walk missed the tree", checked)
	}
}

// TestImportCheckCatches runs the check on a made-up tree with one of each
// wrong edge, so that TestImportsPointOneWay cannot pass by seeing nothing.
func TestImportCheckCatches(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"inbox/mailparse/bad.go": `package mailparse; import _ "notme/cases"`,
		"cases/mask/bad.go":      `package mask; import _ "notme/cases"`,
		"cases/sealed/db.go":     `package sealed; import _ "gorm.io/gorm"`,
		"cases/store/driver.go":  `package store; import _ "gorm.io/driver/sqlite"`,
		"cases/store/up.go":      `package store; import _ "notme/cases"`,
		"app/echo.go":            `package app; import _ "github.com/labstack/echo/v4"`,
		"inbox/echo_test.go":     `package inbox; import _ "github.com/labstack/echo/v4/middleware"`,
		"cases/http.go":          `package cases; import _ "net/http"`,
		"cases/mime.go":          `package cases; import _ "mime/multipart"`,
		"cases/mimetype.go":      `package cases; import _ "mimetype.example/ok"`,
		"newpkg/new.go":          `package newpkg`,
		"ui/ok.go":               `package ui; import (_ "notme/cases"; _ "github.com/labstack/echo/v4")`,
		"ui/testdata/x.go":       `package x; import _ "notme/app"`,
		"inbox/ok.go":            `package inbox; import _ "notme/inbox/mailparse"`,
		"inbox/ok_test.go":       `package inbox_test; import _ "notme/app"`,
	}
	for name, src := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	problems, _ := checkImports(t, root)
	want := []string{
		"app/echo.go imports github.com/labstack/echo/v4: only ui may import Echo",
		"cases/http.go imports net/http: cases must not depend on it",
		"cases/mask/bad.go imports notme/cases: cases/mask may import only [] of this module",
		"cases/mime.go imports mime/multipart: cases must not depend on it",
		"cases/sealed/db.go imports gorm.io/gorm: cases/sealed must not depend on it",
		"cases/store/driver.go imports gorm.io/driver/sqlite: cases/store must not depend on it",
		"cases/store/up.go imports notme/cases: cases/store may import only [] of this module",
		"inbox/echo_test.go imports github.com/labstack/echo/v4/middleware: only ui may import Echo",
		"inbox/mailparse/bad.go imports notme/cases: inbox/mailparse may import only [] of this module",
		"package newpkg is not in importMap (app/layout_test.go): add it with the packages it may import",
	}
	slices.Sort(problems)
	if !slices.Equal(problems, want) {
		t.Errorf("checkImports(made-up tree) =\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// checkImports walks the Go files under root and returns what breaks the
// map, and how many files it read. Test files may import more of the
// module (an external test package imports its caller freely), but not
// Echo outside ui.
func checkImports(t *testing.T, root string) (problems []string, checked int) {
	t.Helper()
	unknown := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		isTest := strings.HasSuffix(path, "_test.go")
		rules, known := importMap[pkg]
		if !known && !isTest {
			unknown[pkg] = true
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, echoImport) && pkg != "ui" {
				problems = append(problems, rel+" imports "+p+": only ui may import Echo")
			}
			if isTest || !known {
				continue
			}
			if own, ok := strings.CutPrefix(p, module+"/"); ok {
				if !slices.Contains(rules.mayUse, own) {
					problems = append(problems, rel+" imports "+p+": "+pkg+" may import only "+formatList(rules.mayUse)+" of this module")
				}
				continue
			}
			for _, bad := range rules.mustNot {
				if p == bad || strings.HasPrefix(p, bad) && (strings.HasSuffix(bad, "/") || strings.HasPrefix(p, bad+"/")) {
					problems = append(problems, rel+" imports "+p+": "+pkg+" must not depend on it")
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range unknown {
		problems = append(problems, "package "+pkg+" is not in importMap (app/layout_test.go): add it with the packages it may import")
	}
	return problems, checked
}

func formatList(s []string) string { return "[" + strings.Join(s, " ") + "]" }
