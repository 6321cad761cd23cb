package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stridehq/stride"
)

// Group commit.
//
// With synchronous=FULL every commit fsyncs the write-ahead log (≈ 0.35 ms
// on the reference machine), and SQLite has one writer, so one transaction
// per upload caps acceptance at a few thousand per second whatever the CPU.
// Instead, writes that may share a commit are sent to a committer goroutine
// owned by the DB. It takes whatever is queued (no timer: under light load a
// batch is one request and adds no latency; under heavy load the requests
// that arrived during the previous fsync form the next batch), runs them in
// ONE transaction, where a request that fails is rolled back alone
// (runBatch), commits once, and only then answers every caller: a caller
// that got nil is durable.

// GroupCommitOptions bound the committer's queue and batches.
type GroupCommitOptions struct {
	// QueueSize is how many requests may wait for the committer. Beyond it
	// callers wait for a slot (back-pressure) instead of growing memory.
	QueueSize int
	// QueueWait is how long a caller waits for a slot in a full queue
	// before it gets EUNAVAILABLE with a Retry-After (its context may end
	// the wait sooner).
	QueueWait time.Duration
	// MaxBatch and MaxBatchBytes bound one transaction, so that one commit
	// does not hold the single writer (and the callers in it) for long.
	MaxBatch      int
	MaxBatchBytes int64
}

// The defaults of GroupCommitOptions' zero fields.
const (
	DefaultQueueSize     = 1024
	DefaultQueueWait     = 2 * time.Second
	DefaultMaxBatch      = 256
	DefaultMaxBatchBytes = 16 << 20
)

func (o GroupCommitOptions) withDefaults() GroupCommitOptions {
	d := GroupCommitOptions{QueueSize: DefaultQueueSize, QueueWait: DefaultQueueWait, MaxBatch: DefaultMaxBatch,
		MaxBatchBytes: DefaultMaxBatchBytes}
	if o.QueueSize > 0 {
		d.QueueSize = o.QueueSize
	}
	if o.QueueWait > 0 {
		d.QueueWait = o.QueueWait
	}
	if o.MaxBatch > 0 {
		d.MaxBatch = o.MaxBatch
	}
	if o.MaxBatchBytes > 0 {
		d.MaxBatchBytes = o.MaxBatchBytes
	}
	return d
}

// GroupCommitStats counts the committer's work since Open.
type GroupCommitStats struct {
	Submitted int64 // requests queued for the committer
	Requests  int64 // requests answered (committed, failed alone, or failed with their batch)
	Commits   int64 // transactions committed
	Batches   int64 // transactions begun
	MaxBatch  int64 // most requests seen in one transaction
	QueueFull int64 // times a caller found the queue full
}

// groupJob is one request waiting for a shared commit. run executes on the
// batch's transaction, possibly twice (see runBatch): it must set whatever
// it reports afresh on each call and touch nothing outside the transaction.
type groupJob struct {
	ctx  context.Context
	size int64
	run  func(ctx context.Context, b *batchTx) error
	done chan error // buffered: the committer never blocks on a caller that left
}

