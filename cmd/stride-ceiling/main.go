// Command stride-ceiling is the "ceiling" of the upload load benchmark
// (scripts/load): a bare net/http server that reads and decodes a workout
// the way POST /api/v1/activities does (JSON into the same shape, unknown
// fields refused; a file read whole and its first bytes checked) and answers
// 202 with a receipt, storing nothing. No authentication, no database, no
// logging: what is left is the cost of HTTP and JSON on this machine, the
// upper bound Stride's durable acceptance is compared with.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// workout has the fields of Stride's JSON upload, so decoding costs the same.
type workout struct {
	Sport       *string    `json:"sport"`
	StartTime   *time.Time `json:"start_time"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Visibility  string     `json:"visibility"`
	ElapsedS    *float64   `json:"elapsed_s"`
	DistanceM   *float64   `json:"distance_m"`
	Calories    *float64   `json:"calories"`
	ExternalID  string     `json:"external_id"`
	Points      []struct {
		T     *time.Time `json:"t"`
		Lat   *float64   `json:"lat"`
		Lon   *float64   `json:"lon"`
		Ele   *float64   `json:"ele"`
		HR    *float64   `json:"hr"`
		Cad   *float64   `json:"cad"`
		Power *float64   `json:"power"`
		Speed *float64   `json:"speed"`
	} `json:"points"`
}

type receipt struct {
	UploadID  string `json:"upload_id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

const maxBody = 32 << 20

func handler() http.Handler {
	var seq atomic.Int64 // ids are a counter: the ceiling stores nothing
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/activities", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if r.Header.Get("Content-Type") == "application/json" {
			var wk workout
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&wk); err != nil || wk.Sport == nil || wk.StartTime == nil {
				http.Error(w, "bad json", http.StatusBadRequest)
				return
			}
		} else if len(raw) < 5 || !bytes.Contains(raw[:min(len(raw), 512)], []byte("<gpx")) {
			http.Error(w, "unsupported", http.StatusUnsupportedMediaType)
			return
		}
		id := strconv.FormatInt(seq.Add(1), 36)
		loc := "/api/v1/uploads/" + id
		body, _ := json.Marshal(receipt{UploadID: id, Status: "queued", StatusURL: loc})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(body)
	})
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port, printed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("stride-ceiling: listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
