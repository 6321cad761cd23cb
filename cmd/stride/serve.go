package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/auth"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/fsblob"
	stridehttp "github.com/stridehq/stride/http"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/internal/logctx"
	"github.com/stridehq/stride/internal/priority"
	"github.com/stridehq/stride/postgres"
	"github.com/stridehq/stride/query"
	"github.com/stridehq/stride/realtime"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/standings"
	"github.com/stridehq/stride/store"
)

// database is a store adapter with its schema management.
type database interface {
	store.Store
	Migrate(ctx context.Context) ([]int, error)
	SchemaVersion(ctx context.Context) (int, error)
	LatestVersion() (int, error)
}

func openDatabase(ctx context.Context, st storeSettings) (database, error) {
	if st.embedded() {
		return sqlite.Open(ctx, st.sqlitePath())
	}
	if !strings.HasPrefix(*st.databaseURL, "postgres://") && !strings.HasPrefix(*st.databaseURL, "postgresql://") {
		return nil, fmt.Errorf("database url must start with postgres://")
	}
	return postgres.Open(ctx, *st.databaseURL)
}

// prepareSchema migrates, or with migrations off checks that the schema is
// current, so a server never runs against a schema it does not know.
func prepareSchema(ctx context.Context, db database, migrate bool, log *slog.Logger) error {
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "versions", applied)
		}
		return nil
	}
	have, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	want, err := db.LatestVersion()
	if err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run 'stride migrate'", have, want)
	}
	return nil
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: use text or json", format)
	}
	return slog.New(logctx.Handler{Handler: h}), nil
}

// signingKey returns the access-token key: the configured secret or key
// file, or else a key generated once and kept in the data dir. Nodes that
// share a database must share a configured key, or each would refuse the
// others' tokens.
func signingKey(secret, keyFile, dataDir string) (key []byte, source string, err error) {
	switch {
	case secret != "":
		key, source = []byte(secret), "STRIDE_JWT_SECRET"
	case keyFile != "":
		raw, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, "", fmt.Errorf("read jwt key file: %w", err)
		}
		key, source = []byte(strings.TrimSpace(string(raw))), keyFile
	default:
		path := filepath.Join(dataDir, "jwt.key")
		source = path
		raw, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			raw, err = createKeyFile(path)
		}
		if err != nil {
			return nil, "", err
		}
		key = []byte(strings.TrimSpace(string(raw)))
	}
	if len(key) < auth.MinKeyBytes {
		return nil, "", fmt.Errorf("jwt key from %s is %d bytes; at least %d are needed", source, len(key), auth.MinKeyBytes)
	}
	return key, source, nil
}

