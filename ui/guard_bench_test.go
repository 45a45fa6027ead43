package ui_test

// BenchmarkAddressGuard is POST /api/v1/addresses/check, one request per
// op, from one client and from eight, with a suppression list of one
// million entries (issue 15: p99 under 5 ms):
//
//	go test -run XXX -bench AddressGuard -benchtime 5000x ./ui
//
// On PostgreSQL with NOTME_TEST_POSTGRES set. The list is written once per
// run with multi-row INSERTs (about 20 s on SQLite, 40 s on PostgreSQL on
// a 2-core machine), before the timer starts.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"notme/app"
	"notme/app/testdb"
	"notme/cases"
	"notme/cases/mask"
	"notme/cases/sealed"
)

const benchSuppressions = 1_000_000

// benchGuardAddr is the i-th listed address; one in ten is listed for
// every account, the others for account acct-(i mod 50,000).
func benchGuardAddr(i int) (addr, account string) {
	addr = fmt.Sprintf("u%08x@%s", mix64(uint64(i))>>32, []string{"example.com", "example.net", "docomo.ne.jp", "gmail.com"}[i%4])
	if i%10 != 0 {
		account = fmt.Sprintf("acct-%d", i%50_000)
	}
	return addr, account
}

func BenchmarkAddressGuard(b *testing.B) {
	cfg := app.Defaults()
	cfg.DataDir = b.TempDir()
	if testdb.Postgres() {
		cfg.Database.URL = app.Secret(testdb.NewPostgres(b))
	}
	cfg.Guard.Rate = app.RateConfig{PerMinute: 1e9, Burst: 1e9}
	cfg.Log.Level = "error"
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	cfg.HTTP.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		srv.Close()
		b.Fatalf("app.Open() = %v", err)
	}
	b.Cleanup(func() { a.Close() })
	srv.Config.Handler = a.Server
	srv.Start()
	b.Cleanup(srv.Close)

	start := time.Now()
	fillSuppressions(b, a)
	b.Logf("listed %d addresses in %v", benchSuppressions, time.Since(start).Round(time.Millisecond))
	key, _, err := a.Service.AddAPIKey(context.Background(), "bench", []cases.Scope{cases.ScopeAddressesCheck})
	if err != nil {
		b.Fatal(err)
	}
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchGuard(b, srv.URL, key, clients) })
	}
}

// fillSuppressions writes the list straight into the table, as the desk
// stores it.
func fillSuppressions(b *testing.B, a *app.App) {
	b.Helper()
	db := a.DB.Store.Writer()
	const perStmt = 500
	now := time.Now().UTC()
	rows := make([]map[string]any, 0, perStmt)
	for i := 0; i < benchSuppressions; i++ {
		addr, account := benchGuardAddr(i)
		rows = append(rows, map[string]any{"addr_hash": sealed.RecipientHash(addr), "addr_masked": mask.Address(addr),
			"domain": addr[strings.IndexByte(addr, '@')+1:], "account_ref": account, "reason": cases.SuppressNotMyAddress,
			"origin": cases.OriginReporter, "created_by": "bench", "created_at": now})
		if len(rows) == perStmt || i == benchSuppressions-1 {
			if err := db.Table("suppressions").Create(rows).Error; err != nil {
				b.Fatalf("insert suppressions up to %d: %v", i, err)
			}
			rows = rows[:0]
		}
	}
	if a.DB.Driver == "postgres" {
		db.Exec("VACUUM ANALYZE suppressions")
	} else {
		db.Exec("ANALYZE")
	}
}

func benchGuard(b *testing.B, base, key string, clients int) {
	client := benchClient(clients)
	lat := runClients(b, clients, func(i int64) (time.Duration, error) {
		// One in ten asks for a listed address with its account, one in
		// ten a typo, the rest a clean address.
		addr, account := benchGuardAddr(int(mix64(uint64(i)) % benchSuppressions))
		want := `"verdict":"do_not_send"`
		switch i % 10 {
		case 3:
			addr, want = fmt.Sprintf("new%d@gmial.com", i), `"verdict":"confirm_first"`
		case 0:
		default:
			addr, want = fmt.Sprintf("new%d@example.org", i), `"verdict":"send"`
		}
		body := fmt.Sprintf(`{"address":%q,"account_ref":%q}`, addr, account)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/addresses/check", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("POST /api/v1/addresses/check: %w", err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(t0)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), want) {
			return took, fmt.Errorf("guard(%s, %s) = %d %s, want %s", addr, account, resp.StatusCode, got, want)
		}
		return took, nil
	})
	reportLatencies(b, lat)
}
