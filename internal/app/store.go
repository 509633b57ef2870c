package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/latchkey/latchkey/keyseal"
	"github.com/latchkey/latchkey/postgres"
	"github.com/latchkey/latchkey/sqldb"
	"github.com/latchkey/latchkey/sqlite"
	"github.com/latchkey/latchkey/token"
)

// Store is the opened database, SQLite or PostgreSQL.
type Store struct {
	*sqldb.DB
	pg *postgres.DB // nil on SQLite
}

// Close closes the store (on PostgreSQL, its pool too).
func (s *Store) Close() error {
	if s.pg != nil {
		return s.pg.Close()
	}
	return s.DB.Close()
}

// OpenStore opens and migrates the store. A SQLite path that cannot be
// opened is invalid configuration (a *ConfigError); a PostgreSQL server
// that does not answer, and a failed migration, are run-time failures.
// With cfg.MustExist, a missing SQLite file is an error instead of a new
// store.
func OpenStore(ctx context.Context, cfg *Config) (*Store, error) {
	var s *Store
	if cfg.PostgresURL != "" {
		pg, err := postgres.Open(ctx, cfg.PostgresURL, postgres.Options{
			MaxConns:        cfg.DBMaxConns,
			ConnectTimeout:  cfg.DBConnect,
			MaxConnLifetime: cfg.DBLifetime,
			MaxConnIdleTime: cfg.DBIdleTime,
		})
		if err != nil {
			return nil, err
		}
		s = &Store{DB: pg.DB, pg: pg}
	} else {
		if cfg.MustExist {
			if _, err := os.Stat(cfg.SQLitePath); err != nil {
				return nil, configErrorf("LATCHKEY_DATABASE_URL: no database at %s (run latchkey serve or migrate first)", cfg.SQLitePath)
			}
		}
		db, err := sqlite.Open(ctx, cfg.SQLitePath)
		if err != nil {
			return nil, configErrorf("LATCHKEY_DATABASE_URL: %w", err)
		}
		s = &Store{DB: db}
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}

// OpenSealer finds the key-encryption key (KEK) that seals the private
// signing keys at rest and brings the store under it: keys stored in plain
// text by an earlier version are sealed in place, in one transaction, and
// every sealed key must open, so that a wrong KEK stops the command here,
// before anything is signed or stored under it. It returns how many keys
// it sealed.
//
// The KEK is derived from LATCHKEY_SECRET_KEY when that is set, and read
// from the key file beside the database otherwise, which is created (32
// random bytes, mode 0600) when missing, unless the store already holds
// sealed keys: then the file was lost, and a new one could open nothing.
// A KEK that cannot be had or does not fit is invalid configuration.
func OpenSealer(ctx context.Context, cfg *Config, db *Store, log *slog.Logger) (*keyseal.Sealer, int, error) {
	kek, source, err := loadKEK(ctx, cfg, db, log)
	if err != nil {
		return nil, 0, err
	}
	s, err := keyseal.New(kek)
	if err != nil {
		return nil, 0, configErrorf("key-encryption key: %w", err)
	}
	n, err := token.SealStoredKeys(ctx, db, s)
	switch {
	case errors.Is(err, keyseal.ErrOpen):
		return nil, 0, wrongKEK(source, cfg)
	case err != nil:
		return nil, 0, fmt.Errorf("seal signing keys: %w", err)
	}
	if n > 0 {
		log.Info("encrypted signing keys stored in plain text by an earlier version", "keys", n)
	}
	return s, n, nil
}

// loadKEK reads the KEK from LATCHKEY_SECRET_KEY or the key file, and
// says which it came from.
func loadKEK(ctx context.Context, cfg *Config, db *Store, log *slog.Logger) (kek []byte, source string, err error) {
	if cfg.SecretKey != "" {
		k, err := keyseal.FromSecret(cfg.SecretKey)
		if err != nil {
			return nil, "", configErrorf("LATCHKEY_SECRET_KEY: %w", err)
		}
		return k, "LATCHKEY_SECRET_KEY", nil
	}
	if cfg.SQLitePath == "" {
		// No database file to keep a key file beside (Load refuses this
		// configuration; a Config built by hand must not fall back to a
		// key file in the working directory).
		return nil, "", configErrorf("LATCHKEY_SECRET_KEY: required with PostgreSQL")
	}
	path := cfg.keyFile()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		keys, err := db.ListSigningKeys(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("list signing keys: %w", err)
		}
		for _, k := range keys {
			if token.IsSealed(k) {
				return nil, "", configErrorf("no key file at %s and LATCHKEY_SECRET_KEY is not set, but the signing keys in %s are encrypted: restore the key file or set LATCHKEY_SECRET_KEY", path, cfg.Database())
			}
		}
	}
	k, created, err := keyseal.LoadOrCreateFile(path)
	if err != nil {
		return nil, "", configErrorf("key-encryption key: %w", err)
	}
	if created {
		log.Info("created the key file that encrypts the signing keys at rest; back it up, but not alongside the database", "path", path)
	}
	return k, "the key file " + path, nil
}

// wrongKEK is the one-line error for a key-encryption key that does not
// open the store's keys (keyseal.ErrOpen says no more than that).
func wrongKEK(source string, cfg *Config) error {
	return configErrorf("the key-encryption key from %s does not open the signing keys in %s: wrong key, or the stored keys were altered", source, cfg.Database())
}
