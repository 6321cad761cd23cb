package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/stridehq/stride/bus"
)

// The Bus is also the fan-out, on the same connection: a fanout exchange
// P.fanout and, per Listen, a queue of its own that lives as long as the
// Listen (exclusive, auto-delete, named by the broker). Messages are
// transient and published without confirms: fan-out promises at most once.
var _ bus.Fanout = (*Bus)(nil)

const (
	hdrTopic = "stride-topic"
	// fanoutQueueMsgs and fanoutQueueBytes bound a Listen queue; past them
	// the broker drops the oldest messages (drop-head): for live data the
	// newest matter most.
	fanoutQueueMsgs  = 8192
	fanoutQueueBytes = 64 << 20
	// fanoutPrefetch bounds what the client holds for a Listen beyond the
	// queue; acks go in batches of fanoutAckBatch, well below it, so the
	// broker never waits for one.
	fanoutPrefetch = 256
	fanoutAckBatch = 64
)

func (b *Bus) fanoutExchange() string { return b.opts.Prefix + ".fanout" }

// declareFanout declares the exchange. Durable although it keeps nothing:
// it then survives a broker restart, so a node that reconnects and
// broadcasts before any listener has redeclared it does not publish to a
// missing exchange, which the broker answers by closing the channel
// asynchronously (the broadcasts in between would vanish without an error).
// Declaring is idempotent, so it is done again on every new channel.
func (b *Bus) declareFanout(ch *amqp.Channel) error {
	if err := ch.ExchangeDeclare(b.fanoutExchange(), amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", b.fanoutExchange(), err)
	}
	return nil
}

// Broadcast implements bus.Fanout. Without confirms it returns once the
// message is written to the connection; a broken connection or channel is
// still an error, and the next Broadcast opens a new one.
func (b *Bus) Broadcast(ctx context.Context, topic string, payload []byte) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broadcast %q: %w", topic, err)
	}
	if len(payload) > bus.MaxFanoutPayload {
		return fmt.Errorf("broadcast %q: payload of %d bytes, over %d", topic, len(payload), bus.MaxFanoutPayload)
	}
	b.fanMu.Lock()
	defer b.fanMu.Unlock()
	ch, err := b.fanoutPublisher()
	if err != nil {
		return fmt.Errorf("broadcast %q: %w", topic, b.closedErr(err))
	}
	err = ch.PublishWithContext(ctx, b.fanoutExchange(), "", false, false, amqp.Publishing{
		Headers:      amqp.Table{hdrTopic: topic},
		DeliveryMode: amqp.Transient,
		Body:         payload,
	})
	if err != nil {
		_ = ch.Close()
		b.fanCh = nil
		return fmt.Errorf("broadcast %q: %w", topic, b.closedErr(err))
	}
	return nil
}

// fanoutPublisher returns the broadcast channel; fanMu must be held.
func (b *Bus) fanoutPublisher() (*amqp.Channel, error) {
	if b.fanCh != nil && !b.fanCh.IsClosed() {
		return b.fanCh, nil
	}
	ch, err := b.channel()
	if err != nil {
		return nil, err
	}
	if err := b.declareFanout(ch); err != nil {
		_ = ch.Close()
		return nil, err
	}
	b.fanCh = ch
	return ch, nil
}

// Listen implements bus.Fanout. It returns once its queue is bound, then
// one goroutine handles deliveries until ctx is done, subscribing again
// (with a new queue) when the channel or the connection drops; what was
// sent meanwhile is lost.
func (b *Bus) Listen(ctx context.Context, h func(topic string, payload []byte)) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ch, deliveries, err := b.fanoutSubscribe()
	if err != nil {
		return fmt.Errorf("listen: %w", b.closedErr(err))
	}
	go b.runListener(ctx, ch, deliveries, h)
	return nil
}

func (b *Bus) fanoutSubscribe() (*amqp.Channel, <-chan amqp.Delivery, error) {
	ch, err := b.channel()
	if err != nil {
		return nil, nil, err
	}
	deliveries, err := func() (<-chan amqp.Delivery, error) {
		if err := ch.Qos(fanoutPrefetch, 0, false); err != nil {
			return nil, fmt.Errorf("qos: %w", err)
		}
		if err := b.declareFanout(ch); err != nil {
			return nil, err
		}
		q, err := ch.QueueDeclare("", false, true, true, false, amqp.Table{
			"x-queue-type":       "classic",
			"x-max-length":       int64(fanoutQueueMsgs),
			"x-max-length-bytes": int64(fanoutQueueBytes),
			"x-overflow":         "drop-head",
		})
		if err != nil {
			return nil, fmt.Errorf("declare listen queue: %w", err)
		}
		if err := ch.QueueBind(q.Name, "", b.fanoutExchange(), false, nil); err != nil {
			return nil, fmt.Errorf("bind %s to %s: %w", q.Name, b.fanoutExchange(), err)
		}
		return ch.Consume(q.Name, "", false, true, false, false, nil)
	}()
	if err != nil {
		_ = ch.Close()
		return nil, nil, err
	}
	return ch, deliveries, nil
}

func (b *Bus) runListener(ctx context.Context, ch *amqp.Channel, deliveries <-chan amqp.Delivery, h func(string, []byte)) {
	for {
		err := b.listenOn(ctx, deliveries, h)
		// Closing the channel deletes the queue (auto-delete).
		_ = ch.Close()
		if ctx.Err() != nil || b.closed.Load() {
			return
		}
		b.log.Warn("fan-out listener lost its channel, subscribing again", "err", err)
		for failures := 1; ; failures++ {
			sleep(ctx, bus.ExponentialBackoff(200*time.Millisecond, 10*time.Second)(failures))
			if ctx.Err() != nil || b.closed.Load() {
				return
			}
			ch, deliveries, err = b.fanoutSubscribe()
			if err == nil {
				break
			}
			b.log.Warn("fan-out listener", "err", err)
		}
	}
}

// listenOn handles deliveries until ctx is done (nil) or the channel
// closes (an error).
func (b *Bus) listenOn(ctx context.Context, deliveries <-chan amqp.Delivery, h func(string, []byte)) error {
	unacked := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return errors.New("channel closed")
			}
			// Both cases may be ready at once and select picks either.
			if ctx.Err() != nil {
				return nil
			}
			topic, _ := d.Headers[hdrTopic].(string)
			b.callListener(h, topic, d.Body)
			if unacked++; unacked >= fanoutAckBatch {
				if err := d.Ack(true); err != nil {
					return fmt.Errorf("ack: %w", err)
				}
				unacked = 0
			}
		}
	}
}

// callListener keeps a panicking handler from ending the listener: the
// message is lost, as a dropped one would be.
func (b *Bus) callListener(h func(string, []byte), topic string, payload []byte) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("fan-out handler panicked", "topic", topic, "panic", r)
		}
	}()
	h(topic, payload)
}
