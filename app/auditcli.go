package app

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"notme/cases"
)

// auditProgressEvery is how many entries pass between progress lines.
const auditProgressEvery = 10000

// cmdAuditExport is `notme audit export`: the audit log as JSON lines on
// standard output, read a page at a time.
func cmdAuditExport(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config file")
	sinceFlag := fs.String("since", "", "first day or time to export (required): 2026-12-01 or RFC 3339")
	untilFlag := fs.String("until", "", "export entries before this day or time (default: up to now)")
	if pos, err := parseFlags(fs, args, env); err != nil {
		return err
	} else if len(pos) > 0 || *sinceFlag == "" {
		return badUsage(fs, env)
	}
	since, err := parseAuditDate("--since", *sinceFlag)
	if err != nil {
		return err
	}
	var until time.Time
	if *untilFlag != "" {
		if until, err = parseAuditDate("--until", *untilFlag); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	return withApp(ctx, cfg, env, func(a *App) error {
		w := bufio.NewWriter(env.Stdout)
		enc := json.NewEncoder(w)
		written := 0
		n, err := a.Service.ExportAuditCLI(ctx, cases.AuditFilter{Since: since, Until: until}, func(e cases.AuditEntry) error {
			if err := enc.Encode(e.JSON()); err != nil {
				return fmt.Errorf("write entry %d: %w", e.ID, err)
			}
			if written++; written%auditProgressEvery == 0 {
				// Lines already counted are on their way, so the
				// count and what a reader of stdout has agree.
				if err := w.Flush(); err != nil {
					return fmt.Errorf("write export: %w", err)
				}
				fmt.Fprintf(env.Stderr, "audit export: %d entries, through %s\n", written, e.At.UTC().Format(time.RFC3339))
			}
			return nil
		})
		if err != nil {
			return userError(err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
		fmt.Fprintf(env.Stderr, "audit export: %d entries\n", n)
		return nil
	})
}

// parseAuditDate reads a day (midnight UTC) or an RFC 3339 time.
func parseAuditDate(flagName, v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s %q is not a date: give a day such as 2026-12-01 (midnight UTC) or an RFC 3339 time such as 2026-12-01T09:00:00+09:00", flagName, v)
}
