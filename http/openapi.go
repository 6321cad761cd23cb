package http

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/stridehq/stride/activity"
)

// The document is written as YAML for people and served as JSON for tools.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	// The sport list comes from the code, so the document cannot drift
	// from what the parsers produce.
	var names []string
	var list []map[string]any
	for _, sp := range activity.Sports {
		names = append(names, string(sp.Name))
		list = append(list, map[string]any{"name": sp.Name, "family": sp.Family, "indoor": sp.Indoor, "virtual": sp.Virtual})
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	schemas["Sport"] = map[string]any{
		"type": "string", "enum": names, "x-sports": list,
		"description": "Stride's sports; x-sports flags which are indoor or virtual. Common aliases (run, ride, walk ...) are accepted on upload.",
	}
	return json.Marshal(doc)
})

// OpenAPIDocument returns the OpenAPI 3.1 document as JSON.
func OpenAPIDocument() ([]byte, error) { return openAPIJSON() }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := openAPIJSON()
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(doc)
}
