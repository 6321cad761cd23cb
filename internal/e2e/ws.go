package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// WSClient is a realtime WebSocket client for tests: it reads frames in the
// background so that a test can wait for the one it expects.
type WSClient struct {
	T  testing.TB
	WS *websocket.Conn
	// Frames are the frames read and not yet taken; Done holds why
	// reading ended once Frames is closed.
	Frames chan map[string]any
	Done   chan error
}

// ReadFrames starts reading ws's frames (JSON objects) in the background.
func ReadFrames(t testing.TB, ws *websocket.Conn) *WSClient {
	c := &WSClient{T: t, WS: ws, Frames: make(chan map[string]any, 10_000), Done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				c.Done <- err
				close(c.Frames)
				return
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				c.Done <- fmt.Errorf("frame is not JSON: %.200s", data)
				close(c.Frames)
				return
			}
			c.Frames <- m
		}
	}()
	return c
}

// Send writes v as one JSON text message.
func (c *WSClient) Send(v any) {
	c.T.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		c.T.Fatal(err)
	}
	c.Write(websocket.MessageText, data)
}

// Write writes one message as given.
func (c *WSClient) Write(typ websocket.MessageType, data []byte) {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WS.Write(ctx, typ, data); err != nil {
		c.T.Fatalf("write %.200s: %v", data, err)
	}
}

// Expect waits for a frame of that type for which match (if given) holds,
// skipping others; an error frame fails the test unless it is what is
// expected.
func (c *WSClient) Expect(typ string, match func(map[string]any) bool) map[string]any {
	c.T.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-c.Frames:
			if !ok {
				c.T.Fatalf("connection ended waiting for %s: %v", typ, <-c.Done)
			}
			if m["type"] == "error" && typ != "error" {
				c.T.Fatalf("error while waiting for %s: %v", typ, m)
			}
			if m["type"] == typ && (match == nil || match(m)) {
				return m
			}
		case <-deadline:
			c.T.Fatalf("no %s frame within 30 s", typ)
		}
	}
}

// Closed waits for the server to close the connection and returns the
// close code and the frames read on the way.
func (c *WSClient) Closed() (websocket.StatusCode, []map[string]any) {
	c.T.Helper()
	var seen []map[string]any
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-c.Frames:
			if !ok {
				return websocket.CloseStatus(<-c.Done), seen
			}
			seen = append(seen, m)
		case <-deadline:
			c.T.Fatal("the server did not close the connection")
		}
	}
}
