package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/activity/streamcodec"
	"github.com/stridehq/stride/blob"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/store"
)

// WorkerGroup is the bus consumer group that processes uploads.
const WorkerGroup = "worker"

// MaxProcessingAttempts bounds how often one upload is tried, across bus
// redeliveries and sweeper re-publishes, before it is failed for good.
const MaxProcessingAttempts = 8

// Worker turns uploads into activities.
type Worker struct {
	store  Store
	log    *slog.Logger
	now    func() time.Time
	source string
	limits activity.Limits
	// Metrics, when set, records processing time and queueing delay.
	Metrics *Metrics
	// Blobs holds the bodies of uploads that have a BlobKey.
	Blobs blob.Store
	// Committed, when set, is called once an upload's activity and event
	// are committed: Service.Notify where the relay runs in this process.
	Committed func()
}

// NewWorker returns a worker.
func NewWorker(s Store, log *slog.Logger, now func() time.Time, source string) *Worker {
	return &Worker{store: s, log: log, now: now, source: source, limits: activity.DefaultLimits()}
}

// ConsumerConfig is the bus subscription of the worker. Twice as many
// handlers as cores: parsing keeps a core busy, but each upload also waits
// for its commit, and commits are shared by whoever waits at the same time.
func (w *Worker) ConsumerConfig() bus.ConsumerConfig {
	return bus.ConsumerConfig{Group: WorkerGroup, Types: []string{EventUploaded}, Concurrency: 2 * runtime.GOMAXPROCS(0)}
}

// Handle is the bus handler for activity.uploaded. Bad files end the upload
// failed and are acknowledged; only infrastructure errors are returned, so
// the bus retries them.
func (w *Worker) Handle(ctx context.Context, d bus.Delivery) error {
	var data UploadedData
	if err := json.Unmarshal(d.Event.Data, &data); err != nil || data.UploadID == "" {
		return fmt.Errorf("event %s: bad %s payload: %v", d.Event.ID, EventUploaded, err)
	}
	return w.Process(ctx, data.UploadID)
}

// ProcessedData is the payload of activity.processed: what later
// projections (records, leaderboards, feed) need without reading the store.
type ProcessedData struct {
	ActivityID string    `json:"activity_id"`
	UploadID   string    `json:"upload_id"`
	UserID     string    `json:"user_id"`
	Sport      string    `json:"sport"`
	StartTime  time.Time `json:"start_time"`
	LocalStart string    `json:"local_start,omitempty"`
	Visibility string    `json:"visibility"`
	DistanceM  float64   `json:"distance_m"`
	ElapsedS   float64   `json:"elapsed_s"`
	MovingS    float64   `json:"moving_s"`
	AscentM    float64   `json:"ascent_m"`
	Indoor     bool      `json:"indoor"`
	Virtual    bool      `json:"virtual"`
	// AcceptedAt is when the upload was answered 202: projections measure
	// how long the athlete waited to see its effects.
	AcceptedAt time.Time `json:"accepted_at"`
}

