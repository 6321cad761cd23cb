// Command realtime is a load tool for the realtime WebSocket
// (GET /api/v1/realtime/activity-stream) of a running `stride serve`.
//
// It registers the users it needs, opens idle connections (-idle), device
// connections (-devices) that each record a public live activity and send
// -rate batches of -points-per-batch points per second, and watcher
// connections (-watchers-per-device per device) that each subscribe to one
// device's athlete. It prints connections opened and failed, batches sent
// and acknowledged, points per second acknowledged, the delay from sending
// a batch to each watcher receiving it (p50/p90/p99/max: the tool records
// the time it wrote batch n of device d and the time each watcher read it,
// on the same clock), frames lost per watcher, and, with -server-pid, the
// server's RSS and CPU time read from /proc.
//
//	go run ./scripts/load/realtime -h
//
// scripts/load/realtime.sh starts a server and runs this tool; the
// figures are in docs/benchmarks.md ("Realtime").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

type config struct {
	url               string
	devices           int
	watchersPerDevice int
	watcherUsers      int
	idle              int
	idleUsers         int
	rate              float64
	pointsPerBatch    int
	duration          time.Duration
	hold              time.Duration
	report            time.Duration
	window            time.Duration
	serverPID         int
	dialConcurrency   int
	setupConcurrency  int
	sourceAddrs       int
	prefix            string
	jsonOut           string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "base URL of the stride server")
	flag.IntVar(&cfg.devices, "devices", 100, "recording devices, one athlete each, each with one live activity")
	flag.IntVar(&cfg.watchersPerDevice, "watchers-per-device", 5, "watcher connections per device, each subscribed to that device's athlete only")
	flag.IntVar(&cfg.watcherUsers, "watcher-users", 0, "accounts the watcher connections share (0: one per watcher of a device, i.e. -watchers-per-device); one account may hold many sockets")
	flag.IntVar(&cfg.idle, "idle", 0, "extra idle authenticated connections, opened first and held for the whole run")
	flag.IntVar(&cfg.idleUsers, "idle-users", 20, "accounts the idle connections share")
	flag.Float64Var(&cfg.rate, "rate", 1, "batches per second per device")
	flag.IntVar(&cfg.pointsPerBatch, "points-per-batch", 1, "points in each batch")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the devices send")
	flag.DurationVar(&cfg.hold, "hold", 0, "how long to keep every connection open after the load (or, with no devices, after the idle connections are open)")
	flag.DurationVar(&cfg.report, "report", 10*time.Second, "interval of the progress lines on stderr (0: none)")
	flag.DurationVar(&cfg.window, "window", 10*time.Second, "also print the latencies of the batches sent in each window of this length (0: none)")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "process id of the server, to sample its RSS (VmRSS) and CPU time from /proc (same machine)")
	flag.IntVar(&cfg.dialConcurrency, "dial-concurrency", 32, "connections opened at once")
	flag.IntVar(&cfg.setupConcurrency, "setup-concurrency", 4, "registrations in flight at once (each is an argon2id hash on the server)")
	flag.IntVar(&cfg.sourceAddrs, "source-addrs", 4, "spread client sockets over this many loopback source addresses 127.0.0.1.. (more ephemeral ports); 0: let the system choose")
	flag.StringVar(&cfg.prefix, "prefix", "", "email prefix of the users created (default: a new one per run)")
	flag.StringVar(&cfg.jsonOut, "json", "", "also write the summary as JSON to this file")
	flag.Parse()
	if cfg.devices < 0 || cfg.watchersPerDevice < 0 || cfg.idle < 0 || cfg.rate <= 0 || cfg.pointsPerBatch < 1 || cfg.dialConcurrency < 1 || cfg.setupConcurrency < 1 {
		fmt.Fprintln(os.Stderr, "realtime: bad flags")
		os.Exit(2)
	}
	if cfg.watcherUsers <= 0 {
		cfg.watcherUsers = max(1, cfg.watchersPerDevice)
	}
	if cfg.prefix == "" {
		cfg.prefix = "rt" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "realtime:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft limit of open files to the hard one.
func raiseNoFile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

// tool holds the run's state.
type tool struct {
	cfg    config
	http   *http.Client
	wsURL  string
	start  time.Time // the clock of every recorded time
	logMu  sync.Mutex
	errors map[string]int

	devs     []*device
	watchers []*watcher
	idle     []*socket

	batchesSent  atomic.Int64
	batchesAcked atomic.Int64
	batchErrors  atomic.Int64
	framesRecv   atomic.Int64
	sendLagMax   atomic.Int64
}

type user struct {
	id, token string
}

// socket is one open connection.
type socket struct {
	ws     *websocket.Conn
	closed atomic.Bool
	cause  atomic.Value // string: how it ended, if it ended early
}

func (s *socket) alive() bool { return s != nil && !s.closed.Load() }

type device struct {
	socket
	user    user
	liveID  string
	sentAt  []atomic.Int64 // ns since tool.start at which batch n (index n) was written; 0: not sent
	acked   atomic.Int64
	started chan string

	mu       sync.Mutex
	gotStart bool
	ackLat   []int32 // µs
	ackAt    []int32 // ms since tool.start at which the batch was sent
}

type watcher struct {
	socket
	dev *device

	mu       sync.Mutex
	lat      []int32 // µs
	latAt    []int32 // ms since tool.start at which the batch was sent
	received int64
	dups     int64
	catchup  int64
	last     int64
}

func run(ctx context.Context, cfg config) error {
	nofile := raiseNoFile()
	t := &tool{cfg: cfg, start: time.Now(), errors: map[string]int{}}
	t.wsURL = strings.Replace(strings.Replace(strings.TrimRight(cfg.url, "/"), "https://", "wss://", 1), "http://", "ws://", 1) + "/api/v1/realtime/activity-stream"
	t.http = &http.Client{Timeout: 30 * time.Second, Transport: newTransport(cfg.sourceAddrs)}
	need := cfg.devices*(1+cfg.watchersPerDevice) + cfg.idle
	fmt.Printf("# realtime load: %s, %d devices x %d watchers, %g batches/s of %d points per device, %s; %d idle connections; %d sockets (open files limit %d); load average %s\n",
		cfg.url, cfg.devices, cfg.watchersPerDevice, cfg.rate, cfg.pointsPerBatch, cfg.duration, cfg.idle, need, nofile, loadavg())
	if uint64(need+64) > nofile {
		fmt.Printf("# warning: %d sockets need more than the open files limit %d\n", need, nofile)
	}
	sum := summary{Config: map[string]any{"devices": cfg.devices, "watchers_per_device": cfg.watchersPerDevice, "rate": cfg.rate,
		"points_per_batch": cfg.pointsPerBatch, "duration_s": cfg.duration.Seconds(), "idle": cfg.idle, "hold_s": cfg.hold.Seconds()}}
	sum.RSSStartKB = rssKB(cfg.serverPID)

	// Users.
	t0 := time.Now()
	nIdleUsers := 0
	if cfg.idle > 0 {
		nIdleUsers = max(1, min(cfg.idleUsers, cfg.idle))
	}
	nWatcherUsers := 0
	if cfg.devices > 0 && cfg.watchersPerDevice > 0 {
		nWatcherUsers = cfg.watcherUsers
	}
	users, err := t.registerAll(ctx, cfg.devices+nWatcherUsers+nIdleUsers)
	if err != nil {
		return err
	}
	athletes, watcherUsers, idleUsers := users[:cfg.devices], users[cfg.devices:cfg.devices+nWatcherUsers], users[cfg.devices+nWatcherUsers:]
	sum.Registered, sum.RegisterSeconds = len(users), time.Since(t0).Seconds()
	fmt.Printf("setup: registered %d users in %.1f s (%.0f/s)\n", len(users), sum.RegisterSeconds, float64(len(users))/sum.RegisterSeconds)
	// Strangers may watch only athletes whose default visibility is public.
	t0 = time.Now()
	if err := t.parallelAll(ctx, len(athletes), 16, func(i int) error {
		return t.do(ctx, "PATCH", "/api/v1/users/me", athletes[i].token, `{"default_visibility":"public"}`, nil)
	}); err != nil {
		return err
	}
	if len(athletes) > 0 {
		fmt.Printf("setup: %d athletes made public in %.1f s\n", len(athletes), time.Since(t0).Seconds())
	}

	stopReport := t.reporter(ctx)
	defer stopReport()

	// Idle connections first, so that the RSS they add is measured on a
	// server that holds nothing else.
	if cfg.idle > 0 {
		time.Sleep(2 * time.Second)
		before, m0 := rssKB(cfg.serverPID), t.metrics(ctx)
		t0 = time.Now()
		t.idle = make([]*socket, cfg.idle)
		failed := t.dialAll(ctx, cfg.idle, func(i int) error {
			s, err := t.dial(ctx, idleUsers[i%len(idleUsers)].token)
			if err != nil {
				return err
			}
			t.idle[i] = s
			go t.drain(s, nil)
			return nil
		})
		sum.IdleOpened, sum.IdleFailed = cfg.idle-failed, failed
		sum.IdleOpenSeconds = time.Since(t0).Seconds()
		time.Sleep(5 * time.Second) // let the server settle
		after, m1 := rssKB(cfg.serverPID), t.metrics(ctx)
		sum.RSSBeforeIdleKB, sum.RSSAfterIdleKB = before, after
		if opened := cfg.idle - failed; opened > 0 && before > 0 {
			sum.RSSPerIdleConnKB = float64(after-before) / float64(opened)
		}
		fmt.Printf("idle: opened %d, failed %d in %.1f s; server RSS %s -> %s (%.1f KiB per connection)\n",
			cfg.idle-failed, failed, sum.IdleOpenSeconds, kb(before), kb(after), sum.RSSPerIdleConnKB)
		if opened := float64(cfg.idle - failed); opened > 0 && m0 != nil && m1 != nil {
			d := func(k string) float64 { return (m1[k] - m0[k]) / opened }
			sum.IdlePerConn = map[string]float64{"goroutines": d("go_goroutines"), "stack_kib": d("go_memstats_stack_inuse_bytes") / 1024,
				"heap_inuse_kib": d("go_memstats_heap_inuse_bytes") / 1024, "heap_alloc_kib": d("go_memstats_alloc_bytes") / 1024}
			fmt.Printf("idle: per connection (server's /metrics): %.1f goroutines, %.1f KiB of stacks, %.1f KiB of heap in use (%.1f KiB allocated and live or not yet collected)\n",
				sum.IdlePerConn["goroutines"], sum.IdlePerConn["stack_kib"], sum.IdlePerConn["heap_inuse_kib"], sum.IdlePerConn["heap_alloc_kib"])
		}
		if cfg.devices == 0 {
			t.holdFor(ctx, cfg.hold, &sum)
		}
	}

	if cfg.devices > 0 {
		if err := t.load(ctx, athletes, watcherUsers, &sum); err != nil {
			return err
		}
		if cfg.hold > 0 {
			t.holdFor(ctx, cfg.hold, &sum)
		}
	}
	if cfg.devices > 0 {
		var active []*socket
		for _, d := range t.devs {
			if d != nil {
				active = append(active, &d.socket)
			}
		}
		for _, w := range t.watchers {
			if w != nil {
				active = append(active, &w.socket)
			}
		}
		fmt.Printf("active: %d of %d still open at the end (%s)\n", countAlive(active), len(active), t.causes(active))
	}
	sum.IdleAliveAtEnd = countAlive(t.idle)
	if cfg.idle > 0 {
		fmt.Printf("idle: %d of %d still open at the end (%s)\n", sum.IdleAliveAtEnd, sum.IdleOpened, t.causes(t.idle))
	}
	sum.RSSEndKB = rssKB(cfg.serverPID)
	sum.Errors = t.errors
	if len(t.errors) > 0 {
		fmt.Printf("errors: %v\n", t.errors)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	sum.ToolCPUSeconds = tv(ru.Utime) + tv(ru.Stime)
	fmt.Printf("tool: %.1f s of CPU over %.1f s; server RSS at the end %s\n", sum.ToolCPUSeconds, time.Since(t.start).Seconds(), kb(sum.RSSEndKB))
	t.closeAll()
	if cfg.jsonOut != "" {
		b, _ := json.MarshalIndent(sum, "", "  ")
		if err := os.WriteFile(cfg.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// summary is the JSON report (-json).
type summary struct {
	Config           map[string]any     `json:"config"`
	Registered       int                `json:"registered"`
	RegisterSeconds  float64            `json:"register_s"`
	IdleOpened       int                `json:"idle_opened"`
	IdleFailed       int                `json:"idle_failed"`
	IdleOpenSeconds  float64            `json:"idle_open_s"`
	IdleAliveAtEnd   int                `json:"idle_alive_at_end"`
	RSSStartKB       int64              `json:"rss_start_kb"`
	RSSBeforeIdleKB  int64              `json:"rss_before_idle_kb"`
	RSSAfterIdleKB   int64              `json:"rss_after_idle_kb"`
	RSSPerIdleConnKB float64            `json:"rss_per_idle_conn_kb"`
	IdlePerConn      map[string]float64 `json:"idle_per_conn,omitempty"`
	RSSLoadPeakKB    int64              `json:"rss_load_peak_kb"`
	RSSEndKB         int64              `json:"rss_end_kb"`
	DevicesOpened    int                `json:"devices_opened"`
	DevicesFailed    int                `json:"devices_failed"`
	WatchersOpened   int                `json:"watchers_opened"`
	WatchersFailed   int                `json:"watchers_failed"`
	BatchesSent      int64              `json:"batches_sent"`
	BatchesAcked     int64              `json:"batches_acked"`
	BatchErrors      int64              `json:"batch_errors"`
	PointsPerSecond  float64            `json:"points_per_s_acked"`
	AckMs            quantiles          `json:"ack_ms"`
	DeliveryMs       quantiles          `json:"delivery_ms"`
	FramesExpected   int64              `json:"frames_expected"`
	FramesReceived   int64              `json:"frames_received"`
	FramesLost       int64              `json:"frames_lost"`
	FramesDuplicate  int64              `json:"frames_duplicate"`
	WatchersLosing   int                `json:"watchers_losing"`
	SendLagMaxMs     float64            `json:"send_lag_max_ms"`
	ServerCPUCores   float64            `json:"server_cpu_cores_during_load"`
	ToolCPUCores     float64            `json:"tool_cpu_cores_during_load"`
	ToolCPUSeconds   float64            `json:"tool_cpu_s"`
	AliveAfterLoad   int                `json:"alive_after_load"`
	Timeline         []window           `json:"timeline,omitempty"`
	Errors           map[string]int     `json:"errors,omitempty"`
}

type quantiles struct {
	N                  int
	P50, P90, P99, Max float64
}

func (q quantiles) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"n": q.N, "p50": q.P50, "p90": q.P90, "p99": q.P99, "max": q.Max})
}

func (q quantiles) String() string {
	if q.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)", q.P50, q.P90, q.P99, q.Max, q.N)
}

// window is the latency of the batches sent in one interval of the load.
type window struct {
	From     float64   `json:"from_s"`
	To       float64   `json:"to_s"`
	Ack      quantiles `json:"ack_ms"`
	Delivery quantiles `json:"delivery_ms"`
}

// timeline groups samples by send time (ms since the tool's start) into
// windows of w from the load's beginning.
func timeline(begin, w time.Duration, ackAt, ack, latAt, lat []int32) []window {
	if w <= 0 {
		return nil
	}
	var ws []window
	group := func(at, v []int32, get func(*window) *quantiles) {
		var by [][]int32
		for i, a := range at {
			k := int((time.Duration(a)*time.Millisecond - begin) / w)
			if k < 0 {
				k = 0
			}
			for len(by) <= k {
				by = append(by, nil)
			}
			by[k] = append(by[k], v[i])
		}
		for k, vs := range by {
			for len(ws) <= k {
				n := len(ws)
				ws = append(ws, window{From: (time.Duration(n) * w).Seconds(), To: (time.Duration(n+1) * w).Seconds()})
			}
			*get(&ws[k]) = quantilesOf(vs)
		}
	}
	group(ackAt, ack, func(x *window) *quantiles { return &x.Ack })
	group(latAt, lat, func(x *window) *quantiles { return &x.Delivery })
	return ws
}

// quantilesOf sorts µs samples and returns their quantiles in ms.
func quantilesOf(us []int32) quantiles {
	if len(us) == 0 {
		return quantiles{}
	}
	slices.Sort(us)
	at := func(p float64) float64 {
		i := int(p*float64(len(us))+0.5) - 1
		return float64(us[min(max(i, 0), len(us)-1)]) / 1000
	}
	return quantiles{N: len(us), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(us[len(us)-1]) / 1000}
}

// load runs devices and watchers.
func (t *tool) load(ctx context.Context, athletes, watcherUsers []user, sum *summary) error {
	cfg := t.cfg
	maxBatch := int(cfg.duration.Seconds()*cfg.rate) + 2
	t.devs = make([]*device, cfg.devices)
	t0 := time.Now()
	failed := t.dialAll(ctx, cfg.devices, func(i int) error {
		d := &device{user: athletes[i], sentAt: make([]atomic.Int64, maxBatch+1), started: make(chan string, 1)}
		ws, err := t.dialWS(ctx, d.user.token)
		if err != nil {
			return err
		}
		d.ws = ws
		go t.drain(&d.socket, d.handle(t))
		err = t.send(ctx, ws, map[string]any{"type": "start", "sport": "running", "visibility": "public", "name": "Load " + strconv.Itoa(i)})
		if err == nil {
			select {
			case id := <-d.started:
				d.liveID = id
				if id == "" {
					err = errors.New("start refused")
				}
			case <-time.After(30 * time.Second):
				err = errors.New("no started within 30 s")
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			d.end("failed to start")
			return err
		}
		t.devs[i] = d
		return nil
	})
	sum.DevicesOpened, sum.DevicesFailed = cfg.devices-failed, failed
	fmt.Printf("devices: opened and started %d, failed %d in %.1f s\n", sum.DevicesOpened, failed, time.Since(t0).Seconds())

	nw := cfg.devices * cfg.watchersPerDevice
	t.watchers = make([]*watcher, nw)
	t0 = time.Now()
	failed = t.dialAll(ctx, nw, func(i int) error {
		d := t.devs[i/cfg.watchersPerDevice]
		if d == nil {
			return errors.New("its device failed")
		}
		w := &watcher{dev: d, lat: make([]int32, 0, maxBatch)}
		ws, err := t.dialWS(ctx, watcherUsers[i%len(watcherUsers)].token)
		if err != nil {
			return err
		}
		w.ws = ws
		subscribed := make(chan string, 1)
		go t.drain(&w.socket, w.handle(t, subscribed))
		err = t.send(ctx, ws, map[string]any{"type": "subscribe", "topic": "live:" + d.user.id})
		if err == nil {
			select {
			case e := <-subscribed:
				if e != "" {
					err = errors.New(e)
				}
			case <-time.After(30 * time.Second):
				err = errors.New("no subscribed within 30 s")
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			w.end("failed to subscribe")
			return err
		}
		t.watchers[i] = w
		return nil
	})
	sum.WatchersOpened, sum.WatchersFailed = nw-failed, failed
	fmt.Printf("watchers: opened and subscribed %d, failed %d in %.1f s\n", sum.WatchersOpened, failed, time.Since(t0).Seconds())
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Send. Each device keeps its own schedule, phases spread evenly over
	// one period so that the server sees a steady rate.
	time.Sleep(2 * time.Second)
	period := time.Duration(float64(time.Second) / cfg.rate)
	cpu0, rss0 := cpuSeconds(t.cfg.serverPID), rssKB(t.cfg.serverPID)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	peak := atomic.Int64{}
	peak.Store(rss0)
	sampleStop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sampleStop:
				return
			case <-tick.C:
				if r := rssKB(t.cfg.serverPID); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	})
	begin := time.Now()
	stopAt := begin.Add(cfg.duration)
	var senders sync.WaitGroup
	for i, d := range t.devs {
		if d == nil {
			continue
		}
		phase := time.Duration(int64(period) * int64(i) / int64(len(t.devs)))
		senders.Go(func() { t.sendLoop(ctx, d, i, begin.Add(phase), period, stopAt, maxBatch) })
	}
	senders.Wait()
	sendWall := time.Since(begin)
	// Drain: wait for acks and frames still in flight.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && t.batchesAcked.Load()+t.batchErrors.Load() < t.batchesSent.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	loadWall := time.Since(begin)
	cpu1 := cpuSeconds(t.cfg.serverPID)
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	close(sampleStop)
	sampler.Wait()
	if cpu0 >= 0 && cpu1 >= 0 {
		sum.ServerCPUCores = (cpu1 - cpu0) / loadWall.Seconds()
	}
	sum.ToolCPUCores = (tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)) / loadWall.Seconds()
	sum.RSSLoadPeakKB = peak.Load()

	// Results: the connections stay open (-hold); samples are copied under
	// each connection's lock.
	sum.BatchesSent, sum.BatchesAcked, sum.BatchErrors = t.batchesSent.Load(), t.batchesAcked.Load(), t.batchErrors.Load()
	sum.PointsPerSecond = float64(sum.BatchesAcked*int64(cfg.pointsPerBatch)) / sendWall.Seconds()
	sum.SendLagMaxMs = float64(t.sendLagMax.Load()) / 1e6
	var ack, lat, ackAt, latAt []int32
	for _, d := range t.devs {
		if d != nil {
			d.mu.Lock()
			ack = append(ack, d.ackLat...)
			ackAt = append(ackAt, d.ackAt...)
			d.mu.Unlock()
		}
	}
	losing := 0
	for _, w := range t.watchers {
		if w == nil {
			continue
		}
		w.mu.Lock()
		lat = append(lat, w.lat...)
		latAt = append(latAt, w.latAt...)
		received, dups := w.received, w.dups
		w.mu.Unlock()
		expected := w.dev.acked.Load()
		sum.FramesExpected += expected
		sum.FramesReceived += received
		sum.FramesDuplicate += dups
		if lost := expected - received; lost > 0 {
			sum.FramesLost += lost
			losing++
		}
	}
	sum.WatchersLosing = losing
	sum.Timeline = timeline(begin.Sub(t.start), cfg.window, ackAt, ack, latAt, lat)
	sum.AckMs, sum.DeliveryMs = quantilesOf(ack), quantilesOf(lat)
	fmt.Printf("load: sent %d batches, acked %d, refused %d over %.1f s: %.0f points/s acked (%d points per batch); latest send behind schedule by %.1f ms at most\n",
		sum.BatchesSent, sum.BatchesAcked, sum.BatchErrors, sendWall.Seconds(), sum.PointsPerSecond, cfg.pointsPerBatch, sum.SendLagMaxMs)
	fmt.Printf("ack (device sends -> device reads ack): %s\n", sum.AckMs)
	fmt.Printf("delivery (device sends -> watcher reads): %s\n", sum.DeliveryMs)
	fmt.Printf("by send time (-window %s): ack p99, delivery p50/p99/max in ms\n", cfg.window)
	for _, w := range sum.Timeline {
		fmt.Printf("  %4.0f-%4.0f s: acks %6d, ack p99 %8.1f | deliveries %7d, p50 %8.1f, p99 %8.1f, max %8.1f\n",
			w.From, w.To, w.Ack.N, w.Ack.P99, w.Delivery.N, w.Delivery.P50, w.Delivery.P99, w.Delivery.Max)
	}
	fmt.Printf("frames: expected %d, received %d, lost %d (%d watchers lost some), duplicates %d\n",
		sum.FramesExpected, sum.FramesReceived, sum.FramesLost, losing, sum.FramesDuplicate)
	fmt.Printf("server: %s%s\n", strings.TrimPrefix(t.memLine(ctx), "; "), t.dropLine(ctx))
	fmt.Printf("cpu during the load: server %.2f cores, this tool %.2f cores (of %d); server RSS %s before, %s peak\n",
		sum.ServerCPUCores, sum.ToolCPUCores, runtime.NumCPU(), kb(rss0), kb(sum.RSSLoadPeakKB))
	return nil
}

