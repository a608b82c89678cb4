package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// Acceptance 2: the stream, the rule's custom MP4 object template and what it must make.
const (
	recDomain   = "rec.example.com"
	recApp      = "live"
	recStream   = "acceptance2"
	recTemplate = "e2e/{AppName}/{StreamName}/part-{Sequence}"
	// publishSeconds of media at 10 s cycles make at least two MP4 files.
	publishSeconds = 25
	// settleTimeout bounds the publish plus the recording's end and uploads.
	settleTimeout = 90 * time.Second
)

var recObjectKey = regexp.MustCompile(`^e2e/live/` + recStream + `/part-\d+(_\d+)?\.mp4$`)

// recFile is the part of a FileView the test reads.
type recFile struct {
	ID        string `json:"id"`
	Format    string `json:"format"`
	Seq       int    `json:"seq"`
	State     string `json:"state"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	ObjectKey string `json:"object_key"`
	Bytes     int64  `json:"bytes"`
	URL       string `json:"url"`
}

type recDetail struct {
	ID    string    `json:"id"`
	State string    `json:"state"`
	Mode  string    `json:"mode"`
	Files []recFile `json:"files"`
}

// TestRecordingsAcceptance is acceptance 2: a rule made through the rules form (MP4 in 10 s
// cycles with a custom template, and HLS to cut from), a publish, the recording found by its
// stream name, an MP4 played to 5 s in the page, downloaded byte for byte, and a clip cut
// through the clip form that ffprobe accepts.
func TestRecordingsAcceptance(t *testing.T) {
	h := newHarness(t, "")
	h.signIn()

	createRuleThroughForm(t, h)

	pub := startPublisher(t, h.srv.RTMPURL(recApp+"/"+recStream+"?vhost="+recDomain),
		publishOptions{Seconds: publishSeconds, Size: "640x360"})
	rec := waitRecordingSettled(t, h.srv, pub)
	var mp4s []recFile
	hasHLS := false
	for _, f := range rec.Files {
		switch f.Format {
		case "mp4":
			mp4s = append(mp4s, f)
		case "hls":
			hasHLS = true
		}
	}
	require.GreaterOrEqual(t, len(mp4s), 2, "a %d s publish in 10 s cycles made MP4 files %+v", publishSeconds, mp4s)
	require.True(t, hasHLS, "the rule records HLS, yet the recording has no HLS file: %+v", rec.Files)

	// Find it by stream name in the search form.
	h.route("#/recordings")
	h.waitVisible(`form[data-form="recording-search"]`)
	h.setValue(`form[data-form="recording-search"] [name="stream"]`, recStream)
	h.click(`form[data-form="recording-search"] button[type="submit"]`)
	h.waitFor("the search in the hash", `location.hash.includes("stream=`+recStream+`")`)
	row := fmt.Sprintf(`tr[data-id=%q]`, rec.ID)
	h.waitVisible(row)
	require.Equal(t, 1, h.count(`table tbody tr[data-id]`), "the search by stream name lists other recordings")
	require.Contains(t, h.text(row), recDomain+"/"+recApp+"/"+recStream)
	h.screenshot("list")
	h.phone()
	h.waitVisible(row)
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the recordings list scrolls sideways on a 375 px screen")
	h.screenshot("list-phone")
	h.desktop()
	// A reload keeps the search (it lives in the hash).
	h.open(eval[string](h.browser, "location.href"))
	h.waitVisible(row)
	require.Equal(t, recStream, eval[string](h.browser, `document.querySelector('form[data-form="recording-search"] [name="stream"]').value`))

	// Open it.
	h.click(row + " a")
	h.waitVisible("dl.props")
	h.waitVisible(`tr[data-format="mp4"] [data-action="play"]`)
	require.Contains(t, h.text("dl.props"), rec.ID)
	require.Equal(t, len(rec.Files), h.count(`tr[data-format]`), "the detail lists other files than the API")
	h.screenshot("detail")

	// Play the first MP4 in the page until 5 s of it have played.
	first := mp4s[0]
	fileRow := fmt.Sprintf(`tr[data-id=%q]`, first.ID)
	key := h.text(fileRow + " code.object-key")
	require.Equal(t, first.ObjectKey, key)
	require.Regexp(t, recObjectKey, key, "the MP4's object key does not follow the rule's template %s", recTemplate)
	h.click(fileRow + ` [data-action="play"]`)
	h.waitFor("the MP4 to play 5 s", `document.querySelector("video#file-player").currentTime >= 5`)
	h.screenshot("playing")

	// Download it through the link and compare with the stored object.
	downloads := t.TempDir()
	h.allowDownloads(downloads)
	h.click(fileRow + ` a[data-action="download"][download]`)
	got := waitDownload(t, downloads, first.Bytes)
	stored, err := os.ReadFile(filepath.Join(h.srv.Data, "buckets", first.Bucket, filepath.FromSlash(first.ObjectKey)))
	require.NoError(t, err, "read the stored object of %s", first.ObjectKey)
	require.Equal(t, sha256.Sum256(stored), sha256.Sum256(got), "the downloaded MP4 differs from the stored object")

	// Cut a clip of 4 s to 14 s into the recording through the clip form.
	clipForm := `form[data-form="clip"]`
	h.waitVisible(clipForm + ` button[type="submit"]`)
	require.False(t, eval[bool](h.browser, `document.querySelector('form[data-form="clip"] fieldset').disabled`),
		"the clip form is off although the recording has HLS slices")
	require.True(t, eval[bool](h.browser, `document.querySelector('[data-reason="no-hls"]').offsetParent === null`),
		"the page says a recording with HLS slices has none")
	start, end := clipRange(h)
	h.setValue(clipForm+` [name="start_time"]`, start)
	h.setValue(clipForm+` [name="end_time"]`, end)
	h.click(clipForm + ` button[type="submit"]`)
	h.waitVisible(`[data-result="clip"] [data-action="open-clip"]`)
	clipURL := eval[string](h.browser, `document.querySelector('[data-result="clip"] a[data-action="download"]').href`)
	h.click(`[data-result="clip"] [data-action="play"]`)
	h.waitFor("the clip to play", `document.querySelector("video#file-player").currentTime >= 1`)
	h.screenshot("clip")

	// An index over the recording's range (the form's default) plays as HLS in the page.
	h.click(`form[data-form="index"] button[type="submit"]`)
	h.waitVisible(`[data-result="index"] [data-action="play"]`)
	h.click(`[data-result="index"] [data-action="play"]`)
	h.waitFor("the index to play", `document.querySelector("video#file-player").currentTime >= 1`)
	h.screenshot("index")

	// The clip's file, fetched through its signed link, is an MP4 ffprobe reads.
	clipFile := filepath.Join(t.TempDir(), "clip.mp4")
	require.NoError(t, os.WriteFile(clipFile, fetchURL(t, h.srv, clipURL), 0o644))
	probe := testutil.Probe(t, clipFile)
	require.Empty(t, probe.Stderr, "ffprobe complains about the clip")
	require.Contains(t, probe.Format.FormatName, "mp4")
	require.NotNil(t, probe.Video(), "the clip has no video: %+v", probe.Streams)
	require.Greater(t, probe.Video().Packets(), 0)

	// The clip is a recording of its own (mode clip), linked from the result.
	h.click(`[data-result="clip"] [data-action="open-clip"]`)
	h.waitText("dl.props", "clip")
	h.waitVisible(`tr[data-format="mp4"] [data-action="play"]`)
	h.waitVisible(`[data-reason="no-hls"]`) // a clip has no HLS slices: the page says why it cannot be cut
	require.True(t, eval[bool](h.browser, `document.querySelector('form[data-form="clip"] fieldset').disabled`),
		"the clip form of a recording without HLS slices is on")
	h.phone()
	h.waitVisible("dl.props")
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the recording page scrolls sideways on a 375 px screen")
	h.screenshot("clip-recording-phone")
	h.desktop()

	// An admin deletes the clip's stored file: the page asks first, then shows it deleted.
	clipRec := eval[string](h.browser, `location.hash.split("/")[2]`)
	status, body := h.srv.API(t, http.MethodGet, "/api/v1/recordings/"+clipRec, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var clip recDetail
	require.NoError(t, json.Unmarshal(body, &clip))
	require.Equal(t, "clip", clip.Mode)
	require.Len(t, clip.Files, 1)
	clipObject := filepath.Join(h.srv.Data, "buckets", clip.Files[0].Bucket, filepath.FromSlash(clip.Files[0].ObjectKey))
	require.FileExists(t, clipObject)
	h.click(`[data-action="delete-files"]`)
	h.click(`#confirm [data-action="confirm"]`)
	h.waitText(fmt.Sprintf(`tr[data-id=%q]`, clip.Files[0].ID), "deleted")
	require.Equal(t, 0, h.count(`tr[data-format] a[data-action="download"]`), "a deleted file still offers a download")
	require.NoFileExists(t, clipObject)
	h.screenshot("clip-deleted")
}

