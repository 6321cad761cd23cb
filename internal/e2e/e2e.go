// Package e2e drives the real stride binary as a separate process, the way an
// operator runs it, through a small HTTP client that checks every response it
// receives against the server's own OpenAPI document.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// BuildBinary compiles cmd/stride into dir and returns its path. Call it once
// from TestMain: building per test would dominate the run time.
func BuildBinary(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stride")
	cmd := exec.Command("go", "build", "-race", "-o", bin, "./cmd/stride")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Server is a running stride process.
type Server struct {
	URL     string
	DataDir string
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs `stride serve` on a free port with the given extra environment
// (NAME=value) and waits until it listens. The process is stopped with
// SIGTERM when t ends, and must then exit cleanly.
func Start(t *testing.T, bin, dataDir string, env ...string) *Server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{DataDir: dataDir, cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "stride: listening on "); ok {
				urls <- u
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.URL = <-urls:
	case err := <-s.done:
		t.Fatalf("stride exited before listening: %v\n%s", err, s.logs.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("stride did not listen within a minute\n%s", s.logs.String())
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop sends SIGTERM and waits for a clean exit; stopping twice is a no-op.
func (s *Server) Stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("stride exited with %v\n%s", err, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("stride did not stop within 30s of SIGTERM\n%s", s.logs.String())
	}
	if strings.Contains(s.logs.String(), "DATA RACE") {
		t.Errorf("the race detector fired in stride:\n%s", s.logs.String())
	}
}

// Logs returns what the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// Client calls a server and validates each response against the OpenAPI
// document served by that same server.
type Client struct {
	t         *testing.T
	base      string
	http      *http.Client
	validator validator.Validator
	// Header is added to every request (for example X-Forwarded-For).
	Header http.Header
	// undocumented skips validation, for requests to routes or methods the
	// document rightly does not describe.
	undocumented bool
}

// Undocumented returns a client for probing routes and methods that do not
// exist: their answers cannot match the document, which has no entry for
// them, so only the problem shape is left for the test to check.
func (c *Client) Undocumented() *Client {
	u := *c
	u.undocumented = true
	return &u
}

// NewClient fetches the server's OpenAPI document and builds a client.
func NewClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	c := &Client{t: t, base: baseURL, http: &http.Client{Timeout: 30 * time.Second}, Header: http.Header{}}
	resp, err := c.http.Get(baseURL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	spec, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fetch openapi.json: %d %v", resp.StatusCode, err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json is invalid: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	c.validator = v
	return c
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base }

// Response is a received response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem is the subset of a problem response tests look at.
type Problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// Problem decodes a problem response, checking its media type.
func (r *Response) Problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	if p.Status != r.Status {
		t.Fatalf("problem status %d differs from HTTP status %d", p.Status, r.Status)
	}
	return p
}

// Do sends a request. body may be nil, a []byte sent as is, or a value
// encoded as JSON. token, when set, is sent as a bearer token.
func (c *Client) Do(method, path, token string, body any, header ...string) *Response {
	c.t.Helper()
	var raw []byte
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		raw, contentType = b, "application/json"
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if !c.undocumented {
		c.validate(req, resp, respBody)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: respBody}
}

// validate checks the response against the document: a route, a status or
// a body shape the document does not describe fails the test.
func (c *Client) validate(req *http.Request, resp *http.Response, body []byte) {
	c.t.Helper()
	check := *resp
	check.Body = io.NopCloser(bytes.NewReader(body))
	vreq := req.Clone(context.Background())
	vreq.URL.Host, vreq.URL.Scheme = "", ""
	if ok, errs := c.validator.ValidateHttpResponse(vreq, &check); !ok {
		for _, e := range errs {
			c.t.Errorf("%s %s → %d does not match openapi.json: %s: %s %v\nbody: %s", req.Method, req.URL.Path,
				resp.StatusCode, e.Message, e.Reason, e.SchemaValidationErrors, body)
		}
	}
}

// Kill sends SIGKILL, a crash with no chance to finish requests, flush or
// acknowledge anything, and waits until the process is gone. Stop is then a
// no-op; start a new Server on the same DataDir to simulate a restart.
func (s *Server) Kill(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("stride still running 30s after SIGKILL")
	}
	if strings.Contains(s.logs.String(), "DATA RACE") {
		t.Errorf("the race detector fired in stride:\n%s", s.logs.String())
	}
}
