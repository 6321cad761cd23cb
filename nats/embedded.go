package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// EmbeddedOptions configure the in-process server.
type EmbeddedOptions struct {
	// Listen is a host:port for a client listener (port 0: random). Empty,
	// the default, means no network listener at all: the Stride process
	// talks to the server in-process, and nothing is exposed.
	Listen string
	// Token, when set, is the secret every client must present, the
	// in-process connection included (a client of the listener puts it in
	// its URL: nats://TOKEN@host:port). StartEmbedded refuses a listener
	// on an address other than loopback without one.
	Token string
	// SyncAlways makes the server fsync every write before it acks it, so
	// an acked event survives a power loss, not only a process crash. Off
	// by default: the store is synced every SyncInterval, and the upload
	// row in the system of record (with the sweeper) is the truth.
	SyncAlways bool
	// SyncInterval between fsyncs when SyncAlways is off. Default 1s.
	SyncInterval time.Duration
	// MaxStore bounds the disk JetStream may use, in bytes (0: the server's
	// default, a share of the free space).
	MaxStore int64
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

// Server is a NATS server with JetStream running inside the process.
type Server struct {
	ns    *natsserver.Server
	log   *slog.Logger
	token string
}

// StartEmbedded starts a JetStream server storing in dir (created if
// needed) and waits until it accepts connections and JetStream is ready,
// which after a crash includes recovering the store.
func StartEmbedded(ctx context.Context, dir string, opts EmbeddedOptions) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "nats-embedded")
	if dir == "" {
		return nil, errors.New("embedded nats: empty data dir")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: data dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats: data dir: %w", err)
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = time.Second
	}
	so := &natsserver.Options{
		ServerName:        "stride-embedded",
		JetStream:         true,
		StoreDir:          abs,
		JetStreamMaxStore: opts.MaxStore,
		SyncAlways:        opts.SyncAlways,
		SyncInterval:      opts.SyncInterval,
		// The process owns signals, not the library.
		NoSigs:     true,
		DontListen: opts.Listen == "",
		// No HTTP monitor, cluster, gateway or leafnode listeners.
		HTTPPort: 0,
	}
	if opts.Listen != "" {
		host, port, err := net.SplitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen %q: %w", opts.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen %q: %w", opts.Listen, err)
		}
		if p == 0 {
			p = natsserver.RANDOM_PORT
		}
		if opts.Token == "" && !isLoopback(host) {
			return nil, fmt.Errorf("embedded nats: listen %q: a listener beyond loopback needs a token, or anyone who reaches it can publish and consume every event", opts.Listen)
		}
		so.Host, so.Port = host, p
	}
	so.Authorization = opts.Token
	ns, err := natsserver.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLoggerV2(serverLogger{log}, log.Enabled(ctx, slog.LevelDebug), false, false)
	go ns.Start()
	// Recovering a large store after a crash can take a while; without a
	// deadline from the caller, give up after a minute (a taken port, for
	// one, only shows in the logs).
	deadline := time.Now().Add(time.Minute)
	for !ns.ReadyForConnections(100 * time.Millisecond) {
		if err := ctx.Err(); err != nil {
			ns.Shutdown()
			return nil, fmt.Errorf("embedded nats: not ready: %w", err)
		}
		if time.Now().After(deadline) {
			ns.Shutdown()
			return nil, errors.New("embedded nats: not ready after a minute (see logs)")
		}
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		return nil, errors.New("embedded nats: jetstream did not start (see logs)")
	}
	log.Info("embedded nats ready", "dir", abs, "url", ns.ClientURL(), "listen", opts.Listen != "")
	return &Server{ns: ns, log: log, token: opts.Token}, nil
}

// isLoopback reports whether host names only this machine: a loopback IP
// or "localhost". An empty host (every interface) is not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientURL is the URL other processes can use, or "" without a listener.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect returns a Bus on an in-process connection to the server.
func (s *Server) Connect(ctx context.Context, opts Options) (*Bus, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("nats bus: %w", err)
	}
	connOpts := append(connOptions(o), natsgo.InProcessServer(s.ns))
	if s.token != "" {
		connOpts = append(connOpts, natsgo.Token(s.token))
	}
	nc, err := natsgo.Connect("", connOpts...)
	if err != nil {
		return nil, fmt.Errorf("nats bus: in-process connect: %w", err)
	}
	b, err := newBus(ctx, nc, o)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

// Shutdown stops the server: client connections are closed and JetStream
// writes its stores out cleanly. Close the buses first (after their
// consumers stopped) for a graceful stop of the whole process.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		close(done)
	}()
	select {
	case <-done:
		s.log.Info("embedded nats stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded nats shutdown: %w", ctx.Err())
	}
}

// serverLogger sends the server's logs to slog.
type serverLogger struct{ l *slog.Logger }

func (s serverLogger) Noticef(format string, v ...any) { s.l.Info(fmt.Sprintf(format, v...)) }
func (s serverLogger) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s serverLogger) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLogger) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLogger) Debugf(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLogger) Tracef(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