// batchTx is the shared transaction, with statements prepared once per batch.
type batchTx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// exec runs a statement, preparing it the first time in this batch.
func (b *batchTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (b *batchTx) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := b.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

func (b *batchTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := b.stmts[query]; ok {
		return st, nil
	}
	st, err := b.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	b.stmts[query] = st
	return st, nil
}

type committer struct {
	db      *sql.DB
	opts    GroupCommitOptions
	jobs    chan *groupJob
	quit    chan struct{} // closed by Close: finish what is queued, then stop
	stopped chan struct{} // closed when the committer has returned
	once    sync.Once

	submitted, requests, commits, batches, maxBatch, queueFull atomic.Int64
}

func newCommitter(db *sql.DB, opts GroupCommitOptions) *committer {
	opts = opts.withDefaults()
	c := &committer{db: db, opts: opts, jobs: make(chan *groupJob, opts.QueueSize),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

func errClosed() error {
	return &stride.Error{Code: stride.EUNAVAILABLE, Message: "The database is shutting down.", RetryAfter: 5}
}

// do queues fn and waits for the commit of the batch it ran in. It returns
// fn's error, or the batch's if the transaction failed as a whole. If ctx
// ends first it returns at once; the request may still commit (as with any
// commit whose answer is lost: Idempotency-Key makes the retry safe).
func (c *committer) do(ctx context.Context, size int64, fn func(ctx context.Context, b *batchTx) error) error {
	j := &groupJob{ctx: ctx, size: size, run: fn, done: make(chan error, 1)}
	select {
	case <-c.quit:
		return errClosed()
	default:
	}
	select {
	case c.jobs <- j:
	default:
		// Full: wait a bounded time for a slot, then tell the client to
		// come back rather than queue without limit.
		c.queueFull.Add(1)
		t := time.NewTimer(c.opts.QueueWait)
		defer t.Stop()
		select {
		case c.jobs <- j:
		case <-ctx.Done():
			return fmt.Errorf("wait for the database writer: %w", ctx.Err())
		case <-c.quit:
			return errClosed()
		case <-t.C:
			return &stride.Error{Code: stride.EUNAVAILABLE, Message: "Too many uploads are waiting to be stored; retry shortly.", RetryAfter: 1}
		}
	}
	c.submitted.Add(1)
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("wait for commit: %w", ctx.Err())
	case <-c.stopped:
		// The committer answers before it stops, so a queued job that was
		// run has its answer waiting; one sent after the last drain has none.
		select {
		case err := <-j.done:
			return err
		default:
			return errClosed()
		}
	}
}

func (c *committer) run() {
	defer close(c.stopped)
	// The batch's transaction must not end because one caller went away;
	// each caller's context is checked before its own work instead.
	ctx := context.Background()
	batch := make([]*groupJob, 0, c.opts.MaxBatch)
	for {
		var first *groupJob
		select {
		case first = <-c.jobs:
		case <-c.quit:
			// Run what was queued before Close, then stop.
			for {
				batch = c.fill(batch[:0], nil)
				if len(batch) == 0 {
					return
				}
				c.commit(ctx, batch)
			}
		}
		batch = c.fill(batch[:0], first)
		c.commit(ctx, batch)
		clear(batch) // drop references to bodies between batches
	}
}

// fill adds to batch whatever is queued now, up to the batch bounds.
func (c *committer) fill(batch []*groupJob, first *groupJob) []*groupJob {
	var size int64
	if first != nil {
		batch, size = append(batch, first), first.size
	}
	for len(batch) < c.opts.MaxBatch && size < c.opts.MaxBatchBytes {
		select {
		case j := <-c.jobs:
			batch, size = append(batch, j), size+j.size
		default:
			return batch
		}
	}
	return batch
}

// commit runs one batch in one transaction and answers every job.
func (c *committer) commit(ctx context.Context, batch []*groupJob) {
	c.batches.Add(1)
	if n := int64(len(batch)); n > c.maxBatch.Load() {
		c.maxBatch.Store(n) // only this goroutine writes it
	}
	errs := make([]error, len(batch))
	err := c.runBatch(ctx, batch, errs)
	if err == nil {
		c.commits.Add(1)
	}
	// Counted before answering, so a caller that got its answer sees it.
	c.requests.Add(int64(len(batch)))
	for i, j := range batch {
		if err != nil {
			// The transaction as a whole failed: nothing of the batch is
			// stored, whatever each request's own outcome was.
			errs[i] = err
		}
		j.done <- errs[i]
	}
}

// errRequestFailed ends a batch run without savepoints when one of its
// requests failed: the batch is then run again with them.
var errRequestFailed = errors.New("a request of the batch failed")

// runBatch runs the batch's requests in one transaction. A savepoint around
// each request, so that a failing one is undone alone, costs two statements
// per request, and requests rarely fail (a deleted user, a stale live
// batch). So the batch first runs without them; if a request fails, the
// whole transaction is rolled back and the batch runs again with a
// savepoint per request. A request's run may therefore be called twice, the
// first time on a transaction that is rolled back.
func (c *committer) runBatch(ctx context.Context, batch []*groupJob, errs []error) error {
	err := c.runBatchOnce(ctx, batch, errs, false)
	if errors.Is(err, errRequestFailed) {
		clear(errs)
		err = c.runBatchOnce(ctx, batch, errs, true)
	}
	return err
}

func (c *committer) runBatchOnce(ctx context.Context, batch []*groupJob, errs []error, savepoints bool) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin group commit: %w", err)
	}
	b := &batchTx{tx: tx, stmts: make(map[string]*sql.Stmt, 8)}
	fail := func(err error) error {
		_ = tx.Rollback()
		return err
	}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("upload abandoned before commit: %w", err)
			continue
		}
		if !savepoints {
			if errs[i] = j.run(ctx, b); errs[i] != nil {
				return fail(errRequestFailed)
			}
			continue
		}
		if _, err := b.exec(ctx, `SAVEPOINT job`); err != nil {
			return fail(fmt.Errorf("savepoint: %w", err))
		}
		if errs[i] = j.run(ctx, b); errs[i] != nil {
			// Undo this request only. If even that fails (SQLite rolls the
			// whole transaction back on some I/O errors), the batch fails.
			if _, err := b.exec(ctx, `ROLLBACK TO job`); err != nil {
				return fail(fmt.Errorf("roll back a failed request (%v): %w", errs[i], err))
			}
		}
		if _, err := b.exec(ctx, `RELEASE job`); err != nil {
			return fail(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("group commit: %w", err)
	}
	return nil
}

// close stops taking jobs, runs the queued ones and waits for the
// committer to return.
func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	<-c.stopped
}

func (c *committer) stats() GroupCommitStats {
	return GroupCommitStats{Submitted: c.submitted.Load(), Requests: c.requests.Load(), Commits: c.commits.Load(), Batches: c.batches.Load(),
		MaxBatch: c.maxBatch.Load(), QueueFull: c.queueFull.Load()}
}

// GroupCommitStats reports how many requests shared how many commits.
func (db *DB) GroupCommitStats() GroupCommitStats {
	if db.group == nil {
		return GroupCommitStats{}
	}
	return db.group.stats()
}