func (t *tool) sendLoop(ctx context.Context, d *device, idx int, first time.Time, period time.Duration, stopAt time.Time, maxBatch int) {
	actStart := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	timer := time.NewTimer(time.Until(first))
	defer timer.Stop()
	var buf bytes.Buffer
	k := 0 // points sent so far
	for n := 1; n <= maxBatch; n++ {
		due := first.Add(time.Duration(n-1) * period)
		if !due.Before(stopAt) {
			return
		}
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !d.alive() {
			return
		}
		buf.Reset()
		buf.WriteString(`{"type":"points","live_id":"`)
		buf.WriteString(d.liveID)
		buf.WriteString(`","batch":`)
		buf.WriteString(strconv.Itoa(n))
		buf.WriteString(`,"points":[`)
		for j := 0; j < t.cfg.pointsPerBatch; j++ {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"t":"%s","lat":%.6f,"lon":%.6f,"hr":%d}`, actStart.Add(time.Duration(k)*time.Second).Format(time.RFC3339),
				48.85+float64(idx%100)*0.01+float64(k)*0.00003, 2.35+float64(idx/100)*0.01+float64(k)*0.00002, 120+k%40)
			k++
		}
		buf.WriteString(`]}`)
		now := time.Now()
		for lag := int64(now.Sub(due)); ; {
			old := t.sendLagMax.Load()
			if lag <= old || t.sendLagMax.CompareAndSwap(old, lag) {
				break
			}
		}
		d.sentAt[n].Store(int64(now.Sub(t.start)))
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := d.ws.Write(wctx, websocket.MessageText, buf.Bytes())
		cancel()
		if err != nil {
			t.fail("device write: " + short(err))
			return
		}
		t.batchesSent.Add(1)
	}
}

// frame is what the tool reads of a server message.
type frame struct {
	Type      string `json:"type"`
	LiveID    string `json:"live_id"`
	Batch     int64  `json:"batch"`
	FromBatch int64  `json:"from_batch"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
}

