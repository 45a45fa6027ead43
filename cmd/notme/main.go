// Command notme is the misdirected-email report desk.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"notme/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], app.OSEnv())
	stop()
	os.Exit(code)
}