// createRuleThroughForm makes the test's rule on #/rules: MP4 in 10 s cycles with the custom
// template, HLS in 2 s slices, no FLV, and no merge window (the recording ends with the publish).
func createRuleThroughForm(t *testing.T, h *harness) {
	t.Helper()
	h.route("#/rules")
	h.click(`button[data-action="new"]`)
	form := `form[data-form="rule"]`
	h.waitVisible(form)
	h.setValue(form+` [name="domain"]`, recDomain)
	h.setValue(form+` [name="app"]`, recApp)
	h.setValue(form+` [name="stream"]`, recStream)
	h.setValue(form+` select[name="mode"]`, "auto")
	h.setChecked(form+` fieldset[data-format="flv"] input[name="enabled"]`, false)
	mp4 := form + ` fieldset[data-format="mp4"]`
	h.setChecked(mp4+` input[name="enabled"]`, true)
	h.setValue(mp4+` [name="cycle_s"]`, "10")
	h.setValue(mp4+` [name="merge_window_s"]`, "0")
	h.setValue(mp4+` [name="object_template"]`, recTemplate)
	hls := form + ` fieldset[data-format="hls"]`
	h.setChecked(hls+` input[name="enabled"]`, true)
	h.setValue(hls+` [name="slice_s"]`, "2")
	h.setValue(hls+` [name="merge_window_s"]`, "0")
	h.waitText(`[data-preview="mp4"]`, "e2e/live/"+recStream+"/part-")
	h.click(form + ` button[type="submit"]`)
	h.waitGone(form)

	status, body := h.srv.API(t, http.MethodGet, "/api/v1/rules", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var list struct {
		Rules []struct {
			ID      string `json:"id"`
			Domain  string `json:"domain"`
			Stream  string `json:"stream"`
			Formats []struct {
				Format         string `json:"format"`
				CycleS         int    `json:"cycle_s"`
				SliceS         int    `json:"slice_s"`
				ObjectTemplate string `json:"object_template"`
			} `json:"formats"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	for _, r := range list.Rules {
		if r.Domain != recDomain || r.Stream != recStream {
			continue
		}
		h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, r.ID))
		formats := map[string]int{}
		for _, f := range r.Formats {
			formats[f.Format]++
			switch f.Format {
			case "mp4":
				require.Equal(t, 10, f.CycleS)
				require.Equal(t, recTemplate, f.ObjectTemplate)
			case "hls":
				require.Equal(t, 2, f.SliceS)
			}
		}
		require.Equal(t, map[string]int{"mp4": 1, "hls": 1}, formats, "the saved rule's formats")
		h.screenshot("rule")
		return
	}
	t.Fatalf("the rules form saved no rule for %s/%s/%s: %s", recDomain, recApp, recStream, body)
}

// waitRecordingSettled waits for the publisher to finish and the recording to be over with
// every file stored, and returns it (from the API: the test's own check, not the page).
func waitRecordingSettled(t *testing.T, srv *server, pub *publisher) recDetail {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	select {
	case <-pub.exited():
	case <-time.After(time.Until(deadline)):
		t.Fatalf("ffmpeg still publishing after %s: %s", settleTimeout, pub.output())
	}
	for {
		if rec, ok := settledRecording(t, srv); ok {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording of %s was not over with its files stored within %s", recStream, settleTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func settledRecording(t *testing.T, srv *server) (recDetail, bool) {
	t.Helper()
	status, body := srv.API(t, http.MethodGet, "/api/v1/recordings?stream="+recStream, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var page struct {
		Items []recDetail `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	if len(page.Items) == 0 || page.Items[0].State != "over" {
		return recDetail{}, false
	}
	require.Len(t, page.Items, 1, "one publish made several recordings")
	status, body = srv.API(t, http.MethodGet, "/api/v1/recordings/"+page.Items[0].ID, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var rec recDetail
	require.NoError(t, json.Unmarshal(body, &rec))
	for _, f := range rec.Files {
		if f.State != "stored" {
			return rec, false
		}
	}
	return rec, len(rec.Files) > 0
}

// allowDownloads lets the browser save downloads into dir without asking.
func (h *harness) allowDownloads(dir string) {
	h.t.Helper()
	h.run("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, cdpbrowser.SetDownloadBehavior,
			cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
}

// waitDownload waits for one finished download of size bytes in dir and returns its bytes.
func waitDownload(t *testing.T, dir string, size int64) []byte {
	t.Helper()
	var names []string
	deadline := time.Now().Add(actionTimeout)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		names = names[:0]
		for _, e := range entries {
			names = append(names, e.Name())
			info, err := e.Info()
			if err != nil || strings.HasSuffix(e.Name(), ".crdownload") || info.Size() != size {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			return b
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no download of %d bytes within %s; the download dir holds %v", size, actionTimeout, names)
	return nil
}

// clipRange returns, as datetime-local values, 4 s and 14 s after the clip form's default
// start (the recording's start), computed in the page so that its time zone applies.
func clipRange(h *harness) (start, end string) {
	h.t.Helper()
	v := eval[[]string](h.browser, `(() => {
		const s = new Date(document.querySelector('form[data-form="clip"] [name="start_time"]').value);
		const p = (n) => String(n).padStart(2, "0");
		const fmt = (d) => d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" +
			p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
		return [fmt(new Date(s.getTime() + 4000)), fmt(new Date(s.getTime() + 14000))];
	})()`)
	require.Len(h.t, v, 2)
	return v[0], v[1]
}

// fetchURL GETs an absolute URL the page showed (a signed link: no credentials needed).
func fetchURL(t *testing.T, srv *server, url string) []byte {
	t.Helper()
	require.True(t, strings.HasPrefix(url, srv.Base+"/"), "the link %s is not on liverec's own origin %s", url, srv.Base)
	resp, err := srv.client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, b)
	return b
}