func (d *device) handle(t *tool) func([]byte) {
	return func(data []byte) {
		var f frame
		if json.Unmarshal(data, &f) != nil {
			t.fail("device: unreadable frame")
			return
		}
		switch f.Type {
		case "started":
			d.mu.Lock()
			d.gotStart = true
			d.mu.Unlock()
			d.started <- f.LiveID
		case "ack":
			now := time.Since(t.start)
			if f.Batch > 0 && int(f.Batch) < len(d.sentAt) {
				if at := d.sentAt[f.Batch].Load(); at > 0 {
					d.mu.Lock()
					d.ackLat = append(d.ackLat, int32((int64(now)-at)/1000))
					d.ackAt = append(d.ackAt, int32(at/1e6))
					d.mu.Unlock()
				}
			}
			d.acked.Add(1)
			t.batchesAcked.Add(1)
		case "error":
			t.fail("device error: " + f.Code + ": " + f.Detail)
			d.mu.Lock()
			started := d.gotStart
			d.mu.Unlock()
			if !started {
				select {
				case d.started <- "":
				default:
				}
			} else {
				t.batchErrors.Add(1)
			}
		}
	}
}

func (w *watcher) handle(t *tool, subscribed chan<- string) func([]byte) {
	return func(data []byte) {
		now := time.Since(t.start)
		var f frame
		if json.Unmarshal(data, &f) != nil {
			t.fail("watcher: unreadable frame")
			return
		}
		switch f.Type {
		case "subscribed":
			select {
			case subscribed <- "":
			default:
			}
		case "error":
			t.fail("watcher error: " + f.Code + ": " + f.Detail)
			select {
			case subscribed <- f.Code + ": " + f.Detail:
			default:
			}
		case "live":
			if f.Batch == 0 {
				return // a status change
			}
			t.framesRecv.Add(1)
			w.mu.Lock()
			defer w.mu.Unlock()
			if f.FromBatch > 0 && f.FromBatch != f.Batch {
				w.catchup++
			}
			if f.Batch <= w.last {
				w.dups++
				return
			}
			lo := f.Batch // the frame's first batch
			if f.FromBatch > 0 {
				lo = f.FromBatch
			}
			w.received += f.Batch - max(w.last, lo-1)
			w.last = f.Batch
			if f.LiveID == w.dev.liveID && int(f.Batch) < len(w.dev.sentAt) {
				if at := w.dev.sentAt[f.Batch].Load(); at > 0 {
					w.lat = append(w.lat, int32((int64(now)-at)/1000))
					w.latAt = append(w.latAt, int32(at/1e6))
				}
			}
		}
	}
}

