package stride

import (
	"encoding/json"
	"time"
)

// Upload statuses. An upload is queued when accepted, processing while a
// worker has it, and ends done (one activity), duplicate (it pointed at an
// activity the athlete already had) or failed (with a problem).
const (
	UploadQueued     = "queued"
	UploadProcessing = "processing"
	UploadDone       = "done"
	UploadFailed     = "failed"
	UploadDuplicate  = "duplicate"
)

// Upload is a workout accepted for processing. The upload row, not the
// broker, is the truth about whether it was processed.
type Upload struct {
	ID          string
	UserID      string
	Status      string
	Format      string // fit, gpx, tcx or json
	ContentType string
	Filename    string
	ContentHash []byte // SHA-256 of the body as received
	SizeBytes   int64
	Body        []byte
	// BlobKey, when set, names the blob holding the body (Body is then
	// empty in the row): large files stay out of the database.
	BlobKey    string
	ExternalID string
	Options    UploadOptions
	ActivityID string
	Problem    *UploadProblem
	Attempts   int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// UploadOptions are what the athlete chose at upload time.
type UploadOptions struct {
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Visibility  string `json:"visibility,omitempty"`
	Gzip        bool   `json:"gzip,omitempty"`
}

// UploadProblem is why an upload failed, shown as a problem object.
type UploadProblem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// Activity is one recorded workout with its summary metrics, in SI units.
// A multisport upload is a parent of sport "multisport" with one child per
// leg; children have ParentID set.
type Activity struct {
	ID          string
	UserID      string
	UploadID    string
	ParentID    string
	Sport       string
	SubSport    string
	Name        string
	Description string
	Visibility  string
	Indoor      bool
	Virtual     bool
	StartTime   time.Time
	EndTime     time.Time
	// LocalStart is the start in the athlete's local time (RFC 3339 with
	// offset); TimeZone the IANA zone when known.
	LocalStart  string
	TimeZone    string
	UTCOffsetS  *int
	ElapsedS    float64
	TimerS      float64
	MovingS     float64
	DistanceM   float64
	AscentM     float64
	DescentM    float64
	AvgSpeedMps float64
	MaxSpeedMps float64
	AvgHR       *float64
	MaxHR       *float64
	Calories    float64
	Polyline    string
	BBox        []float64 // [min_lon, min_lat, max_lon, max_lat]
	StartLatLng []float64 // [lat, lon]
	EndLatLng   []float64
	// Details is the rest of the analysis (splits, laps, zones, power, best
	// efforts, device sources, figures from points), kept as JSON.
	Details json.RawMessage
	// Efforts are the best efforts by name (see ActivityFacts.Efforts),
	// kept apart from Details so that records and leaderboards can read
	// them cheaply.
	Efforts     map[string]float64
	ContentHash []byte
	ExternalID  string
	Device      string
	Children    []Activity
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CanView reports whether viewer may see a with the given follow relation.
// Hiding, not forbidding: callers answer 404 when this is false.
func (a *Activity) CanView(viewerID string, viewerFollowsOwner bool) bool {
	switch {
	case a.UserID == viewerID:
		return true
	case a.Visibility == VisibilityPublic:
		return true
	case a.Visibility == VisibilityFollowers:
		return viewerFollowsOwner
	}
	return false
}
