package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A server error is logged as one, unless the client had already hung up
// and the error is only that: then it is an ordinary event.
func TestWriteErrorLogLevel(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		hungUp    bool
		wantLevel string
		wantMsg   string
	}{
		{"internal error", errors.New("disk on fire"), false, "level=ERROR", "request failed"},
		{"cancelled while the client waits", fmt.Errorf("wait for commit: %w", context.Canceled), false, "level=ERROR", "request failed"},
		{"client hung up", fmt.Errorf("wait for commit: %w", context.Canceled), true, "level=INFO", "client went away"},
		{"other error after the client hung up", errors.New("disk on fire"), true, "level=ERROR", "request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.hungUp {
				cancel()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v1/activities", nil)
			w := httptest.NewRecorder()
			writeError(w, r, log, tt.err)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("status %d", w.Code)
			}
			if out := buf.String(); !strings.Contains(out, tt.wantLevel) || !strings.Contains(out, tt.wantMsg) {
				t.Fatalf("log %q, want %s %q", out, tt.wantLevel, tt.wantMsg)
			}
		})
	}
}