// drain reads a socket until it ends, handing each frame to handle (nil:
// discard; an idle connection must keep reading to answer pings).
func (t *tool) drain(s *socket, handle func([]byte)) {
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			if !s.closed.Swap(true) {
				s.cause.Store(closeCause(err))
			}
			return
		}
		if handle != nil {
			handle(data)
		}
	}
}

func closeCause(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "close " + strconv.Itoa(int(code))
	}
	return short(err)
}

// end closes the socket from this side.
func (s *socket) end(why string) {
	if s != nil && !s.closed.Swap(true) {
		s.cause.Store(why)
		_ = s.ws.CloseNow()
	}
}

func (t *tool) closeAll() {
	for _, s := range t.idle {
		s.end("closed by the tool")
	}
	for _, d := range t.devs {
		if d != nil {
			d.end("closed by the tool")
		}
	}
	for _, w := range t.watchers {
		if w != nil {
			w.end("closed by the tool")
		}
	}
}

// holdFor keeps the connections open, reporting whether they stay up.
func (t *tool) holdFor(ctx context.Context, d time.Duration, sum *summary) {
	if d <= 0 {
		return
	}
	fmt.Printf("hold: keeping %d connections open for %s\n", countAlive(t.idle)+t.activeAlive(), d)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	sum.AliveAfterLoad = countAlive(t.idle) + t.activeAlive()
	fmt.Printf("hold: %d open after %s; server RSS %s%s\n", sum.AliveAfterLoad, d, kb(rssKB(t.cfg.serverPID)), t.memLine(ctx))
}

