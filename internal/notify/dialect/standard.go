package dialect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// standardTime formats every time of the standard dialect: RFC 3339 in UTC with milliseconds,
// fixed width so bodies stay comparable (Standard Webhooks recommends ISO 8601).
const standardTime = "2006-01-02T15:04:05.000Z07:00"

// whsecPrefix marks a Standard Webhooks symmetric secret: base64 of the HMAC key (B.8).
const whsecPrefix = "whsec_"

// standardBody is the Standard Webhooks envelope {type, timestamp, data}.
type standardBody struct {
	Type string `json:"type"`
	// Timestamp is when the event occurred (the outbox time), stable across attempts; the
	// attempt's time is the webhook-timestamp header.
	Timestamp string       `json:"timestamp"`
	Data      standardData `json:"data"`
}

// standardData carries everything either cloud dialect says, under native names:
// domain = aliyun domain / huawei publish_domain, recording_id = huawei task_id,
// file_id = huawei job_id, object_key = aliyun uri / huawei obs_object, endpoint = obs_location,
// bucket = obs_bucket, bytes = file_size, duration = aliyun duration / huawei record_duration,
// start_time / end_time = aliyun start_time / stop_time and huawei start_time / end_time,
// reason = huawei error_message. seq numbers the recording's events from 1.
type standardData struct {
	Event       string            `json:"event"`
	Seq         int64             `json:"seq"`
	ProjectID   string            `json:"project_id"`
	RecordingID string            `json:"recording_id"`
	Domain      string            `json:"domain"`
	App         string            `json:"app"`
	Stream      string            `json:"stream"`
	PushArgs    map[string]string `json:"push_args"`
	// Format is sent whenever the event has one, as huawei's record_format is.
	Format string `json:"format,omitempty"`
	// *standardFile is set on file events, *standardComplete on file_completed and
	// file_deleted.
	*standardFile
	*standardComplete
	// Reason is set on record_failed, ondemand_failed and file_deleted, present even when
	// empty, and on record_over when the end has one.
	Reason *string `json:"reason,omitempty"`
}

// standardFile is on file_started, file_completed and file_deleted. On file_started object_key is the key
// as far as the start tells: end-time variables of its template render as "live", so the
// file_completed key may differ; file_id is the same on both.
type standardFile struct {
	FileID    string `json:"file_id"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	ObjectKey string `json:"object_key"`
}

// standardComplete is on file_completed and file_deleted. A field without a value is absent, not "" or 0:
// download_url when no URL could be made, width and height for audio-only files.
type standardComplete struct {
	DownloadURL string  `json:"download_url,omitempty"`
	Bytes       int64   `json:"bytes"`
	Duration    float64 `json:"duration"`
	StartTime   string  `json:"start_time,omitempty"`
	EndTime     string  `json:"end_time,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
}

// standardAlloc puts the body and its optional parts in one allocation.
type standardAlloc struct {
	body     standardBody
	file     standardFile
	complete standardComplete
}

// standardType is the envelope type of an internal event, "" for unknown events. Types are
// "."-delimited [a-zA-Z0-9_] identifiers (B.8).
func standardType(t recording.Event) string {
	switch t {
	case recording.EventRecordStarted:
		return "recording.record_started"
	case recording.EventRecordPaused:
		return "recording.record_paused"
	case recording.EventRecordResumed:
		return "recording.record_resumed"
	case recording.EventFileStarted:
		return "recording.file_started"
	case recording.EventFileCompleted:
		return "recording.file_completed"
	case recording.EventRecordOver:
		return "recording.record_over"
	case recording.EventRecordFailed:
		return "recording.record_failed"
	case recording.EventOnDemandFailed:
		return "recording.ondemand_failed"
	case recording.EventFileDeleted:
		return "recording.file_deleted"
	}
	return ""
}

