package store

import "gorm.io/gorm"

// Store holds the database handles. On SQLite the writer is one connection
// whose transactions begin IMMEDIATE and the reader a separate pool, so that
// concurrent writers queue instead of failing with "database is locked";
// on PostgreSQL both are the same pool.
type Store struct {
	w, r *gorm.DB
}

// New returns a Store; reader may be nil to use the writer for reads.
// The gorm configs must set TranslateError so that unique violations come
// back as gorm.ErrDuplicatedKey.
func New(writer, reader *gorm.DB) *Store {
	if reader == nil {
		reader = writer
	}
	dialectOf(writer).registerUnmatchableText(writer)
	dialectOf(reader).registerUnmatchableText(reader)
	return &Store{w: writer, r: reader}
}

// Writer is the handle for writes, and for reads that must see them or
// that a write depends on.
func (s *Store) Writer() *gorm.DB { return s.w }

// Reader is the handle for reads that may run beside the writer.
func (s *Store) Reader() *gorm.DB { return s.r }
