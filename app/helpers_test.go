package app

import (
	"log/slog"

	"notme/cases"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func reportFor(token string) cases.ReportInput {
	return cases.ReportInput{Channel: cases.ChannelLink, Token: token}
}