func (t *tool) activeAlive() int {
	n := 0
	for _, d := range t.devs {
		if d.alive() {
			n++
		}
	}
	for _, w := range t.watchers {
		if w != nil && w.alive() {
			n++
		}
	}
	return n
}

func (d *device) alive() bool  { return d != nil && d.socket.alive() }
func (w *watcher) alive() bool { return w != nil && w.socket.alive() }

func countAlive(ss []*socket) int {
	n := 0
	for _, s := range ss {
		if s.alive() {
			n++
		}
	}
	return n
}

// causes counts how the ended sockets ended.
func (t *tool) causes(ss []*socket) string {
	m := map[string]int{}
	for _, s := range ss {
		if s != nil && s.closed.Load() {
			c, _ := s.cause.Load().(string)
			m[c]++
		}
	}
	if len(m) == 0 {
		return "none ended"
	}
	return fmt.Sprint(m)
}

// reporter prints a progress line every -report.
func (t *tool) reporter(ctx context.Context) func() {
	if t.cfg.report <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(t.cfg.report)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				fmt.Fprintf(os.Stderr, "[%5.0fs] open: idle %d, active %d; batches sent %d acked %d; live frames %d; server RSS %s; load %s; pressure %s\n",
					time.Since(t.start).Seconds(), countAlive(t.idle), t.activeAlive(), t.batchesSent.Load(), t.batchesAcked.Load(),
					t.framesRecv.Load(), kb(rssKB(t.cfg.serverPID)), loadavg(), pressure())
			}
		}
	}()
	return func() { close(done) }
}