// Process handles one upload, idempotently: an upload already finished is
// left as it is.
func (w *Worker) Process(ctx context.Context, uploadID string) error {
	start := w.now()
	up, err := w.store.ClaimUpload(ctx, uploadID, start.UTC())
	if stride.ErrorCode(err) == stride.ENOTFOUND {
		return nil // the account was deleted since
	}
	if err != nil {
		return err
	}
	if up.Status != stride.UploadProcessing {
		return nil
	}
	if up.Attempts > MaxProcessingAttempts {
		w.log.ErrorContext(ctx, "upload keeps failing; giving up", "upload_id", up.ID, "attempts", up.Attempts)
		return w.store.FailUpload(ctx, up.ID, stride.UploadProblem{Code: "processing_failed",
			Detail: "Processing this upload failed repeatedly; the operators have been told."}, w.now().UTC())
	}
	user, err := w.store.UserByID(ctx, up.UserID)
	if stride.ErrorCode(err) == stride.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if up.BlobKey != "" {
		if w.Blobs == nil {
			return fmt.Errorf("upload %s is in the blob store, which this worker was not given", up.ID)
		}
		up.Body, err = w.Blobs.Get(ctx, up.BlobKey)
		if errors.Is(err, blob.ErrNotFound) {
			// The body was fsynced before the upload committed, so a
			// missing one was removed since (by hand, or by a bug): no retry
			// brings it back, and retrying would hold the athlete's
			// partition for minutes before the same end.
			w.log.ErrorContext(ctx, "upload body missing from the blob store", "upload_id", up.ID, "blob_key", up.BlobKey)
			w.Metrics.uploadFinished(stride.UploadFailed, w.now().Sub(start), start.Sub(up.CreatedAt))
			return w.store.FailUpload(ctx, up.ID, stride.UploadProblem{Code: "upload_body_missing",
				Detail: "The uploaded file is no longer stored; please upload it again."}, w.now().UTC())
		}
		if err != nil {
			return fmt.Errorf("load upload %s: %w", up.ID, err)
		}
	}
	rec, warnings, err := activity.Parse(up.Body, activity.FileHint{Filename: up.Filename, ContentType: up.ContentType}, w.limits)
	if err != nil {
		var ae *activity.Error
		if !errors.As(err, &ae) {
			return fmt.Errorf("parse upload %s: %w", up.ID, err)
		}
		w.log.InfoContext(ctx, "upload refused", "upload_id", up.ID, "code", ae.Code, "detail", ae.Detail)
		w.Metrics.uploadFinished(stride.UploadFailed, w.now().Sub(start), start.Sub(up.CreatedAt))
		return w.store.FailUpload(ctx, up.ID, stride.UploadProblem{Code: ae.Code, Detail: ae.Detail}, w.now().UTC())
	}
	analysis := activity.Analyze(rec, athleteOf(user))
	now := w.now().UTC()
	a, streams, err := buildActivity(up, user, rec, analysis, now)
	if err != nil {
		return err
	}
	ev, err := NewOutboxEvent(w.source, EventProcessed, up.UserID, a.ID, ProcessedData{
		ActivityID: a.ID, UploadID: up.ID, UserID: up.UserID, Sport: a.Sport, StartTime: a.StartTime, LocalStart: a.LocalStart,
		Visibility: a.Visibility, DistanceM: a.DistanceM, ElapsedS: a.ElapsedS, MovingS: a.MovingS, AscentM: a.AscentM,
		Indoor: a.Indoor, Virtual: a.Virtual, AcceptedAt: up.CreatedAt.UTC(),
	}, now)
	if err != nil {
		return err
	}
	status, activityID, err := w.store.CompleteUpload(ctx, up.ID, store.Completion{Activity: a, Streams: streams, Event: ev}, now)
	if err != nil {
		return err
	}
	if w.Committed != nil {
		w.Committed()
	}
	w.Metrics.uploadFinished(status, w.now().Sub(start), start.Sub(up.CreatedAt))
	w.log.InfoContext(ctx, "upload processed", "upload_id", up.ID, "status", status, "activity_id", activityID,
		"points", len(rec.Points), "warnings", len(warnings), "duration", w.now().Sub(start).String())
	return nil
}

func athleteOf(u *stride.User) activity.Athlete {
	var a activity.Athlete
	if u.MaxHR != nil {
		a.MaxHR = float64(*u.MaxHR)
	}
	if u.RestingHR != nil {
		a.RestingHR = float64(*u.RestingHR)
	}
	if u.FTPW != nil {
		a.FTP = float64(*u.FTPW)
	}
	if u.WeightKg != nil {
		a.WeightKg = *u.WeightKg
	}
	if u.BirthDate != nil {
		a.BirthDate = time.Date(u.BirthDate.Year, u.BirthDate.Month, u.BirthDate.Day, 0, 0, 0, 0, time.UTC)
	}
	a.Sex = u.Gender
	a.TimeZone = u.TimeZone
	return a
}

// details is the part of an analysis kept as JSON beside the summary columns.
type details struct {
	activity.Metrics
	Sources    map[string]string `json:"sources,omitempty"`
	FromPoints activity.Totals   `json:"from_points"`
	TimerS     float64           `json:"timer_s"`
}

