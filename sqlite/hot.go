package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/stridehq/stride/store"
)

// hotStatements are the worker's per-upload statements, prepared once on
// the writer connection. modernc.org/sqlite parses the SQL text of every
// unprepared statement again; for the statements of each processed
// upload that parse was most of the store's CPU (docs/benchmarks.md).
//
// They are prepared outside any transaction: the writer pool has a single
// connection, and preparing on the pool while a transaction holds it would
// wait for ever. Inside a transaction, tx.StmtContext reuses them.
type hotStatements struct {
	stmts map[string]*sql.Stmt
}

// hotStatements returns the prepared set, preparing it on first use (the
// schema must exist, so not in Open, which runs before migrations). On a
// failure the statements simply run unprepared, and a later call retries.
func (db *DB) hotStatements(ctx context.Context) *hotStatements {
	db.hotMu.Lock()
	defer db.hotMu.Unlock()
	if db.hot != nil {
		return db.hot
	}
	h := &hotStatements{stmts: map[string]*sql.Stmt{}}
	for _, q := range []string{qClaimUpload, qClaimedUpload, qUploadOutcome, qFindDuplicate, qFinishUpload, qInsertActivity, qInsertStreams, qInsertOutbox, qBumpFactsVersion} {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			h.close()
			return &hotStatements{}
		}
		h.stmts[q] = st
	}
	db.hot = h
	return h
}

func (h *hotStatements) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := h.stmts[q]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (h *hotStatements) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := h.stmts[q]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

func (h *hotStatements) insertOutbox(ctx context.Context, tx *sql.Tx, ev store.OutboxEvent) error {
	if _, err := h.exec(ctx, tx, qInsertOutbox, ev.ID, ev.Type, ev.Key, ev.Payload, micros(ev.CreatedAt)); err != nil {
		return fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
	}
	return nil
}

func (h *hotStatements) close() {
	for _, st := range h.stmts {
		_ = st.Close()
	}
}

// hotState is embedded in DB.
type hotState struct {
	hotMu sync.Mutex
	hot   *hotStatements
}
