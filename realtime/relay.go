package realtime

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/standings"
)

// RelayGroup is the consumer group that turns durable events into pushes.
const RelayGroup = "realtime"

// Relay consumes the durable events that concern connected clients and
// fans them out to every node: one process of the group handles each event
// once, and every node's hub receives it. A node that is down misses the
// push, not the data: clients read what they missed with GET.
type Relay struct {
	fanout bus.Fanout
}

// NewRelay returns a Relay.
func NewRelay(f bus.Fanout) *Relay { return &Relay{fanout: f} }

// ConsumerConfig is the relay's subscription.
func (r *Relay) ConsumerConfig() bus.ConsumerConfig {
	// Each event is one broadcast: a round trip to the broker, no work.
	return bus.ConsumerConfig{Group: RelayGroup, Concurrency: 8, Types: []string{standings.EventLeaderboardChanged, standings.EventAchievementUnlocked,
		standings.EventRecordSet, ingest.EventProcessed}}
}

// notification is what a client subscribed to notifications receives.
type notification struct {
	Type  string          `json:"type"`
	Topic string          `json:"topic"`
	Event string          `json:"event"`
	ID    string          `json:"id"`
	Data  json.RawMessage `json:"data"`
}

// EventUploadFinished is the notification of an upload processed into an
// activity.
const EventUploadFinished = "upload.finished"

// Handle is the bus handler.
func (r *Relay) Handle(ctx context.Context, d bus.Delivery) error {
	ev := d.Event
	var err error
	switch ev.Type {
	case standings.EventLeaderboardChanged:
		err = r.fanout.Broadcast(ctx, topicBoards, ev.Data)
	case standings.EventAchievementUnlocked, standings.EventRecordSet:
		err = r.notify(ctx, ev.Key, ev.Type, ev.ID, ev.Data)
	case ingest.EventProcessed:
		var p ingest.ProcessedData
		if json.Unmarshal(ev.Data, &p) != nil || p.UserID == "" {
			return nil // nothing to tell anyone
		}
		data, _ := json.Marshal(map[string]string{"upload_id": p.UploadID, "activity_id": p.ActivityID, "status": "done"})
		err = r.notify(ctx, p.UserID, EventUploadFinished, ev.ID, data)
	}
	if err != nil {
		return fmt.Errorf("fan out %s %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}

func (r *Relay) notify(ctx context.Context, userID, event, id string, data json.RawMessage) error {
	if userID == "" {
		return nil
	}
	payload, err := json.Marshal(notification{Type: msgNotification, Topic: topicNotify, Event: event, ID: id, Data: data})
	if err != nil {
		return err
	}
	return r.fanout.Broadcast(ctx, userTopic+userID, payload)
}
