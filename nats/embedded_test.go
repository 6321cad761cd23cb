package nats

import (
	"context"
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"
)

// The embedded server's listener: beyond loopback it needs a token, and
// with a token only clients that present it get in, the in-process
// connection included.
func TestEmbeddedListenerToken(t *testing.T) {
	ctx := context.Background()
	if _, err := StartEmbedded(ctx, t.TempDir(), EmbeddedOptions{Listen: "0.0.0.0:0", Logger: testLogger()}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("a listener on every interface without a token: %v", err)
	}
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(listen, func(t *testing.T) {
			srv, err := StartEmbedded(ctx, t.TempDir(), EmbeddedOptions{Listen: listen, Token: "s3cret-token", Logger: testLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Shutdown(ctx) })
			b, err := srv.Connect(ctx, Options{Prefix: "tok", Logger: testLogger()})
			if err != nil {
				t.Fatalf("in-process connection with the server's token: %v", err)
			}
			b.Close()

			url := srv.ClientURL()
			if nc, err := natsgo.Connect(url, natsgo.NoReconnect()); err == nil {
				nc.Close()
				t.Fatalf("a client without the token got in at %s", url)
			}
			if nc, err := natsgo.Connect(strings.Replace(url, "nats://", "nats://wrong@", 1), natsgo.NoReconnect()); err == nil {
				nc.Close()
				t.Fatal("a client with a wrong token got in")
			}
			nc, err := natsgo.Connect(strings.Replace(url, "nats://", "nats://s3cret-token@", 1), natsgo.NoReconnect())
			if err != nil {
				t.Fatalf("a client with the token: %v", err)
			}
			nc.Close()
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.4": false, "example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