// Connections.

func newTransport(sources int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	var next atomic.Uint32
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		if sources > 0 {
			if host, _, err := net.SplitHostPort(addr); err == nil && strings.HasPrefix(host, "127.") {
				d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+next.Add(1)%uint32(sources)))}
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

func (t *tool) dialWS(ctx context.Context, token string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, t.wsURL, &websocket.DialOptions{HTTPClient: t.http, Subprotocols: []string{"stride.v1"},
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("upgrade answered %d", resp.StatusCode)
		}
		return nil, err
	}
	ws.SetReadLimit(4 << 20)
	// The welcome comes first.
	rctx, cancel2 := context.WithTimeout(ctx, 30*time.Second)
	defer cancel2()
	_, data, err := ws.Read(rctx)
	if err != nil || !bytes.Contains(data, []byte(`"welcome"`)) {
		ws.CloseNow()
		return nil, fmt.Errorf("no welcome: %v", err)
	}
	return ws, nil
}

func (t *tool) dial(ctx context.Context, token string) (*socket, error) {
	ws, err := t.dialWS(ctx, token)
	if err != nil {
		return nil, err
	}
	return &socket{ws: ws}, nil
}

func (t *tool) send(ctx context.Context, ws *websocket.Conn, v any) error {
	data, _ := json.Marshal(v)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return ws.Write(wctx, websocket.MessageText, data)
}

