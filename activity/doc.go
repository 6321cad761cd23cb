// Package activity is Stride's domain core for workouts: it reads activity
// files into one model, cleans them and computes their metrics. It is pure
// Go without I/O: no files, no network, no clock, no logging; problems are
// returned as errors and warnings.
//
// The API is three calls:
//
//	rec, warnings, err := activity.Parse(data, activity.FileHint{Filename: "ride.fit.gz"}, activity.Limits{})
//	rec, warnings, err := activity.FromJSON(&upload, activity.Limits{}) // the API's JSON points
//	analysis := activity.Analyze(rec, activity.Athlete{MaxHR: 188, FTP: 260})
//
// Parse accepts FIT (any device; multisport, compressed timestamps,
// developer fields), GPX 1.0/1.1 and TCX, each optionally gzip-compressed,
// and the JSON body of the upload API. The format is detected from the
// content (DetectFormat), with the hint as fallback. Errors are *Error values
// with a stable Code (CodeUnsupportedFormat, CodeCorrupt, CodeTooLarge,
// CodeNoData), matching the sentinels ErrUnsupportedFormat, ErrCorrupt,
// ErrTooLarge and ErrNoData with errors.Is. Memory and work are bounded by
// Limits; no input panics.
//
// A Recording holds the cleaned points (see Clean), the laps and timer
// events of the file and the device's own summary. A multisport file is a
// Recording of sport SportMultisport whose Children are its sessions.
//
// Analyze returns the summary the API exposes (sport, start and end time,
// elapsed, timer and moving time, distance, ascent and descent, average and
// maximum speed and heart rate, calories, route polyline, bounding box) with
// detailed Metrics (splits, laps, heart-rate zones, cadence, power with NP,
// IF and TSS, training load, best efforts), the totals computed from the
// points alone (FromPoints), and the point columns (Streams) for storage.
// Methods and formulas are documented in docs/metrics.md, with the accuracy
// report against the devices' own figures.
//
// Sports lists the sports Stride knows, with their indoor and virtual flags.
package activity
