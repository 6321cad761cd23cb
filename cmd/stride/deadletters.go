package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
)

const deadLettersUsage = `Usage:
  stride deadletters list   [flags]          list the dead letters of a consumer group, oldest first
  stride deadletters replay [flags] [ID ...] send dead letters back to their group (no ID: all of them)

The command talks to the server's bus: --bus-url (STRIDE_BUS_URL) and
--bus-prefix (STRIDE_BUS_PREFIX) as given to 'stride serve'. The embedded bus
lives inside the server process; start the server with
--bus-listen 127.0.0.1:4223 and pass --bus-url nats://127.0.0.1:4223 here
(with --bus-listen-token T on the server: nats://T@127.0.0.1:4223, best
given as STRIDE_BUS_URL so that the token stays out of the process list).
`

// errEmbeddedBus explains why deadletters cannot open the embedded bus
// itself: its JetStream store belongs to the running server, and starting a
// second server on the same directory would corrupt it.
var errEmbeddedBus = errors.New("deadletters needs the server's bus, and the embedded one lives inside the running server: " +
	"start 'stride serve' with --bus-listen 127.0.0.1:4223 (STRIDE_BUS_LISTEN) and run this command with " +
	"--bus-url nats://127.0.0.1:4223, or set --bus-url to the external NATS or RabbitMQ the server uses")

func runDeadLetters(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, deadLettersUsage)
			return nil
		}
		fmt.Fprint(stderr, deadLettersUsage)
		return errUsage
	}
	sub := args[0]
	s := newSettings("deadletters "+sub, getenv, stderr)
	s.fs.Usage = func() {
		fmt.Fprint(stderr, deadLettersUsage+"\nFlags:\n")
		s.fs.PrintDefaults()
	}
	busURL := s.string("bus-url", "", "the server's bus: nats://host:port or amqp://user:pass@host:5672/")
	busPrefix := s.string("bus-prefix", "stride", "namespace of the streams, exchanges and queues on the bus")
	// Command-specific options have no environment variable: a STRIDE_GROUP
	// set for one command would silently steer another.
	group := s.fs.String("group", ingest.WorkerGroup, "consumer group")
	timeout := s.fs.Duration("timeout", 30*time.Second, "give up after this long")
	var limit *int
	var asJSON *bool
	if sub == "list" {
		limit = s.fs.Int("limit", 100, "list at most this many")
		asJSON = s.fs.Bool("json", false, "print one JSON object per dead letter instead of a table")
	}
	if err := s.parse(args[1:]); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if sub == "list" && s.fs.NArg() > 0 {
		return fmt.Errorf("deadletters list takes no arguments (got %q); to replay some, use 'stride deadletters replay ID...'", s.fs.Args())
	}
	if *busURL == "" {
		return errEmbeddedBus
	}
	if err := bus.ValidateName("group", *group); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	log, err := newLogger("text", "warn", stderr)
	if err != nil {
		return err
	}
	// Attach only: a mistyped prefix must fail, not create an empty
	// deployment's streams and report no dead letters in it.
	b, err := openBus(ctx, *busURL, "", "", "", *busPrefix, true, log)
	if err != nil {
		return err
	}
	defer b.close(log)

	if sub == "list" {
		dls, err := b.DeadLetters(ctx, *group, *limit)
		if err != nil {
			return err
		}
		return printDeadLetters(stdout, *group, dls, *asJSON)
	}
	ids := s.fs.Args()
	n, err := b.Replay(ctx, *group, ids...)
	if err != nil {
		return fmt.Errorf("replayed %d, then: %w", n, err)
	}
	fmt.Fprintf(stdout, "replayed %d dead letter(s) to group %s\n", n, *group)
	if len(ids) > 0 && n < len(ids) {
		return fmt.Errorf("%d of the %d ids given are not dead letters of group %s", len(ids)-n, len(ids), *group)
	}
	return nil
}

// deadLetterJSON is the --json form of a dead letter: what an operator
// needs to decide, plus the event itself for scripts.
type deadLetterJSON struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Subject  string    `json:"subject,omitempty"`
	Group    string    `json:"group"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	FailedAt time.Time `json:"failed_at"`
	Event    bus.Event `json:"event"`
}

func printDeadLetters(w io.Writer, group string, dls []bus.DeadLetter, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, dl := range dls {
			if err := enc.Encode(deadLetterJSON{ID: dl.Event.ID, Type: dl.Event.Type, Subject: dl.Event.Subject, Group: group,
				Attempts: dl.Attempts, Error: dl.Error, FailedAt: dl.FailedAt.UTC(), Event: dl.Event}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(dls) == 0 {
		fmt.Fprintf(w, "no dead letters in group %s\n", group)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT ID\tTYPE\tATTEMPTS\tFAILED AT\tERROR")
	for _, dl := range dls {
		id := dl.Event.ID
		if id == "" {
			id = "(undecodable)" // the broker kept bytes that are not an event
		}
		failedAt := "-"
		if !dl.FailedAt.IsZero() {
			failedAt = dl.FailedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", id, dl.Event.Type, dl.Attempts, failedAt, oneLine(dl.Error, 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d dead letter(s) in group %s\n", len(dls), group)
	return nil
}

// oneLine keeps a table row on one line; --json has the full error.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}

// busCollector exposes the bus backlog as Prometheus gauges: consumer lag
// (pending), in-flight and dead letters per group. It asks the broker at
// scrape time, with a short timeout, so a slow or unreachable broker makes
// the scrape report stride_bus_up 0 instead of hanging it.
type busCollector struct {
	bus     bus.Bus
	timeout time.Duration
	log     *slog.Logger

	up, pending, inFlight, dead *prometheus.Desc
}

func newBusCollector(b bus.Bus, log *slog.Logger) *busCollector {
	return &busCollector{
		bus: b, timeout: 2 * time.Second, log: log,
		up: prometheus.NewDesc("stride_bus_up", "1 if the bus answered the last stats query, else 0.", nil, nil),
		pending: prometheus.NewDesc("stride_bus_consumer_pending_events",
			"Events published and not yet delivered to the consumer group (consumer lag).", []string{"group"}, nil),
		inFlight: prometheus.NewDesc("stride_bus_consumer_in_flight_events",
			"Events delivered to the consumer group and not yet acknowledged (not reported by RabbitMQ).", []string{"group"}, nil),
		dead: prometheus.NewDesc("stride_bus_dead_letters",
			"Dead letters of the consumer group, waiting for 'stride deadletters replay'.", []string{"group"}, nil),
	}
}

func (c *busCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.pending
	ch <- c.inFlight
	ch <- c.dead
}

func (c *busCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	st, err := c.bus.Stats(ctx)
	if err != nil {
		c.log.Warn("bus stats for metrics", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for g, gs := range st.Groups {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(gs.Pending), g)
		if gs.InFlight >= 0 {
			ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(gs.InFlight), g)
		}
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(gs.DeadLetters), g)
	}
}
