// Command configdoc writes the configuration reference,
// docs/configuration.md, and config.example.yaml from app.ConfigReference
// and app.ConfigExample: run it as `go generate ./app`.
package main

import (
	"fmt"
	"os"

	"notme/app"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: configdoc REFERENCE.md EXAMPLE.yaml")
		os.Exit(2)
	}
	doc, err := app.ConfigReference()
	if err == nil {
		err = os.WriteFile(os.Args[1], doc, 0o644)
	}
	if err == nil {
		doc, err = app.ConfigExample()
	}
	if err == nil {
		err = os.WriteFile(os.Args[2], doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "configdoc:", err)
		os.Exit(1)
	}
}
