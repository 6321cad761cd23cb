package realtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/store"
)

// LiveStore is what the recorder needs of the system of record.
type LiveStore interface {
	store.Live
}

// Uploads accepts a finished live activity into the upload pipeline.
type Uploads interface {
	Accept(ctx context.Context, in ingest.Upload) (*ingest.Answer, error)
}

// Recorder handles what recording devices send.
type Recorder struct {
	store   LiveStore
	uploads Uploads
	fanout  bus.Fanout
	cfg     Config
	now     func() time.Time
}

// NewRecorder returns a Recorder.
func NewRecorder(s LiveStore, u Uploads, f bus.Fanout, cfg Config, now func() time.Time) *Recorder {
	return &Recorder{store: s, uploads: u, fanout: f, cfg: cfg, now: now}
}

// liveMsg is a live activity's update as it travels between nodes and, with
// its type and topic, as watchers receive it. A status change has no points
// (Batch 0).
type liveMsg struct {
	Type       string `json:"type"`
	Topic      string `json:"topic"`
	LiveID     string `json:"live_id"`
	UserID     string `json:"user_id"`
	Sport      string `json:"sport"`
	Visibility string `json:"visibility"`
	Status     string `json:"status"`
	// FromBatch..Batch are the batches whose points this holds (a
	// catch-up merges several).
	FromBatch int64           `json:"from_batch,omitempty"`
	Batch     int64           `json:"batch,omitempty"`
	Points    json.RawMessage `json:"points,omitempty"`
	UploadID  string          `json:"upload_id,omitempty"`
}

func liveTopic(userID string) string { return "live:" + userID }

func problem(code, format string, args ...any) error {
	return stride.Errorf(code, format, args...)
}

