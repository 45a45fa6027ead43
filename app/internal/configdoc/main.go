// Command configdoc writes the configuration reference,
// docs/configuration.md, from app.ConfigReference: run it as
// `go generate ./app`.
package main

import (
	"fmt"
	"os"

	"notme/app"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: configdoc FILE")
		os.Exit(2)
	}
	doc, err := app.ConfigReference()
	if err == nil {
		err = os.WriteFile(os.Args[1], doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "configdoc:", err)
		os.Exit(1)
	}
}
