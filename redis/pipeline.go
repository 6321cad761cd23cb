package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/stridehq/stride/ranker"
)

// Read pipelining.
//
// Every leaderboard read is one script call, and under load most of the
// API's CPU went to that round trip's system calls, not to the read: a
// write and a read per request on both ends of the socket, each waking a
// goroutine (profile in docs/benchmarks.md). Calls that arrive while a
// pipeline is out are sent together in the next one, one write and one
// read for all of them. As with the database's group commit there is no
// timer: a lone call goes at once, and batches form only when calls queue.
// Two senders take turns, so one batch is being written while the previous
// one's replies come back.

const (
	pipelineSenders = 2
	// maxPipeline bounds one batch, so one slow reply does not hold many.
	maxPipeline = 128
)

type scriptCall struct {
	ctx  context.Context
	keys []string
	args []any
	res  []any
	err  error
	done chan struct{}
}

type readPipeline struct {
	rdb     goredis.UniversalClient
	script  *goredis.Script
	calls   chan *scriptCall
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newReadPipeline(rdb goredis.UniversalClient, script *goredis.Script) *readPipeline {
	p := &readPipeline{rdb: rdb, script: script, calls: make(chan *scriptCall, 4*maxPipeline),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	var senders sync.WaitGroup
	for range pipelineSenders {
		senders.Go(p.send)
	}
	go func() {
		senders.Wait()
		close(p.stopped)
	}()
	return p
}

// run calls the read-only script with keys and args, in a pipeline with
// whatever other calls are waiting.
func (p *readPipeline) run(ctx context.Context, keys []string, args ...any) ([]any, error) {
	c := &scriptCall{ctx: ctx, keys: keys, args: args, done: make(chan struct{})}
	select {
	case p.calls <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.quit:
		return nil, ranker.ErrClosed
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.stopped:
		select {
		case <-c.done:
			return c.res, c.err
		default:
			return nil, ranker.ErrClosed
		}
	}
}

func (p *readPipeline) send() {
	batch := make([]*scriptCall, 0, maxPipeline)
	cmds := make([]*goredis.Cmd, 0, maxPipeline)
	for {
		var first *scriptCall
		select {
		case first = <-p.calls:
		case <-p.quit:
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxPipeline {
			select {
			case c := <-p.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		p.exec(batch, cmds[:0])
		clear(batch)
	}
}

// exec sends one batch and answers each call. Callers that gave up are
// skipped; a call whose script the server does not know yet (a restarted
// Redis) is retried alone through Run, which loads it.
func (p *readPipeline) exec(batch []*scriptCall, cmds []*goredis.Cmd) {
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		c := live[0]
		c.res, c.err = p.script.RunRO(c.ctx, p.rdb, c.keys, c.args...).Slice()
		close(c.done)
		return
	}
	// The batch is not any one caller's: it ends with the client's own
	// timeouts, not when one caller leaves.
	ctx := context.Background()
	pipe := p.rdb.Pipeline()
	for _, c := range live {
		cmds = append(cmds, p.script.EvalShaRO(ctx, pipe, c.keys, c.args...))
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, c := range live {
		c.res, c.err = cmds[i].Slice()
		if c.err != nil && goredis.HasErrorPrefix(c.err, "NOSCRIPT") {
			c.res, c.err = p.script.RunRO(c.ctx, p.rdb, c.keys, c.args...).Slice()
		}
		close(c.done)
	}
}

// close stops the senders; calls still queued get ranker.ErrClosed.
func (p *readPipeline) close() {
	p.once.Do(func() { close(p.quit) })
	<-p.stopped
}
