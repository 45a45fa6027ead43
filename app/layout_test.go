package app

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsPointOneWay walks the project's packages and fails on an
// import edge outside the package map of STYLE.md: cases at the bottom,
// knowing nothing of HTTP, IMAP, MIME or a gorm driver; Echo only in ui.
func TestImportsPointOneWay(t *testing.T) {
	forbidden := map[string][]string{
		"cases": {"notme/app", "notme/ui", "notme/inbox", "github.com/labstack/", "github.com/emersion/", "gorm.io/driver/", "net/http", "net/mail", "mime"},
		"inbox": {"notme/app", "notme/ui", "github.com/labstack/"},
		"ui":    {"notme/app", "notme/inbox", "github.com/emersion/", "gorm.io/"},
		"cmd":   {"notme/cases", "notme/ui", "notme/inbox", "github.com/labstack/"},
	}
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden[top] {
				if p == bad || strings.HasPrefix(p, bad) && (strings.HasSuffix(bad, "/") || strings.HasPrefix(p, bad+"/")) {
					t.Errorf("%s imports %s: %s must not depend on it", rel, p, top)
				}
			}
			if strings.HasPrefix(p, "github.com/labstack/echo") && top != "ui" {
				t.Errorf("%s imports Echo: only ui may", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked %d files; the walk missed the tree", checked)
	}
}