func buildActivity(up *stride.Upload, user *stride.User, rec *activity.Recording, an *activity.Analysis, now time.Time) (*stride.Activity, map[string][]byte, error) {
	streams := map[string][]byte{}
	visibility := up.Options.Visibility
	if visibility == "" {
		visibility = user.DefaultVisibility
	}
	name := up.Options.Name
	if name == "" {
		name = rec.Name
	}
	if name == "" {
		name = defaultName(an)
	}
	externalID := up.ExternalID
	if externalID == "" {
		externalID = rec.ExternalID
	}
	a, err := toActivity(an, up, user.ID, "", visibility, now, streams)
	if err != nil {
		return nil, nil, err
	}
	a.Name, a.Description, a.ContentHash, a.ExternalID, a.Device = name, up.Options.Description, up.ContentHash, externalID, rec.Device
	localize(a, user)
	// Duplicates are recognised by sport and start time to the second, so
	// the same workout in FIT and TCX (millisecond starts) matches.
	a.StartTime = a.StartTime.Truncate(time.Second)
	for i, child := range an.Children {
		c, err := toActivity(child, up, user.ID, a.ID, visibility, now, streams)
		if err != nil {
			return nil, nil, err
		}
		c.ID = fmt.Sprintf("%s-%d", a.ID, i+1)
		if data, ok := streams[""]; ok {
			streams[c.ID] = data
			delete(streams, "")
		}
		c.Name = fmt.Sprintf("%s — leg %d (%s)", name, i+1, child.Sport)
		localize(c, user)
		a.Children = append(a.Children, *c)
	}
	return a, streams, nil
}

// toActivity maps an analysis onto the stored activity; for a child the id
// is assigned by the caller, so its streams are filed under "" meanwhile.
func toActivity(an *activity.Analysis, up *stride.Upload, userID, parentID, visibility string, now time.Time, streams map[string][]byte) (*stride.Activity, error) {
	d, err := json.Marshal(details{Metrics: an.Metrics, Sources: an.Sources, FromPoints: an.FromPoints, TimerS: an.TimerS})
	if err != nil {
		return nil, fmt.Errorf("encode activity details: %w", err)
	}
	a := &stride.Activity{
		UserID: userID, UploadID: up.ID, ParentID: parentID, Sport: string(an.Sport), SubSport: an.SubSport,
		Visibility: visibility, Indoor: an.Indoor, Virtual: an.Virtual, StartTime: an.StartTime.UTC(), EndTime: an.EndTime.UTC(),
		LocalStart: an.LocalStartTime, TimeZone: an.TimeZone, UTCOffsetS: an.UTCOffsetS, ElapsedS: an.ElapsedS, TimerS: an.TimerS,
		MovingS: an.MovingS, DistanceM: an.DistanceM, AscentM: an.AscentM, DescentM: an.DescentM,
		AvgSpeedMps: an.AvgSpeedMps, MaxSpeedMps: an.MaxSpeedMps, Calories: an.Calories, Polyline: an.Polyline,
		BBox: an.BBox, StartLatLng: an.StartLatLng, EndLatLng: an.EndLatLng, Details: d, Efforts: an.EffortValues(),
		CreatedAt: now, UpdatedAt: now,
	}
	if parentID == "" {
		a.ID = stride.NewID(now)
	}
	if an.AvgHR > 0 {
		a.AvgHR = &an.AvgHR
	}
	if an.MaxHR > 0 {
		a.MaxHR = &an.MaxHR
	}
	if an.Streams != nil && len(an.Streams.Time) > 0 {
		data, err := streamcodec.Encode(an.Streams)
		if err != nil {
			return nil, fmt.Errorf("encode streams: %w", err)
		}
		streams[a.ID] = data
	}
	return a, nil
}

func defaultName(an *activity.Analysis) string {
	part := "Morning"
	switch h := an.StartTime.Hour(); {
	case h >= 12 && h < 17:
		part = "Afternoon"
	case h >= 17 && h < 21:
		part = "Evening"
	case h >= 21 || h < 5:
		part = "Night"
	}
	return part + " " + strings.ReplaceAll(string(an.Sport), "_", " ")
}

// localize fills in the local start time from the athlete's time zone when
// the file did not carry its own offset, so daily and weekly rules follow
// the athlete's calendar; without a profile zone, UTC is the honest answer.
func localize(a *stride.Activity, user *stride.User) {
	if a.LocalStart != "" {
		return
	}
	loc := time.UTC
	if user.TimeZone != "" {
		if l, err := time.LoadLocation(user.TimeZone); err == nil {
			loc = l
			a.TimeZone = user.TimeZone
		}
	}
	local := a.StartTime.In(loc)
	_, off := local.Zone()
	a.UTCOffsetS = &off
	a.LocalStart = local.Format(time.RFC3339)
}
