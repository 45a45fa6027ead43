package app

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"notme/cases/store"
)

// PostgresPool sizes the connection pool of one desk instance.
type PostgresPool struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
}

// openPostgres opens one pool used for reads and writes: PostgreSQL needs
// no separate writer. The URL carries a password, so errors and logs name
// only the host and database.
func openPostgres(ctx context.Context, rawURL string, pool PostgresPool, log *slog.Logger) (*Database, error) {
	where := postgresWhere(rawURL)
	sqlDB, err := OpenPostgresSQL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	if pool.MaxOpen <= 0 {
		pool.MaxOpen = 20
	}
	pool.MaxIdle = min(pool.MaxIdle, pool.MaxOpen) // 0: none kept idle
	sqlDB.SetMaxOpenConns(pool.MaxOpen)
	sqlDB.SetMaxIdleConns(pool.MaxIdle)
	sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		// pgx errors can quote the connection string; say only where.
		return nil, fmt.Errorf("connect to postgres %s: %w", where, redactURL(err, rawURL))
	}
	var clock *store.DBClock
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		// Name every column instead of SELECT *: pgx prepares and caches
		// each statement per connection, and once a newer release's
		// migration adds a column, every instance still running the old
		// release would fail each cached SELECT * once per connection
		// ("cached plan must not change result type"), a reporter's click
		// among them. Named columns keep the cached statements' results.
		QueryFields: true,
		Logger:      logger.Discard,
		NowFunc:     func() time.Time { return clock.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	st := store.New(db, db)
	clock = store.NewDBClock(st, nil)
	offset, within, err := clock.Sync(pctx)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("postgres %s: %w", where, redactURL(err, rawURL))
	}
	logClockOffset(log, offset, within)
	log.Debug("postgres opened", "where", where, "max_open_conns", pool.MaxOpen)
	return &Database{
		Store:  st,
		Driver: "postgres",
		Where:  where,
		Clock:  clock,
		writer: db,
		reader: db,
		close:  sqlDB.Close,
	}, nil
}

// clockWarnAt: a host clock this far from the database's is worth an
// operator's look (its logs disagree with the desk's records), though the
// desk follows the database.
const clockWarnAt = time.Second

func logClockOffset(log *slog.Logger, offset, within time.Duration) {
	if offset.Abs() > clockWarnAt {
		log.Warn("this host's clock differs from the database server's; the desk keeps the database's time",
			"database_ahead_by", offset.Round(time.Millisecond).String(), "within", within.Round(time.Microsecond).String())
		return
	}
	log.Debug("database clock", "database_ahead_by", offset.String(), "within", within.String())
}

// OpenPostgresSQL opens a database/sql pool on a postgres:// URL whose
// connections scan timestamptz as UTC (pgx would give time.Local), so a
// time read back equals the one written, as it does on SQLite.
func OpenPostgresSQL(rawURL string) (*sql.DB, error) {
	cc, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse database.url: %w", redactURL(err, rawURL))
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["timezone"] = "UTC"
	return stdlib.OpenDB(*cc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	})), nil
}

// postgresWhere describes a postgres URL without its credentials: host and
// database only.
func postgresWhere(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "postgres (unparsable url)"
	}
	return "postgres://" + u.Host + u.Path
}

// redactURL keeps a password out of an error that may quote the URL.
func redactURL(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pw, "xxxxx"))
}
