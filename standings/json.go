package standings

import (
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

// AchievementView is an achievement as the API and events show it.
type AchievementView struct {
	UserID      string    `json:"user_id"`
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Value       float64   `json:"value"`
	AchievedAt  time.Time `json:"achieved_at"`
	// ActivityID is omitted when the viewer may not see that activity.
	ActivityID string `json:"activity_id,omitempty"`
}

// AchievementJSON converts an achievement for the API and events.
func AchievementJSON(a stride.Achievement) AchievementView {
	return AchievementView{UserID: a.UserID, Type: a.Type, Description: a.Description, Value: a.Value,
		AchievedAt: a.AchievedAt.UTC(), ActivityID: a.ActivityID}
}

// PreviousRecord is the record a record beat.
type PreviousRecord struct {
	Value      float64 `json:"value"`
	ActivityID string  `json:"activity_id,omitempty"`
}

// RecordView is a personal record as the API and events show it.
type RecordView struct {
	UserID     string          `json:"user_id"`
	Effort     string          `json:"effort"`
	Label      string          `json:"label"`
	Unit       string          `json:"unit"` // "s" or "W"
	Value      float64         `json:"value"`
	AchievedAt time.Time       `json:"achieved_at"`
	ActivityID string          `json:"activity_id,omitempty"`
	Previous   *PreviousRecord `json:"previous"`
}

// RecordJSON converts a record for the API and events.
func RecordJSON(r stride.Record) RecordView {
	v := RecordView{UserID: r.UserID, Effort: r.Effort, Value: r.Value, AchievedAt: r.AchievedAt.UTC(), ActivityID: r.ActivityID}
	if e, ok := activity.LookupEffort(r.Effort); ok {
		v.Label, v.Unit = e.Label, e.Unit
	}
	if r.PreviousValue != nil {
		v.Previous = &PreviousRecord{Value: *r.PreviousValue, ActivityID: r.PreviousActivityID}
	}
	return v
}