func encodeStandard(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, error) {
	d := &ev.Data
	a := &standardAlloc{}
	a.body = standardBody{
		Type:      standardType(ev.Type),
		Timestamp: ev.CreatedAt.UTC().Format(standardTime),
		Data: standardData{
			Event: string(ev.Type), Seq: d.Seq, ProjectID: d.Project, RecordingID: d.RecordingID,
			Domain: d.Domain, App: d.App, Stream: d.Stream, PushArgs: d.PushArgs, Format: string(d.Format),
		},
	}
	data := &a.body.Data
	if data.PushArgs == nil {
		data.PushArgs = map[string]string{}
	}
	switch ev.Type {
	case recording.EventFileStarted, recording.EventFileCompleted, recording.EventFileDeleted:
		a.file = standardFile{FileID: d.FileID, Endpoint: d.Endpoint,
			Bucket: d.Bucket, ObjectKey: d.ObjectKey}
		data.standardFile = &a.file
		if ev.Type == recording.EventFileDeleted {
			// What was deleted and why: the stored file's size and span (no download URL,
			// the object is gone) and reason (retention, disk_full, api).
			a.complete = standardComplete{Bytes: d.Bytes, Duration: seconds(d.Duration),
				StartTime: standardTimeOf(d.StartTime), EndTime: standardTimeOf(d.EndTime),
				Width: d.Width, Height: d.Height}
			data.standardComplete = &a.complete
			data.Reason = &d.Reason
		}
		if ev.Type == recording.EventFileCompleted {
			a.complete = standardComplete{DownloadURL: d.DownloadURL, Bytes: d.Bytes,
				Duration: seconds(d.Duration), StartTime: standardTimeOf(d.StartTime),
				EndTime: standardTimeOf(d.EndTime), Width: d.Width, Height: d.Height}
			data.standardComplete = &a.complete
		}
	case recording.EventRecordFailed, recording.EventOnDemandFailed:
		data.Reason = &d.Reason
	case recording.EventRecordOver:
		if d.Reason != "" { // e.g. ended by the crash recovery of a restart
			data.Reason = &d.Reason
		}
	}
	body, err := marshal(&a.body)
	if err != nil {
		return Request{}, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	if key == "" {
		hs := newHeaders(ev, 2)
		hs.set(hWebhookID, ev.ID)
		hs.set(hWebhookTime, ts)
		return Request{URL: cfg.URL, Header: hs.h, Body: body}, nil
	}
	sig, err := standardSign(key, ev.ID, ts, body)
	if err != nil {
		return Request{}, err
	}
	hs := newHeaders(ev, 3)
	hs.set(hWebhookID, ev.ID)
	hs.set(hWebhookTime, ts)
	hs.set(hWebhookSigned, sig)
	return Request{URL: cfg.URL, Header: hs.h, Body: body}, nil
}

// standardSign is "v1," + base64(HMAC-SHA256(secret, id "." ts "." body)) (B.8). A whsec_ key
// is decoded after the prefix as the spec says; any other key (e.g. a Huawei-style 32-character
// key on a native configuration) is used as its raw bytes, so it still signs.
func standardSign(key, id, ts string, body []byte) (string, error) {
	if strings.Contains(id, ".") {
		// The spec forbids "." in the id: it would make the signed content ambiguous (B.8).
		return "", errors.New("webhook id contains '.'")
	}
	enc, whsec := strings.CutPrefix(key, whsecPrefix)
	keyLen := len(key)
	if whsec {
		keyLen = base64.StdEncoding.DecodedLen(len(enc))
	}
	// One allocation for the secret and the "id.ts." prefix; hmac.New copies the secret.
	buf := make([]byte, keyLen, keyLen+len(id)+len(ts)+2)
	if whsec {
		n, err := base64.StdEncoding.Decode(buf, []byte(enc))
		if err != nil {
			return "", fmt.Errorf("decode whsec_ secret: %w", err)
		}
		if n == 0 {
			return "", errors.New("empty whsec_ secret")
		}
		keyLen = n
	} else {
		copy(buf, key)
	}
	pre := buf[keyLen:keyLen] // the prefix goes after the key, in the same buffer
	pre = append(pre, id...)
	pre = append(pre, '.')
	pre = append(pre, ts...)
	pre = append(pre, '.')
	mac := hmac.New(sha256.New, buf[:keyLen])
	mac.Write(pre)
	mac.Write(body)
	const encLen = (sha256.Size + 2) / 3 * 4
	var out [3 + encLen]byte
	copy(out[:], "v1,")
	base64.StdEncoding.Encode(out[3:], mac.Sum(nil))
	return string(out[:]), nil
}

func standardTimeOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(standardTime)
}
