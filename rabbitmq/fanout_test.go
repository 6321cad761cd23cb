package rabbitmq

import (
	"strings"
	"testing"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/bus/bustest"
	"github.com/stridehq/stride/internal/testenv"
)

func TestFanout(t *testing.T) {
	u := amqpURL(t)
	bustest.RunFanout(t, func(t *testing.T) (bus.Fanout, bus.Fanout) {
		// Prefixes take no '_'. newTestBus tears the exchanges down; the
		// Listen queues go with their connection.
		prefix := strings.ReplaceAll(testenv.Name("fanout"), "_", "-")
		return newTestBus(t, u, prefix), newTestBus(t, u, prefix)
	})
}
