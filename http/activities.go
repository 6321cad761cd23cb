package http

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/store"
)

// Uploads is what the API needs from the write path.
type Uploads interface {
	Accept(ctx context.Context, in ingest.Upload) (*ingest.Answer, error)
	Status(ctx context.Context, userID, uploadID string) (*stride.Upload, error)
	UpdateActivity(ctx context.Context, userID, id string, upd store.ActivityUpdate) (*stride.Activity, error)
	DeleteActivity(ctx context.Context, userID, id string) error
}

// ActivityQueries is what the API needs from the read side.
type ActivityQueries interface {
	Activity(ctx context.Context, viewerID, id string) (*stride.Activity, error)
	Streams(ctx context.Context, viewerID, id string, types []string) (*activity.Streams, error)
	List(ctx context.Context, viewerID, userID string, f store.ActivityFilter, page stride.Page) ([]stride.Activity, string, error)
}

// Media types accepted for workout files, and the format each announces.
var fileTypes = map[string]activity.Format{
	"application/vnd.ant.fit":        activity.FormatFIT,
	"application/fit":                activity.FormatFIT,
	"application/gpx+xml":            activity.FormatGPX,
	"application/vnd.garmin.tcx+xml": activity.FormatTCX,
	"application/tcx+xml":            activity.FormatTCX,
	"application/xml":                "",
	"text/xml":                       "",
	"application/octet-stream":       "",
	"application/gzip":               "",
	"application/x-gzip":             "",
}

const maxIdempotencyKeyLen = 255

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	in, err := s.readUpload(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	in.UserID = p.User.ID
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKeyLen || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			writeError(w, r, s.log, &stride.Error{Code: stride.EINVALID, Message: "The Idempotency-Key header is invalid.",
				Fields: []stride.FieldError{{Field: "Idempotency-Key", Message: "must be 1 to 255 visible ASCII characters"}}})
			return
		}
		in.IdempotencyKey = key
		h := sha256.New()
		for _, part := range []string{in.Format, in.Filename, in.ExternalID, in.Options.Name, in.Options.Description, in.Options.Visibility} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		h.Write(in.Body)
		in.RequestHash = h.Sum(nil)
	}
	ans, err := s.uploads.Accept(r.Context(), in)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", ans.Location)
	w.Header().Set("Content-Type", "application/json")
	if ans.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(ans.Status)
	_, _ = w.Write(append(ans.Body, '\n'))
}

// readUpload performs the cheap checks (size, media type, magic bytes, JSON
// shape) that answer at once; everything else is the worker's to decide.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (ingest.Upload, error) {
	var in ingest.Upload
	q := r.URL.Query()
	in.Options = stride.UploadOptions{Name: q.Get("name"), Description: q.Get("description"), Visibility: q.Get("visibility")}
	in.ExternalID = q.Get("external_id")
	in.Filename = q.Get("filename")
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return in, stride.Errorf(stride.EUNSUPPORTED, "Set Content-Type: application/json, a workout file type (FIT, GPX, TCX) or multipart/form-data.")
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	switch {
	case mt == "application/json":
		if ce := r.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
			return in, stride.Errorf(stride.EUNSUPPORTED, "A JSON workout cannot be sent with Content-Encoding %s.", ce)
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			return in, jsonError(err)
		}
		if err := checkJSONWorkout(raw, &in); err != nil {
			return in, err
		}
		in.Body, in.Format, in.ContentType = raw, string(activity.FormatJSON), mt
	case mt == "multipart/form-data":
		if err := readMultipart(body, params["boundary"], &in); err != nil {
			return in, err
		}
	default:
		declared, ok := fileTypes[mt]
		if !ok {
			return in, stride.Errorf(stride.EUNSUPPORTED, "Content-Type %s is not a workout file type.", mt)
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			return in, jsonError(err)
		}
		in.Body, in.ContentType = raw, mt
		if err := checkFile(&in, declared, r.Header.Get("Content-Encoding")); err != nil {
			return in, err
		}
	}
	switch in.Options.Visibility {
	case "", stride.VisibilityPublic, stride.VisibilityFollowers, stride.VisibilityPrivate:
	default:
		return in, &stride.Error{Code: stride.EINVALID, Message: "The request has invalid fields.",
			Fields: []stride.FieldError{{Field: "visibility", Message: "must be public, followers or private"}}}
	}
	if len(in.Options.Name) > 200 || len(in.Options.Description) > 10_000 || len(in.ExternalID) > 200 || len(in.Filename) > 255 {
		return in, stride.Errorf(stride.EINVALID, "name (200), description (10000), external_id (200) or filename (255) is too long.")
	}
	return in, nil
}

