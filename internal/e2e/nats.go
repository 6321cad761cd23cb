package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. A
// test that must restart a server on the same address picks the port once
// with it; another process could take it in between, which is rare enough
// for tests.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// NATSServer is a private nats-server process with JetStream, for fault
// tests that must kill or restart a broker: the machine's shared server is
// used by other tests and is never touched.
type NATSServer struct {
	URL  string
	Port int
	Dir  string
	cmd  *exec.Cmd
	logs *syncBuffer
	// exited is closed once the process is gone and waitErr is set.
	exited  chan struct{}
	waitErr error
}

// natsServerBinary finds nats-server: STRIDE_TEST_NATS_SERVER, the PATH,
// or Debian's /usr/sbin (not on a normal user's PATH).
func natsServerBinary() (string, error) {
	if p := os.Getenv("STRIDE_TEST_NATS_SERVER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err != nil {
		return "", fmt.Errorf("nats-server not found (install Debian's nats-server or set STRIDE_TEST_NATS_SERVER): %w", err)
	}
	return "/usr/sbin/nats-server", nil
}

// StartNATS runs nats-server with JetStream on 127.0.0.1:port (0: a free
// one), storing in dir, and waits until it accepts connections. Starting it
// again with the same port and dir is a broker restart. It is killed when t
// ends. Without a nats-server binary the test is skipped, or failed in CI.
func StartNATS(t *testing.T, dir string, port int) *NATSServer {
	t.Helper()
	bin, err := natsServerBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if port == 0 {
		port = FreePort(t)
	}
	n := &NATSServer{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), Port: port, Dir: dir, logs: &syncBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() { n.Kill(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		// JetStream is enabled before the client port opens, so a
		// connection accepted means the server is ready for streams.
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return n
		}
		select {
		case <-n.exited:
			t.Fatalf("nats-server exited at start: %v\n%s", n.waitErr, n.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not listen on %d within 30s\n%s", port, n.logs.String())
		}
	}
}

// Kill stops the server with SIGKILL, as a crash, and waits until it is
// gone; killing twice is a no-op.
func (n *NATSServer) Kill(t *testing.T) {
	t.Helper()
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("nats-server still running 30s after SIGKILL")
	}
}

// Logs returns what the server has logged so far.
func (n *NATSServer) Logs() string { return n.logs.String() }