// dialAll runs open for 0..n-1 with -dial-concurrency at once and returns
// how many failed.
func (t *tool) dialAll(ctx context.Context, n int, open func(i int) error) int {
	var failed atomic.Int64
	_ = t.parallelAll(ctx, n, t.cfg.dialConcurrency, func(i int) error {
		if err := open(i); err != nil {
			failed.Add(1)
			t.fail("open: " + short(err))
		}
		return nil
	})
	return int(failed.Load())
}

// parallelAll runs f for 0..n-1, conc at once, and returns the first error.
func (t *tool) parallelAll(ctx context.Context, n, conc int, f func(i int) error) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Value
	)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || first.Load() != nil {
					return
				}
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := first.Load().(error); ok {
		return err
	}
	return ctx.Err()
}

func (t *tool) fail(what string) {
	t.logMu.Lock()
	defer t.logMu.Unlock()
	if t.errors[what] == 0 && len(t.errors) < 20 {
		fmt.Fprintln(os.Stderr, "realtime:", what)
	}
	t.errors[what]++
}

func short(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// Users.

func (t *tool) registerAll(ctx context.Context, n int) ([]user, error) {
	users := make([]user, n)
	err := t.parallelAll(ctx, n, t.cfg.setupConcurrency, func(i int) error {
		body := fmt.Sprintf(`{"email":"%s-%d@example.com","password":"correct horse battery staple","name":"Load %d"}`, t.cfg.prefix, i, i)
		var g struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			AccessToken string `json:"access_token"`
		}
		for attempt := 0; ; attempt++ {
			err := t.do(ctx, "POST", "/api/v1/auth/register", "", body, &g)
			if err == nil {
				break
			}
			var st statusError
			if attempt < 5 && errors.As(err, &st) && (st.code == 503 || st.code == 429) {
				time.Sleep(time.Second)
				continue
			}
			return fmt.Errorf("register user %d: %w", i, err)
		}
		users[i] = user{id: g.User.ID, token: g.AccessToken}
		return nil
	})
	return users, err
}