// checkFile finds the real format of a file from its first bytes: a type
// that does not match its content is refused at once.
func checkFile(in *ingest.Upload, declared activity.Format, contentEncoding string) error {
	head := in.Body
	switch strings.ToLower(contentEncoding) {
	case "", "identity":
	case "gzip", "x-gzip":
		in.Options.Gzip = true
	default:
		return stride.Errorf(stride.EUNSUPPORTED, "Content-Encoding %s is not supported; use gzip.", contentEncoding)
	}
	if len(head) == 0 {
		return stride.Errorf(stride.EINVALID, "The file is empty.")
	}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		in.Options.Gzip = true
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return stride.Errorf(stride.EUNSUPPORTED, "The body claims to be gzip but is not.")
		}
		// Only the start is inflated here; the worker inflates the rest
		// under its own cap, so a gzip bomb costs the API nothing.
		peek := make([]byte, 4096)
		n, _ := io.ReadFull(zr, peek)
		head = peek[:n]
	} else if in.Options.Gzip {
		return stride.Errorf(stride.EUNSUPPORTED, "Content-Encoding says gzip but the body is not gzip.")
	}
	name := strings.TrimSuffix(strings.ToLower(in.Filename), ".gz")
	got := activity.DetectFormat(head, activity.FileHint{})
	switch got {
	case activity.FormatFIT, activity.FormatGPX, activity.FormatTCX:
	default:
		if len(head) < 64 && strings.HasPrefix(strings.TrimSpace(string(head)), "<") {
			// Too little XML to tell; let the worker decide from the name.
			got = activity.DetectFormat(head, activity.FileHint{Filename: name})
		}
	}
	if got != activity.FormatFIT && got != activity.FormatGPX && got != activity.FormatTCX {
		return stride.Errorf(stride.EUNSUPPORTED, "The body is not a FIT, GPX or TCX file.")
	}
	if declared != "" && declared != got {
		return stride.Errorf(stride.EUNSUPPORTED, "Content-Type says %s but the body is %s.", declared, got)
	}
	if ext := path.Ext(name); ext != "" && ext != "."+string(got) && ext != ".xml" {
		return stride.Errorf(stride.EUNSUPPORTED, "The file name says %s but the body is %s.", ext, got)
	}
	in.Format = string(got)
	return nil
}

// maxFormFieldBytes bounds each text field of a multipart upload; the file
// part is read under the upload limit.
const maxFormFieldBytes = 16 << 10

func readMultipart(body io.Reader, boundary string, in *ingest.Upload) error {
	if boundary == "" {
		return stride.Errorf(stride.EMALFORMED, "The multipart body has no boundary.")
	}
	mr := multipart.NewReader(body, boundary)
	var declared activity.Format
	found := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return jsonError(err)
			}
			return stride.Errorf(stride.EMALFORMED, "The multipart body is malformed.")
		}
		field := part.FormName()
		if field == "file" {
			if found {
				return stride.Errorf(stride.EINVALID, "Send one file per upload.")
			}
			found = true
			raw, err := io.ReadAll(part)
			if err != nil {
				return jsonError(err)
			}
			in.Body = raw
			if in.Filename == "" {
				in.Filename = part.FileName()
			}
			pct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			in.ContentType = pct
			declared = fileTypes[pct]
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
		if err != nil || len(value) > maxFormFieldBytes {
			return stride.Errorf(stride.EINVALID, "Form field %q is too long.", field)
		}
		switch field {
		case "name":
			in.Options.Name = string(value)
		case "description":
			in.Options.Description = string(value)
		case "visibility":
			in.Options.Visibility = string(value)
		case "external_id":
			in.ExternalID = string(value)
		default:
			return &stride.Error{Code: stride.EMALFORMED, Message: "The form has an unknown field.",
				Fields: []stride.FieldError{{Field: field, Message: "is not a known field"}}}
		}
	}
	if !found {
		return &stride.Error{Code: stride.EINVALID, Message: "The form has no file.",
			Fields: []stride.FieldError{{Field: "file", Message: "is required"}}}
	}
	return checkFile(in, declared, "")
}