func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key := []byte(hex.EncodeToString(raw) + "\n")
	// O_EXCL: if two processes race, one writes and both then read its key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create jwt key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write jwt key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync jwt key: %w", err)
	}
	return key, f.Close()
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s := newSettings("serve", getenv, stderr)
	st := addStoreSettings(s)
	rs := addRankerSettings(s)
	var (
		addr            = s.string("addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
		role            = s.string("role", "all", "which parts to run: all, api or worker")
		migrateOnStart  = s.bool("migrate-on-start", true, "apply pending migrations at start-up")
		logFormat       = s.string("log-format", "text", "log format: text or json")
		logLevel        = s.string("log-level", "info", "log level: debug, info, warn or error")
		corsOrigins     = s.string("cors-origins", "", "comma-separated browser origins allowed to call the API, or *")
		trustedProxies  = s.string("trusted-proxies", "", "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is trusted")
		metricsAddr     = s.string("metrics-addr", "", "serve /metrics on this address instead of the main one")
		jwtSecret       = s.string("jwt-secret", "", "access-token signing secret (32+ bytes), shared by all API nodes")
		jwtKeyFile      = s.string("jwt-key-file", "", "file holding the access-token signing secret")
		accessTTL       = s.duration("access-token-ttl", 15*time.Minute, "lifetime of an access token")
		refreshTTL      = s.duration("refresh-token-ttl", 30*24*time.Hour, "lifetime of a refresh token")
		sessionTTL      = s.duration("session-ttl", 90*24*time.Hour, "a session ends this long after sign-in, however often it is refreshed")
		authCacheTTL    = s.duration("auth-cache-ttl", 5*time.Second, "trust an authenticated access token this long without checking its session again (0: check every request); sign-outs and account changes apply at once on the node that makes them and, announced over the bus, on the others; this bounds a lost announcement")
		registration    = s.string("registration", account.RegistrationOpen, "who may register: open, invite or closed")
		adminEmail      = s.string("bootstrap-admin-email", "", "create this administrator at start-up if no account has this email")
		adminPassword   = s.string("bootstrap-admin-password", "", "password of the bootstrap administrator")
		shutdownTimeout = s.duration("shutdown-timeout", 30*time.Second, "how long to let in-flight requests finish on SIGTERM")
		busURL          = s.string("bus-url", "", "event bus: nats://host:4222 or amqp://user:pass@host:5672/; empty runs NATS JetStream embedded in DATA_DIR/nats")
		busPrefix       = s.string("bus-prefix", "stride", "namespace of the streams, exchanges and queues on the bus")
		busListen       = s.string("bus-listen", "", "let the embedded bus accept NATS clients on this host:port (e.g. 127.0.0.1:4223, for 'stride deadletters'); empty: in-process only")
		busListenToken  = s.string("bus-listen-token", "", "secret (16+ characters) the clients of --bus-listen must present, as nats://TOKEN@host:port; required unless --bus-listen is a loopback address")
		sweepAfter      = s.duration("sweep-after", 2*time.Minute, "re-publish uploads still queued or processing after this long (a lost or stuck message)")
		sweepEvery      = s.duration("sweep-every", 30*time.Second, "how often to look for such uploads")
		maxUpload       = s.int64("max-upload-bytes", stridehttp.DefaultMaxUploadBytes, "largest accepted upload body, before decompression")
		blobDir         = s.string("blob-dir", "", "directory for upload bodies over --inline-upload-bytes (default DATA_DIR/blobs with embedded SQLite; with PostgreSQL bodies stay in the database unless this names a directory every node shares)")
		boardCacheTTL   = s.duration("leaderboard-cache-ttl", time.Second, "serve a page of a global leaderboard (not around=me) from memory for this long; writes this process makes or hears of drop it at once (0: read the ranker on every request)")
		boardInterval   = s.duration("realtime-board-interval", time.Second, "the most often a watched leaderboard is pushed to WebSocket clients (changes in between are coalesced)")
		pingInterval    = s.duration("realtime-ping-interval", 30*time.Second, "how often WebSocket clients are pinged; one that does not answer within half of it is disconnected")
		inlineUpload    = s.int64("inline-upload-bytes", ingest.DefaultInlineLimit, "upload bodies up to this size are kept in the database row")
		yieldRate       = s.int64("background-yield-rps", 500, "while API requests arrive at this rate (per second) or faster, the consumers in this process (uploads into activities, boards) run one at a time and only --background-share of the time, so the API answers first; the events wait on the bus (0: never yield)")
		factsCache      = s.int64("standings-facts-cache", standings.DefaultFactsCache, "how many activity facts the standings projector keeps between an athlete's events, so that a new activity is read alone instead of the athlete's whole history (a few hundred bytes each; 0: keep none)")
		backgroundShare = s.int64("background-share", 25, "percentage of the time the consumers may run while they yield to the API (1-100)")
	)
	if err := s.parse(args); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	log, err := newLogger(*logFormat, *logLevel, stderr)
	if err != nil {
		return err
	}
	switch *role {
	case "all":
	case "api", "worker":
		// Split roles only make sense when several processes share the
		// state, which the embedded adapters cannot do.
		if st.embedded() || *busURL == "" {
			return fmt.Errorf("--role %s needs networked adapters: PostgreSQL (STRIDE_DATABASE_URL) and an external bus (STRIDE_BUS_URL); "+
				"with embedded ones run --role all", *role)
		}
		if rs.inMemory() {
			return fmt.Errorf("--role %s needs leaderboards every process shares: set STRIDE_REDIS_URL", *role)
		}
	default:
		return fmt.Errorf("--role %q: use all, api or worker", *role)
	}
	if *boardInterval < 50*time.Millisecond || *pingInterval < time.Second {
		return errors.New("--realtime-board-interval must be at least 50ms and --realtime-ping-interval at least 1s")
	}
	if *yieldRate < 0 || *backgroundShare < 1 || *backgroundShare > 100 {
		return errors.New("--background-yield-rps must be 0 or more and --background-share between 1 and 100")
	}
	if *factsCache < 0 {
		return fmt.Errorf("--standings-facts-cache %d: 0 or more", *factsCache)
	}
	if *maxUpload < 1024 {
		return fmt.Errorf("--max-upload-bytes %d: at least 1024", *maxUpload)
	}
	switch *registration {
	case account.RegistrationOpen, account.RegistrationInvite, account.RegistrationClosed:
	default:
		return fmt.Errorf("--registration %q: use open, invite or closed", *registration)
	}
	proxies, err := parsePrefixes(*trustedProxies)
	if err != nil {
		return err
	}
	if (*adminEmail == "") != (*adminPassword == "") {
		return errors.New("set both --bootstrap-admin-email and --bootstrap-admin-password, or neither")
	}

	db, err := openDatabase(ctx, st)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, *migrateOnStart, log); err != nil {
		return err
	}
	key, keySource, err := signingKey(*jwtSecret, *jwtKeyFile, *st.dataDir)
	if err != nil {
		return err
	}
	if !st.embedded() && *jwtSecret == "" && *jwtKeyFile == "" {
		log.Warn("the access-token key was generated locally; other nodes on this database will refuse its tokens. Set STRIDE_JWT_SECRET or STRIDE_JWT_KEY_FILE on every node.", "key", keySource)
	}
	signer, err := auth.NewSigner(key, "stride", *accessTTL)
	if err != nil {
		return err
	}
	source := "stride/" + *role
	accounts := account.New(db, signer, account.Config{
		Registration: *registration, RefreshTTL: *refreshTTL, SessionTTL: *sessionTTL, Source: source,
		AuthCacheTTL: *authCacheTTL,
	}, log, time.Now)
	if *adminEmail != "" {
		if err := bootstrapAdmin(ctx, accounts, *adminEmail, *adminPassword, log); err != nil {
			return err
		}
	}

	eventBus, err := openBus(ctx, *busURL, *st.dataDir, *busListen, *busListenToken, *busPrefix, false, log)
	if err != nil {
		return err
	}
	defer eventBus.close(log)
	if eventBus.embedded != nil && *busListen != "" {
		fmt.Fprintf(stdout, "stride: embedded bus on %s\n", eventBus.embedded.ClientURL())
	}
	uploads := ingest.New(db, log, time.Now, source)
	worker := ingest.NewWorker(db, log, time.Now, source)
	if *role == "all" {
		// The relay runs here too: wake it for the worker's events, which
		// it would otherwise publish only at its next poll (up to 1 s).
		worker.Committed = uploads.Notify
	}
	if dir := *blobDir; dir != "" || st.embedded() {
		if dir == "" {
			dir = filepath.Join(*st.dataDir, "blobs")
		}
		blobs, err := fsblob.Open(dir)
		if err != nil {
			return err
		}
		uploads.Blobs, uploads.InlineLimit, worker.Blobs = blobs, int(*inlineUpload), blobs
	}
	rk, err := openRanker(ctx, rs)
	if err != nil {
		return err
	}
	defer rk.Close()
	if rs.inMemory() && *busURL != "" {
		log.Warn("leaderboards are in this process's memory: run a single process, or set STRIDE_REDIS_URL so that every process shares them")
	}
	projector := standings.NewProjector(db, rk, eventBus, log, time.Now, source)
	projector.SetFactsCache(int(*factsCache))
	// Declaring the consumer groups before accepting anything keeps events
	// published before the first worker ever ran.
	pushRelay := realtime.NewRelay(eventBus.Fanout)
	for _, cfg := range []bus.ConsumerConfig{worker.ConsumerConfig(), projector.ConsumerConfig(), pushRelay.ConsumerConfig()} {
		if err := eventBus.Declare(ctx, cfg); err != nil {
			return fmt.Errorf("declare group %s: %w", cfg.Group, err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBusCollector(eventBus, log))
	if gc, ok := db.(groupCommitter); ok {
		reg.MustRegister(groupCommitMetrics(gc)...)
	}
	ingestMetrics := ingest.NewMetrics(reg)
	uploads.Metrics, worker.Metrics = ingestMetrics, ingestMetrics
	projector.Metrics = standings.NewMetrics(reg)
	reader := standings.NewReader(db, rk, time.Now)
	reader.BoardCacheTTL = *boardCacheTTL
	projector.OnBoardsChanged = reader.BoardsChanged
	var hub *realtime.Hub
	var recorder *realtime.Recorder
	if *role != "worker" {
		rtCfg := realtime.DefaultConfig()
		rtCfg.BoardInterval, rtCfg.PingInterval, rtCfg.PongTimeout = *boardInterval, *pingInterval, *pingInterval/2
		recorder = realtime.NewRecorder(db, uploads, eventBus.Fanout, rtCfg, time.Now)
		hub = realtime.NewHub(rtCfg, accounts, recorder, db, reader, eventBus.Fanout, realtime.NewMetrics(reg), log)
		hub.OriginPatterns = originHosts(splitList(*corsOrigins))
		hub.BoardsChanged = reader.BoardsChanged
		// Sign-outs and account changes reach the other API nodes' caches
		// at once, not only after --auth-cache-ttl.
		hub.AuthChanged = accounts.Forget
		accounts.AuthChanged = hub.AnnounceAuthChange
	}
	api := stridehttp.New(stridehttp.Config{
		CORSOrigins: splitList(*corsOrigins), TrustedProxies: proxies, MetricsOnMainAddr: *metricsAddr == "", Version: version,
		MaxUploadBytes: *maxUpload,
	}, stridehttp.Services{Accounts: accounts, Uploads: uploads, Activities: query.New(db),
		Standings: reader, Realtime: realtimeService(hub), Ready: db.Ping}, reg, reg, log)

	// Consumers give way to the API only where both share this process's
	// cores; the worker role has no interactive traffic to give way to.
	gate := priority.New(float64(*yieldRate), float64(*backgroundShare)/100, time.Now)
	handler := gate.Middleware(api.Handler())
	if *role == "worker" {
		handler = api.OperationsHandler()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	servers := []*http.Server{newHTTPServer(handler, log)}
	listeners := []net.Listener{ln}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on metrics address %s: %w", *metricsAddr, err)
		}
		servers = append(servers, newHTTPServer(api.MetricsHandler(), log))
		listeners = append(listeners, mln)
		fmt.Fprintf(stdout, "stride: metrics on http://%s/metrics\n", mln.Addr())
	}

	// Background work runs on a context of its own, cancelled only after
	// the HTTP servers have drained, so no accepted request loses its relay.
	var wg sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	if *role != "worker" {
		wg.Go(func() { purgeSessionsPeriodically(bgCtx, accounts, log) })
		relay := ingest.NewRelay(db, eventBus, uploads.Wake(), log)
		relay.Metrics, relay.Pace = ingestMetrics, gate.Run
		wg.Go(func() { relay.Run(bgCtx) })
		sweeper := ingest.NewSweeper(db, eventBus, log, time.Now, source)
		sweeper.Metrics, sweeper.Blobs = ingestMetrics, uploads.Blobs
		sweeper.After, sweeper.Every = *sweepAfter, *sweepEvery
		wg.Go(func() { sweeper.Run(bgCtx) })
		wg.Go(func() {
			if err := eventBus.Consume(bgCtx, pushRelay.ConsumerConfig(), pushRelay.Handle); err != nil && bgCtx.Err() == nil {
				log.Error("realtime relay stopped consuming", "err", err)
			}
		})
		wg.Go(func() { purgeLivePeriodically(bgCtx, recorder, log) })
	}
	// The hub's connections end first at shutdown (1001, going away), so
	// that clients reconnect elsewhere while requests drain.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	var hubDone sync.WaitGroup
	if hub != nil {
		hubDone.Go(func() {
			if err := hub.Run(hubCtx); err != nil {
				log.Error("realtime hub stopped", "err", err)
			}
		})
	}
	if *role != "api" {
		wg.Go(func() {
			if err := activity.PrepareTimeZones(); err != nil {
				log.Warn("time-zone boundaries unavailable; local times fall back to the athlete's zone", "err", err)
			}
		})
		wg.Go(func() {
			if err := eventBus.Consume(bgCtx, worker.ConsumerConfig(), priority.Pace(gate, worker.Handle)); err != nil && bgCtx.Err() == nil {
				log.Error("worker stopped consuming", "err", err)
			}
		})
		if rs.inMemory() {
			reader.BoardsFilling()
		}
		wg.Go(func() {
			if rs.inMemory() {
				// The in-memory boards start empty: fill them from the
				// database before handling events, which the bus keeps
				// meanwhile, so that no event is overwritten by the rebuild.
				// Leaderboard reads answer 503 until then; after a failure
				// they keep doing so, rather than show partial boards.
				start := time.Now()
				stats, err := projector.RebuildLeaderboards(bgCtx, db)
				if err != nil {
					if bgCtx.Err() == nil {
						log.Error("rebuild leaderboards; leaderboards stay unavailable until a restart", "err", err)
					}
					return
				}
				reader.BoardsFilled()
				log.Info("leaderboards rebuilt", "boards", stats.Boards, "entries", stats.Entries, "athletes", stats.Users,
					"duration", time.Since(start).Round(time.Millisecond).String())
			}
			if err := eventBus.Consume(bgCtx, projector.ConsumerConfig(), priority.Pace(gate, projector.Handle)); err != nil && bgCtx.Err() == nil {
				log.Error("standings projector stopped consuming", "err", err)
			}
		})
	}

	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	log.Info("stride started", "version", version, "addr", ln.Addr().String(), "role", *role,
		"store", map[bool]string{true: "sqlite", false: "postgres"}[st.embedded()], "bus", busKind(*busURL), "data_dir", *st.dataDir)
	fmt.Fprintf(stdout, "stride: listening on http://%s\n", ln.Addr())

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", shutdownTimeout.String())
	case runErr = <-serveErr:
		log.Error("server failed", "err", runErr)
	}
	// Order matters: stop taking requests and let in-flight ones finish,
	// then stop background work (the consumers finish their handlers), and
	// only then close the bus and the store they use (deferred above).
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *shutdownTimeout)
	defer cancel()
	stopHub()
	hubDone.Wait()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Error("http shutdown", "err", err)
			srv.Close()
		}
	}
	stopBackground()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func bootstrapAdmin(ctx context.Context, accounts *account.Service, email, password string, log *slog.Logger) error {
	u, err := accounts.CreateAdmin(ctx, email, password, "Administrator")
	switch {
	case err == nil:
		log.Info("bootstrap administrator created", "user_id", u.ID)
		return nil
	case stride.ErrorCode(err) == stride.ECONFLICT:
		return nil // created on an earlier start
	}
	return fmt.Errorf("bootstrap administrator: %w", err)
}