// Start begins a live activity, or resumes the caller's unfinished one
// when liveID is given.
func (r *Recorder) Start(ctx context.Context, user *stride.User, in inbound) (*store.LiveActivity, error) {
	if in.LiveID != "" {
		a, err := r.owned(ctx, user.ID, in.LiveID)
		if err != nil {
			return nil, err
		}
		if a.Status == store.LiveFinished {
			return nil, problem(stride.ECONFLICT, "This live activity is finished (upload %s).", a.UploadID)
		}
		return a, nil
	}
	var v stride.Validation
	sport := activity.SportFromName(in.Sport)
	if in.Sport == "" || (sport == activity.SportOther && !strings.EqualFold(in.Sport, string(activity.SportOther))) {
		v.Add("sport", "is required and must be a known sport")
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > 200 {
		v.Add("name", "must be at most 200 characters")
	}
	vis := in.Visibility
	switch vis {
	case "":
		vis = user.DefaultVisibility
	case stride.VisibilityPublic, stride.VisibilityFollowers, stride.VisibilityPrivate:
	default:
		v.Add("visibility", "must be public, followers or private")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	active, err := r.store.ActiveLive(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	if len(active) >= r.cfg.MaxLivePerAthlete {
		return nil, problem(stride.ECONFLICT, "At most %d live activities can be in progress; finish one first.", r.cfg.MaxLivePerAthlete)
	}
	now := r.now().UTC()
	a := &store.LiveActivity{ID: stride.NewID(now), UserID: user.ID, Sport: string(sport), Name: name, Visibility: vis,
		Status: store.LiveRecording, StartedAt: now, UpdatedAt: now}
	if err := r.store.CreateLive(ctx, a); err != nil {
		return nil, err
	}
	r.broadcast(ctx, a, 0, 0, nil)
	return a, nil
}

func (r *Recorder) owned(ctx context.Context, userID, liveID string) (*store.LiveActivity, error) {
	a, err := r.store.LiveActivity(ctx, liveID)
	if err != nil {
		return nil, err
	}
	if a.UserID != userID {
		return nil, problem(stride.ENOTFOUND, "Live activity not found.")
	}
	return a, nil
}

// Points stores one batch, then fans it out; a resend of a stored batch is
// acknowledged again and not fanned out twice.
func (r *Recorder) Points(ctx context.Context, userID string, in inbound) error {
	if in.Batch < 1 {
		return problem(stride.EINVALID, "batch must be a number from 1, one more than the last acknowledged.")
	}
	points, count, err := r.checkPoints(in.Points)
	if err != nil {
		return err
	}
	a, err := r.owned(ctx, userID, in.LiveID)
	if err != nil {
		return err
	}
	if in.Batch > a.LastBatch && a.Points+count > r.cfg.MaxPointsPerActivity {
		return problem(stride.ETOOLARGE, "A live activity holds at most %d points; finish it and start another.", r.cfg.MaxPointsPerActivity)
	}
	dup, err := r.store.AppendLive(ctx, a.ID, in.Batch, points, count, r.now().UTC())
	if err != nil {
		return err
	}
	if !dup {
		r.broadcast(ctx, a, in.Batch, in.Batch, points)
	}
	return nil
}

// checkPoints validates a batch and returns it re-encoded compactly.
func (r *Recorder) checkPoints(raw json.RawMessage) ([]byte, int, error) {
	var pts []activity.JSONPoint
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if len(raw) == 0 || dec.Decode(&pts) != nil {
		return nil, 0, problem(stride.EINVALID, "points must be an array of {t, lat, lon, ele, hr, cad, power, speed} with t an RFC 3339 time.")
	}
	if len(pts) == 0 || len(pts) > r.cfg.MaxPointsPerBatch {
		return nil, 0, problem(stride.EINVALID, "A batch holds 1 to %d points.", r.cfg.MaxPointsPerBatch)
	}
	for i, p := range pts {
		switch {
		case p.T.IsZero():
			return nil, 0, problem(stride.EINVALID, "Point %d has no time t.", i)
		case (p.Lat == nil) != (p.Lon == nil):
			return nil, 0, problem(stride.EINVALID, "Point %d has only one of lat and lon.", i)
		case p.Lat != nil && (math.Abs(*p.Lat) > 90 || math.Abs(*p.Lon) > 180):
			return nil, 0, problem(stride.EINVALID, "Point %d is not on Earth.", i)
		}
		for _, f := range []*float64{p.Ele, p.HR, p.Cad, p.Power, p.Speed} {
			if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
				return nil, 0, problem(stride.EINVALID, "Point %d has a value that is not a number.", i)
			}
		}
	}
	out, err := json.Marshal(pts)
	if err != nil {
		return nil, 0, fmt.Errorf("encode points: %w", err)
	}
	return out, len(pts), nil
}

// SetStatus pauses or resumes.
func (r *Recorder) SetStatus(ctx context.Context, userID, liveID, status string) error {
	a, err := r.owned(ctx, userID, liveID)
	if err != nil {
		return err
	}
	if err := r.store.SetLiveStatus(ctx, a.ID, status, r.now().UTC()); err != nil {
		return err
	}
	a.Status = status
	r.broadcast(ctx, a, 0, 0, nil)
	return nil
}

// Finish turns the live activity into an upload of its points, through the
// same pipeline as any upload, so the activity equals the upload of the
// same points. Finishing again (a device that lost the answer) returns the
// same upload: the upload's idempotency key is the live activity.
func (r *Recorder) Finish(ctx context.Context, userID, liveID string) (*store.LiveActivity, *ingest.Receipt, error) {
	a, err := r.owned(ctx, userID, liveID)
	if err != nil {
		return nil, nil, err
	}
	body, err := r.workout(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(body)
	ans, err := r.uploads.Accept(ctx, ingest.Upload{UserID: userID, Body: body, Format: string(activity.FormatJSON),
		ContentType: "application/json", Options: stride.UploadOptions{Name: a.Name, Visibility: a.Visibility},
		IdempotencyKey: "live:" + a.ID, RequestHash: sum[:]})
	if err != nil {
		return nil, nil, err
	}
	var receipt ingest.Receipt
	if err := json.Unmarshal(ans.Body, &receipt); err != nil || receipt.UploadID == "" {
		return nil, nil, fmt.Errorf("finish live %s: unreadable upload answer %q", a.ID, ans.Body)
	}
	if a.Status != store.LiveFinished {
		if err := r.store.FinishLive(ctx, a.ID, receipt.UploadID, r.now().UTC()); err != nil {
			return nil, nil, err
		}
		a.Status, a.UploadID = store.LiveFinished, receipt.UploadID
		r.broadcast(ctx, a, 0, 0, nil)
	}
	return a, &receipt, nil
}

// workout builds the JSON upload of every stored point.
func (r *Recorder) workout(ctx context.Context, a *store.LiveActivity) ([]byte, error) {
	var pts []activity.JSONPoint
	for after := int64(0); ; {
		batches, err := r.store.LiveBatches(ctx, a.ID, after, 500)
		if err != nil {
			return nil, err
		}
		for _, b := range batches {
			var part []activity.JSONPoint
			if err := json.Unmarshal(b.Points, &part); err != nil {
				return nil, fmt.Errorf("live %s batch %d: %w", a.ID, b.Batch, err)
			}
			pts = append(pts, part...)
			after = b.Batch
		}
		if len(batches) < 500 {
			break
		}
	}
	if len(pts) == 0 {
		return nil, problem(stride.EINVALID, "This live activity has no points yet: nothing to save.")
	}
	start := pts[0].T
	for _, p := range pts {
		if p.T.Before(start) {
			start = p.T
		}
	}
	return json.Marshal(activity.JSONActivity{Sport: a.Sport, StartTime: start.UTC(), Name: a.Name, Points: pts})
}

// broadcast fans an update out to every node. It is best effort: the
// update is stored, and watchers who miss it catch up from the store.
func (r *Recorder) broadcast(ctx context.Context, a *store.LiveActivity, from, batch int64, points []byte) {
	msg := liveMsg{Type: msgLive, Topic: liveTopic(a.UserID), LiveID: a.ID, UserID: a.UserID, Sport: a.Sport,
		Visibility: a.Visibility, Status: a.Status, FromBatch: from, Batch: batch, Points: points, UploadID: a.UploadID}
	payload, err := json.Marshal(msg)
	if err != nil {
		return
	}
	_ = r.fanout.Broadcast(ctx, msg.Topic, payload)
}

// Retention of live activities in the store: a finished one is kept a day
// (watchers catching up on its end, a device re-sending finish), one
// abandoned without finish two days after its last batch.
const (
	FinishedRetention  = 24 * time.Hour
	AbandonedRetention = 48 * time.Hour
)

// Purge deletes live activities past their retention.
func (r *Recorder) Purge(ctx context.Context) (int64, error) {
	now := r.now().UTC()
	return r.store.PurgeLive(ctx, now.Add(-FinishedRetention), now.Add(-AbandonedRetention))
}
