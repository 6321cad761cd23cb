package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/nats"
	"github.com/stridehq/stride/rabbitmq"
)

// openedBus is a bus connection and, for the embedded default, the server
// behind it, which must outlive the connection.
type openedBus struct {
	bus.Bus
	// Fanout is the same connection's at-most-once fan-out, for the
	// realtime layer.
	Fanout   bus.Fanout
	embedded *nats.Server
}

func (b *openedBus) close(log *slog.Logger) {
	if err := b.Bus.Close(); err != nil {
		log.Warn("close bus", "err", err)
	}
	if b.embedded != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.embedded.Shutdown(ctx); err != nil {
			log.Warn("stop embedded nats", "err", err)
		}
	}
}

// openBus connects to the configured bus: the embedded NATS JetStream
// server (files in DATA_DIR/nats) when url is empty, else nats:// or amqp://.
// listen, for the embedded server only, opens a client listener so that
// operator commands (stride deadletters) can reach it, and its clients must
// present listenToken; empty keeps it in-process. existing, for operator
// commands, attaches to a deployment's streams or exchanges without
// creating any, and fails if there are none.
func openBus(ctx context.Context, url, dataDir, listen, listenToken, prefix string, existing bool, log *slog.Logger) (*openedBus, error) {
	if url != "" && (listen != "" || listenToken != "") {
		return nil, errors.New("--bus-listen and --bus-listen-token expose the embedded bus; they have no meaning with --bus-url")
	}
	if listenToken != "" && listen == "" {
		return nil, errors.New("--bus-listen-token without --bus-listen: there is no listener to protect")
	}
	if listenToken != "" && len(listenToken) < 16 {
		return nil, errors.New("--bus-listen-token: at least 16 characters")
	}
	switch {
	case url == "":
		srv, err := nats.StartEmbedded(ctx, filepath.Join(dataDir, "nats"), nats.EmbeddedOptions{Logger: log, Listen: listen, Token: listenToken})
		if err != nil {
			return nil, err
		}
		b, err := srv.Connect(ctx, nats.Options{Prefix: prefix, Logger: log})
		if err != nil {
			_ = srv.Shutdown(ctx)
			return nil, err
		}
		return &openedBus{Bus: b, Fanout: b, embedded: srv}, nil
	case strings.HasPrefix(url, "nats://") || strings.HasPrefix(url, "tls://"):
		b, err := nats.Connect(ctx, url, nats.Options{Prefix: prefix, Existing: existing, Logger: log})
		if err != nil {
			return nil, err
		}
		return &openedBus{Bus: b, Fanout: b}, nil
	case strings.HasPrefix(url, "amqp://") || strings.HasPrefix(url, "amqps://"):
		b, err := rabbitmq.Connect(ctx, url, rabbitmq.Options{Prefix: prefix, Existing: existing, Logger: log, Groups: []string{"worker"}})
		if err != nil {
			return nil, err
		}
		return &openedBus{Bus: b, Fanout: b}, nil
	}
	return nil, errors.New("bus url must start with nats:// or amqp:// (empty: embedded NATS)")
}

// busKind names the bus for logs.
func busKind(url string) string {
	if url == "" {
		return "embedded-nats"
	}
	scheme, _, _ := strings.Cut(url, ":")
	return fmt.Sprint(scheme)
}
