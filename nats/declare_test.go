package nats

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// errStoreFailed is the server's answer when it cannot set up a stream's files.
var errStoreFailed = fmt.Errorf("nats: API error: %w", &jetstream.APIError{Code: 500, ErrorCode: 10049, Description: "error creating store for stream"})

func TestStoreSetupFailed(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"the server's store failure", errStoreFailed, true},
		{"a name in use", &jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamNameInUse}, false},
		{"insufficient resources", &jetstream.APIError{Code: 503, ErrorCode: 10047}, false},
		{"not an API error", errors.New("nats: timeout"), false},
		{"nil", nil, false},
	} {
		if got := storeSetupFailed(c.err); got != c.want {
			t.Errorf("%s: storeSetupFailed = %v, want %v", c.name, got, c.want)
		}
	}
}

// flakyStreams fails its first `fails` stream declarations with err.
type flakyStreams struct {
	jetstream.JetStream
	fails int
	err   error
	calls int
}

func (f *flakyStreams) CreateOrUpdateStream(context.Context, jetstream.StreamConfig) (jetstream.Stream, error) {
	f.calls++
	if f.calls <= f.fails {
		return nil, f.err
	}
	return nil, nil
}

func TestDeclareStreamRetriesOnlyTheStoreFailure(t *testing.T) {
	ctx := context.Background()
	passing := &flakyStreams{fails: 2, err: errStoreFailed}
	if _, err := declareStream(ctx, passing, testLogger(), jetstream.StreamConfig{Name: "s"}); err != nil {
		t.Fatalf("a store failure that passes: %v", err)
	}
	if passing.calls != 3 {
		t.Errorf("a store failure that passes: %d calls, want 3", passing.calls)
	}

	lasting := &flakyStreams{fails: 100, err: errStoreFailed}
	if _, err := declareStream(ctx, lasting, testLogger(), jetstream.StreamConfig{Name: "s"}); !errors.Is(err, errStoreFailed) {
		t.Fatalf("a lasting store failure: err = %v, want the server's", err)
	}
	if lasting.calls != 5 {
		t.Errorf("a lasting store failure: %d calls, want 5", lasting.calls)
	}

	other := &flakyStreams{fails: 1, err: errors.New("nats: no responders")}
	if _, err := declareStream(ctx, other, testLogger(), jetstream.StreamConfig{Name: "s"}); err == nil || other.calls != 1 {
		t.Errorf("another error: err = %v after %d calls, want it at once", err, other.calls)
	}
}
