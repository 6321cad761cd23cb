package store

import (
	"errors"
	"fmt"

	"github.com/stridehq/stride"
)

// CheckStandings refuses sets that name another athlete than userID (an
// empty UserID means userID): SaveStandings replaces one user's standings
// and must not write another's.
func CheckStandings(userID string, achievements []stride.Achievement, records []stride.Record) error {
	var errs []error
	for _, a := range achievements {
		if a.UserID != "" && a.UserID != userID {
			errs = append(errs, fmt.Errorf("achievement %s belongs to user %s", a.Type, a.UserID))
		}
	}
	for _, r := range records {
		if r.UserID != "" && r.UserID != userID {
			errs = append(errs, fmt.Errorf("record %s belongs to user %s", r.Effort, r.UserID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("save standings of %s: %w", userID, err)
	}
	return nil
}
