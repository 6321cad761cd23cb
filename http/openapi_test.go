package http

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride/account"
)

// Every registered route must be documented, and every documented path must
// be served: the document is the contract clients build against.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	raw, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1", doc.OpenAPI)
	}
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	reg := prometheus.NewRegistry()
	s := New(Config{MetricsOnMainAddr: true}, Services{Realtime: unusedRealtime{}}, reg, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	routes := s.Routes()
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.yaml documents %s, which is not served", d)
		}
	}
}

// unusedRealtime stands for the realtime layer so that its routes exist.
type unusedRealtime struct{}

func (unusedRealtime) Serve(w http.ResponseWriter, _ *http.Request, _ *account.Principal) {
	w.WriteHeader(http.StatusNotImplemented)
}