// jsonWorkout is the shape of a JSON upload; decoding it strictly gives
// clients their shape errors at once.
type jsonWorkout struct {
	Sport       *string     `json:"sport"`
	StartTime   *time.Time  `json:"start_time"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Visibility  string      `json:"visibility"`
	ElapsedS    *float64    `json:"elapsed_s"`
	DistanceM   *float64    `json:"distance_m"`
	Calories    *float64    `json:"calories"`
	ExternalID  string      `json:"external_id"`
	Points      []jsonPoint `json:"points"`
}

type jsonPoint struct {
	T     *time.Time `json:"t"`
	Lat   *float64   `json:"lat"`
	Lon   *float64   `json:"lon"`
	Ele   *float64   `json:"ele"`
	HR    *float64   `json:"hr"`
	Cad   *float64   `json:"cad"`
	Power *float64   `json:"power"`
	Speed *float64   `json:"speed"`
}

func checkJSONWorkout(raw []byte, in *ingest.Upload) error {
	var wk jsonWorkout
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wk); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return stride.Errorf(stride.EMALFORMED, "The body must hold exactly one JSON value.")
	}
	var v stride.Validation
	if wk.Sport == nil || *wk.Sport == "" {
		v.Add("sport", "is required")
	} else if activity.SportFromName(*wk.Sport) == activity.SportOther && !strings.EqualFold(strings.TrimSpace(*wk.Sport), string(activity.SportOther)) {
		v.Add("sport", "is not a known sport; see the sport list in the OpenAPI document")
	}
	if wk.StartTime == nil {
		v.Add("start_time", "is required")
	} else if wk.StartTime.After(time.Now().Add(24 * time.Hour)) {
		v.Add("start_time", "is in the future")
	}
	for field, val := range map[string]*float64{"elapsed_s": wk.ElapsedS, "distance_m": wk.DistanceM, "calories": wk.Calories} {
		if val != nil && (*val < 0 || math.IsInf(*val, 0) || *val > 1e9) {
			v.Add(field, "must be a non-negative number")
		}
	}
	if len(wk.Points) > activity.DefaultLimits().MaxPoints {
		v.Add("points", "has more than %d points", activity.DefaultLimits().MaxPoints)
	}
	for i, p := range wk.Points {
		if p.T == nil {
			v.Add("points["+strconv.Itoa(i)+"].t", "is required")
			break
		}
	}
	if len(wk.Points) == 0 && wk.ElapsedS == nil {
		v.Add("elapsed_s", "is required for a manual entry without points")
	}
	if err := v.Err(); err != nil {
		return err
	}
	in.Options = stride.UploadOptions{Name: firstNonEmpty(in.Options.Name, wk.Name), Description: firstNonEmpty(in.Options.Description, wk.Description),
		Visibility: firstNonEmpty(in.Options.Visibility, wk.Visibility)}
	in.ExternalID = firstNonEmpty(in.ExternalID, wk.ExternalID)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

type uploadJSON struct {
	ID         string   `json:"id"`
	Status     string   `json:"status"`
	Format     string   `json:"format"`
	ActivityID *string  `json:"activity_id"`
	Error      *Problem `json:"error"`
	CreatedAt  string   `json:"created_at"`
	UpdatedAt  string   `json:"updated_at"`
}

func (s *Server) handleUploadStatus(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	up, err := s.uploads.Status(r.Context(), p.User.ID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := uploadJSON{ID: up.ID, Status: up.Status, Format: up.Format, ActivityID: nonEmpty(up.ActivityID),
		CreatedAt: rfc3339(up.CreatedAt), UpdatedAt: rfc3339(up.UpdatedAt)}
	if up.Problem != nil {
		out.Error = &Problem{Type: ProblemTypeBase + "upload/" + strings.ReplaceAll(up.Problem.Code, "_", "-"),
			Title: "Upload failed", Status: http.StatusUnprocessableEntity, Code: up.Problem.Code, Detail: up.Problem.Detail,
			Instance: "/api/v1/uploads/" + up.ID}
	}
	if up.Status == stride.UploadQueued || up.Status == stride.UploadProcessing {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
