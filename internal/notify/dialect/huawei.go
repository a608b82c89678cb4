package dialect

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// huaweiTime is Huawei's start_time/end_time format, yyyy-mm-ddThh:mm:ssZ in UTC (seed 002).
const huaweiTime = "2006-01-02T15:04:05Z"

// huaweiBody is the recording callback in seed 002 / reference B.4 order. Fields that only some
// event types carry are omitempty or sit in the embedded *huaweiFile: a field seed 002 documents
// as conditional is absent when its condition does not hold, never an empty string.
type huaweiBody struct {
	ProjectID string `json:"project_id"`
	// JobID identifies one file (seed 002: "Name of a file"), the same on its
	// RECORD_NEW_FILE_START and RECORD_FILE_COMPLETE: liverec's file ID; those two events only.
	JobID         string `json:"job_id,omitempty"`
	TaskID        string `json:"task_id"`
	EventType     string `json:"event_type"`
	PublishDomain string `json:"publish_domain"`
	App           string `json:"app"`
	Stream        string `json:"stream"`
	RecordFormat  string `json:"record_format,omitempty"`
	// *huaweiFile is set on RECORD_FILE_COMPLETE only; nil leaves its fields out.
	*huaweiFile
	// ErrorMessage is set on RECORD_FAILED only, present even when empty.
	ErrorMessage *string `json:"error_message,omitempty"`
	// AuthSign and AuthTimestamp are present only with a key (reference B.4).
	AuthSign      string `json:"auth_sign,omitempty"`
	AuthTimestamp string `json:"auth_timestamp,omitempty"`
}

// huaweiFile holds the RECORD_FILE_COMPLETE-only fields. asset_id and play_url are left out:
// they exist only when Huawei VOD hosts the recording, which liverec does not do; play_url is
// signed as "".
type huaweiFile struct {
	// DownloadURL is absent when no URL could be made for the object (signed as "").
	DownloadURL    string `json:"download_url,omitempty"`
	FileSize       int64  `json:"file_size"`
	RecordDuration int64  `json:"record_duration"`
	StartTime      string `json:"start_time,omitempty"`
	EndTime        string `json:"end_time,omitempty"`
	// Width and Height are a video recording's ("Width of a video recording"): absent for audio.
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	ObsLocation string `json:"obs_location"`
	ObsBucket   string `json:"obs_bucket"`
	ObsObject   string `json:"obs_object"`
}

// huaweiAlloc puts the body and its file part in one allocation.
type huaweiAlloc struct {
	body huaweiBody
	file huaweiFile
}

// huaweiEventType maps an internal event to Huawei's event_type, "" when Huawei has none.
func huaweiEventType(t recording.Event) string {
	switch t {
	case recording.EventRecordStarted:
		return "RECORD_START"
	case recording.EventFileStarted:
		return "RECORD_NEW_FILE_START"
	case recording.EventFileCompleted:
		return "RECORD_FILE_COMPLETE"
	case recording.EventRecordOver:
		return "RECORD_OVER"
	case recording.EventRecordFailed:
		return "RECORD_FAILED"
	}
	return ""
}

// huaweiFormat is record_format, upper-case HLS | FLV | MP4 (reference B.4).
func huaweiFormat(f recording.Format) string {
	switch f {
	case recording.FormatHLS:
		return "HLS"
	case recording.FormatFLV:
		return "FLV"
	case recording.FormatMP4:
		return "MP4"
	}
	return strings.ToUpper(string(f))
}

func (e Encoder) encodeHuawei(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, error) {
	d := &ev.Data
	a := &huaweiAlloc{}
	b := &a.body
	*b = huaweiBody{
		ProjectID:     d.Project,
		TaskID:        d.RecordingID,
		EventType:     huaweiEventType(ev.Type),
		PublishDomain: d.Domain,
		App:           d.App,
		Stream:        d.Stream,
		RecordFormat:  huaweiFormat(d.Format),
	}
	switch ev.Type {
	case recording.EventFileStarted:
		b.JobID = d.FileID
	case recording.EventFileCompleted:
		b.JobID = d.FileID
		a.file = huaweiFile{
			DownloadURL:    d.DownloadURL,
			FileSize:       d.Bytes,
			RecordDuration: int64(d.Duration.Round(time.Second) / time.Second),
			StartTime:      huaweiTimeOf(d.StartTime),
			EndTime:        huaweiTimeOf(d.EndTime),
			Width:          d.Width,
			Height:         d.Height,
			ObsLocation:    d.Endpoint,
			ObsBucket:      d.Bucket,
			ObsObject:      strings.TrimLeft(d.ObjectKey, "/"),
		}
		b.huaweiFile = &a.file
	case recording.EventRecordFailed:
		b.ErrorMessage = &d.Reason
	}
	if key != "" {
		if err := e.signHuawei(b, cfg.SignType, key, now); err != nil {
			return Request{}, err
		}
	}
	body, err := marshal(b)
	if err != nil {
		return Request{}, err
	}
	// Huawei signs in the body only; no extra headers.
	return Request{URL: cfg.URL, Header: newHeaders(ev, 0).h, Body: body}, nil
}

// signHuawei sets auth_timestamp (the signature's EXPIRY, not the send time — reference note 2)
// and auth_sign, lower-case hex.
func (e Encoder) signHuawei(b *huaweiBody, signType, key string, now time.Time) error {
	exp := e.HuaweiExpiry
	if exp < 0 {
		return fmt.Errorf("negative huawei expiry %s", exp)
	}
	if exp == 0 {
		exp = DefaultHuaweiExpiry
	}
	b.AuthTimestamp = strconv.FormatInt(now.Add(exp).Unix(), 10)
	switch signType {
	case recording.SignMD5:
		b.AuthSign = huaweiMD5(key, b.AuthTimestamp)
	case recording.SignHMACSHA256, "":
		// HMACSHA256 is Huawei's default and the console's recommendation (reference B.4).
		download := ""
		if b.huaweiFile != nil {
			download = b.DownloadURL
		}
		b.AuthSign = huaweiHMAC(key, b.AuthTimestamp, jsonString(b.EventType), jsonString(b.PublishDomain),
			jsonString(b.App), jsonString(b.Stream), jsonString(download), "")
	default:
		return errors.New("unknown huawei sign type " + strconv.Quote(signType))
	}
	return nil
}

// huaweiMD5 is auth_sign = MD5(key + auth_timestamp) (seed 002).
func huaweiMD5(key, ts string) string {
	var buf [128]byte
	m := append(append(buf[:0], key...), ts...)
	sum := md5.Sum(m)
	var out [md5.Size * 2]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// huaweiHMAC is auth_sign = HMACSHA256(auth_timestamp + event_type + publish_domain + app +
// stream + download_url + play_url, key), absent fields as "" (seed 002).
func huaweiHMAC(key string, parts ...string) string {
	n := len(key)
	for _, p := range parts {
		n += len(p)
	}
	// One allocation for the key bytes and the message; hmac.New copies the key.
	buf := make([]byte, 0, n)
	buf = append(buf, key...)
	m := buf[len(key):]
	for _, p := range parts {
		m = append(m, p...)
	}
	mac := hmac.New(sha256.New, buf[:len(key)])
	mac.Write(m)
	var out [sha256.Size * 2]byte
	hex.Encode(out[:], mac.Sum(nil))
	return string(out[:])
}

func huaweiTimeOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(huaweiTime)
}