// realtimeService keeps a nil hub a nil interface, so that the API
// registers no realtime routes on a worker.
func realtimeService(h *realtime.Hub) stridehttp.Realtime {
	if h == nil {
		return nil
	}
	return h
}

// originHosts turns the CORS origins into the host patterns the WebSocket
// upgrade checks a browser's Origin against.
func originHosts(origins []string) []string {
	var out []string
	for _, o := range origins {
		if o == "*" {
			return []string{"*"}
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

func purgeLivePeriodically(ctx context.Context, r *realtime.Recorder, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := r.Purge(ctx); err != nil && ctx.Err() == nil {
			log.Warn("purge live activities", "err", err)
		} else if n > 0 {
			log.Info("purged live activities", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func purgeSessionsPeriodically(ctx context.Context, accounts *account.Service, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := accounts.PurgeSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("purge ended sessions", "err", err)
		} else if n > 0 {
			log.Info("purged ended sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// groupCommitter is the embedded store's view of its group commit.
type groupCommitter interface {
	GroupCommitStats() sqlite.GroupCommitStats
}

// groupCommitMetrics read the SQLite committer's counters at scrape time:
// requests per commit is how many writes share one fsync, and a growing
// queue-full count means writes arrive faster than the single writer
// commits them.
func groupCommitMetrics(gc groupCommitter) []prometheus.Collector {
	counter := func(name, help string, value func(sqlite.GroupCommitStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(value(gc.GroupCommitStats())) })
	}
	return []prometheus.Collector{
		counter("stride_sqlite_commits_total", "Transactions the SQLite group committer committed (one fsync each).",
			func(s sqlite.GroupCommitStats) int64 { return s.Commits }),
		counter("stride_sqlite_commit_requests_total", "Writes answered by the SQLite group committer (uploads, the worker's claims and completions, standings, live batches); divided by commits, how many share an fsync.",
			func(s sqlite.GroupCommitStats) int64 { return s.Requests }),
		counter("stride_sqlite_commit_queue_full_total", "Times a write found the group committer's queue full and waited (after 2 s it gets 503 with Retry-After).",
			func(s sqlite.GroupCommitStats) int64 { return s.QueueFull }),
	}
}
