package store

import "github.com/stridehq/stride"

// The refusals of the Live port, shared by the adapters so that a client
// reads the same words whichever database answers.

// CheckLiveAppend refuses what no device can have sent: batches are
// numbered from 1, and a batch holds zero or more points.
func CheckLiveAppend(batch int64, count int) error {
	if batch < 1 {
		return stride.Errorf(stride.EINVALID, "Batches are numbered from 1; got %d.", batch)
	}
	if count < 0 {
		return stride.Errorf(stride.EINVALID, "A batch cannot hold %d points.", count)
	}
	return nil
}

// CheckLiveStatus refuses any status SetLiveStatus may not set: finishing
// goes through FinishLive, which records the upload the activity became.
func CheckLiveStatus(status string) error {
	if status != LiveRecording && status != LivePaused {
		return stride.Errorf(stride.EINVALID, "A live activity can be set %s or %s, not %q.", LiveRecording, LivePaused, status)
	}
	return nil
}

// CheckLiveFinish refuses finishing without the upload: a finished live
// activity must say where its points went.
func CheckLiveFinish(uploadID string) error {
	if uploadID == "" {
		return stride.Errorf(stride.EINVALID, "Finishing a live activity needs the upload it became.")
	}
	return nil
}

// LiveFinishedError is the refusal to change a finished live activity.
func LiveFinishedError() error {
	return stride.Errorf(stride.ECONFLICT, "The live activity has finished.")
}

// LiveGapError is the refusal of a batch that does not follow the last one
// stored: the device must send the missing batches first.
func LiveGapError(batch, last int64) error {
	return stride.Errorf(stride.ECONFLICT, "Batch %d does not follow the last stored batch, %d.", batch, last)
}

// LiveFinishedAsError is the refusal to finish again as another upload.
func LiveFinishedAsError(uploadID string) error {
	return stride.Errorf(stride.ECONFLICT, "The live activity already finished as upload %s.", uploadID)
}