type statusError struct {
	code int
	body string
}

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func (t *tool) do(ctx context.Context, method, path, token, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(t.cfg.url, "/")+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return statusError{resp.StatusCode, strings.TrimSpace(string(data))}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// metrics reads the server's /metrics (nil if it cannot), summing the
// samples of each name.
func (t *tool) metrics(ctx context.Context) map[string]float64 {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(t.cfg.url, "/")+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	data, _ := io.ReadAll(resp.Body)
	m := map[string]float64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		v, _ := strconv.ParseFloat(f[1], 64)
		m[name] += v
	}
	return m
}

// memLine describes the server's Go memory from /metrics.
func (t *tool) memLine(ctx context.Context) string {
	m := t.metrics(ctx)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("; %.0f goroutines, heap live+garbage %.0f MiB, heap in use %.0f MiB, stacks %.0f MiB, %.0f realtime connections",
		m["go_goroutines"], m["go_memstats_alloc_bytes"]/(1<<20), m["go_memstats_heap_inuse_bytes"]/(1<<20), m["go_memstats_stack_inuse_bytes"]/(1<<20),
		m["stride_realtime_connections"])
}

func (t *tool) dropLine(ctx context.Context) string {
	m := t.metrics(ctx)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("; live frames dropped by the server %.0f, slow-consumer disconnects %.0f",
		m["stride_realtime_live_frames_dropped_total"], m["stride_realtime_slow_disconnects_total"])
}

// The server's process, from /proc.

func rssKB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// cpuSeconds is the process's user+system time (-1 if unknown).
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ is 100 on Linux
}

func kb(v int64) string {
	if v <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(v)/1024)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// pressure is the machine's CPU and I/O pressure (share of the last 10 s
// in which some runnable task waited), from /proc/pressure.
func pressure() string {
	var out []string
	for _, r := range []string{"cpu", "io"} {
		b, err := os.ReadFile("/proc/pressure/" + r)
		if err != nil {
			continue
		}
		line, _, _ := strings.Cut(string(b), "\n")
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "avg10="); ok {
				out = append(out, r+" "+v+"%")
			}
		}
	}
	return strings.Join(out, ", ")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
