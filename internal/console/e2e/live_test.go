package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// publishDomain is the domain of the test publishes: the host of srv.RTMPURL.
const publishDomain = "127.0.0.1"

// liveRule makes every stream of publishDomain record HLS in 1 s slices, so the live playlist
// of a recording appears within a second or two of the publish. Created through the API, it
// also makes the domain this project's, which a kick needs (a domain only the default rule
// covers is nobody's: it is listed to admins, but not theirs to kick).
var liveRule = map[string]any{
	"domain": publishDomain, "app": "*", "stream": "*", "mode": "auto",
	"formats": []map[string]any{{"format": "hls", "cycle_s": 0, "slice_s": 1, "merge_window_s": 0}},
	"storage": map[string]any{"endpoint": "local", "bucket": "recordings"},
}

// newLiveHarness starts liverec with liveRule and a browser, and signs in on the live page.
func newLiveHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, "")
	code, body := h.srv.API(t, http.MethodPost, "/api/v1/rules", liveRule)
	require.Equal(t, http.StatusCreated, code, "create the HLS rule: %s", body)
	h.signIn()
	h.route("#/live")
	return h
}

// rowAppearLimit is acceptance 1's bound: a stream the API lists shows on the page within it.
const rowAppearLimit = 3 * time.Second

// refuseLimit bounds how long a forbidden publisher takes to be refused and exit.
const refuseLimit = 10 * time.Second

// apiStream is the part of a LiveStream the test reads.
type apiStream struct {
	Domain     string `json:"domain"`
	App        string `json:"app"`
	Stream     string `json:"stream"`
	VideoCodec string `json:"video_codec"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
}

// liveStream returns the live stream app/stream as the API lists it, if it does.
func liveStream(t *testing.T, srv *server, app, stream string) (apiStream, bool) {
	t.Helper()
	code, body := srv.API(t, http.MethodGet, "/api/v1/streams", nil)
	require.Equal(t, http.StatusOK, code, "GET /api/v1/streams: %s", body)
	var list struct {
		Streams []apiStream `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(body, &list), "decode the streams: %s", body)
	for _, s := range list.Streams {
		if s.App == app && s.Stream == stream {
			return s, true
		}
	}
	return apiStream{}, false
}

// waitListed polls the API until it lists app/stream and returns it with when it first did.
func waitListed(t *testing.T, srv *server, app, stream string) (apiStream, time.Time) {
	t.Helper()
	var s apiStream
	eventually(t, "the API lists "+app+"/"+stream, func() bool {
		var ok bool
		s, ok = liveStream(t, srv, app, stream)
		return ok
	})
	return s, time.Now()
}

func rowSel(key string) string { return fmt.Sprintf(`#live-streams tr[data-stream=%q]`, key) }

// TestLivePageWatchAndKick is acceptance 1: a live ffmpeg publisher shows on the live page
// within 3 s of the API listing it, with its codec and resolution; its live HLS plays (the
// video's currentTime advances); kicking it removes the row and ends ffmpeg.
func TestLivePageWatchAndKick(t *testing.T) {
	h := newLiveHarness(t)
	h.waitText("#live-empty", "No stream is live")
	h.waitText("#live-count", "0 live")
	h.waitText("#blocks-empty", "No stream is forbidden")
	h.screenshot("live-empty")

	started := time.Now()
	pub := startPublisher(t, h.srv.RTMPURL("live/cam"), publishOptions{})
	s, listed := waitListed(t, h.srv, "live", "cam")
	key := s.Domain + "/live/cam"
	row := rowSel(key)
	h.waitFor("the row of "+key+" with H264 1280×720",
		fmt.Sprintf(`(() => { const r = document.querySelector(%s); return !!r && r.innerText.includes("H264") && r.innerText.includes("1280×720") })()`,
			jsString(row)))
	shown := time.Since(listed)
	t.Logf("the row appeared %s after ffmpeg started, %s after the API listed the stream", time.Since(started), shown)
	require.LessOrEqualf(t, shown, rowAppearLimit, "the row appeared %s after the API listed the stream", shown)
	h.waitText("#live-count", "1 live")
	h.waitText(row, "recording") // the default rule records it
	require.Equal(t, 1, h.count(row+` a[href^="#/recordings/"]`), "the row links to its recording")

	// The filter is applied on the page: no match hides the row and says so.
	h.setValue(`form[data-form="live-filter"] input[name="filter"]`, "no-such-stream")
	h.waitText("#live-empty", "No live stream matches the filter")
	h.waitText("#live-count", "0 of 1 live")
	h.setValue(`form[data-form="live-filter"] input[name="filter"]`, "live/CAM")
	h.waitVisible(row)
	h.waitText("#live-count", "1 live")

	// Uptime ticks without a reload.
	up := h.text(row + " td:nth-child(8)")
	h.waitFor("the uptime to tick", fmt.Sprintf(`document.querySelector(%s).innerText !== %s`,
		jsString(row+" td:nth-child(8)"), jsString(up)))

	h.click(row + ` [data-action="watch"]`)
	h.waitVisible("#live-player")
	waitPlayer(h, "the live player to play", `v.currentTime > 0`)
	t0 := eval[float64](h.browser, `document.querySelector("#live-player").currentTime`)
	waitPlayer(h, "the live player's currentTime to advance", fmt.Sprintf(`v.currentTime > %f`, t0+1))
	// The refresh updates the row in place: the player keeps playing through it.
	require.Equal(t, 1, h.count("#live-player"))
	h.screenshot("live-watching")

	h.click(row + ` [data-action="kick"]`)
	h.waitVisible(`#confirm [data-action="confirm"]`)
	h.screenshot("live-kick-confirm")
	h.click(`#confirm [data-action="confirm"]`)
	h.waitGone(row)
	h.waitText("#live-empty", "No stream is live")
	h.waitText("#live-watch-status", "no longer live")
	err := pub.waitExit(t)
	t.Logf("kicked ffmpeg exited with: %v", err)
	_, still := liveStream(t, h.srv, "live", "cam")
	require.False(t, still, "the API still lists the kicked stream")
	h.screenshot("live-kicked")

	// Phone last: screenshots after leaving the emulation may keep its size.
	h.phone()
	h.waitVisible("#live-empty")
	requireNoSideScroll(t, h)
	h.screenshot("live-kicked-phone")
}

// requireNoSideScroll fails the test when the page is wider than a phone's screen (wide
// tables scroll inside their own box).
func requireNoSideScroll(t *testing.T, h *harness) {
	t.Helper()
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the live page scrolls sideways on a 375 px screen")
}

// TestLivePageForbidAndResume forbids a live stream from the page: it is disconnected, shows
// in the forbidden table, and a new publish of it is refused; resume lifts the block.
func TestLivePageForbidAndResume(t *testing.T) {
	h := newLiveHarness(t)
	h.waitText("#live-empty", "No stream is live")

	pub := startPublisher(t, h.srv.RTMPURL("live/cam2"), publishOptions{})
	s, _ := waitListed(t, h.srv, "live", "cam2")
	key := s.Domain + "/live/cam2"
	row := rowSel(key)
	h.waitVisible(row)

	// A resume time in the past is refused, with the API's message beside the field (the
	// browser logs the 400 it answers).
	h.allowError(`status of 400 .*\[http://[^ ]+/api/v1/blocks/127\.0\.0\.1/live/cam2\]`)
	h.click(row + ` [data-action="forbid"]`)
	h.waitVisible(`form[data-form="forbid"]`)
	h.setValue(`form[data-form="forbid"] input[name="resume_at"]`, "2000-01-01T00:00")
	h.click(`form[data-form="forbid"] [data-action="forbid"]`)
	h.waitText(`form[data-form="forbid"] .field-error[data-for="resume_at"]`, "future")
	h.screenshot("live-forbid-error")

	h.setValue(`form[data-form="forbid"] input[name="resume_at"]`, "")
	h.click(`form[data-form="forbid"] [data-action="forbid"]`)
	blockRow := fmt.Sprintf(`#blocks tr[data-id=%q]`, key)
	h.waitVisible(blockRow)
	h.waitText(blockRow, "until resumed")
	h.waitText("#notice", "disconnected")
	h.waitGone(row)
	pub.waitExit(t)
	h.screenshot("live-forbidden")

	// A new publish of the forbidden stream is refused: ffmpeg exits non-zero, quickly.
	again := startPublisher(t, h.srv.RTMPURL("live/cam2"), publishOptions{})
	select {
	case <-again.exited():
	case <-time.After(refuseLimit):
		t.Fatalf("a publisher of the forbidden stream still runs after %s", refuseLimit)
	}
	require.Error(t, again.err, "ffmpeg publishing a forbidden stream exited cleanly; output: %s", again.output())
	_, listed := liveStream(t, h.srv, "live", "cam2")
	require.False(t, listed, "the forbidden stream is listed live")

	h.click(blockRow + ` [data-action="resume"]`)
	h.waitGone(blockRow)
	h.waitText("#blocks-empty", "No stream is forbidden")
	code, body := h.srv.API(t, http.MethodGet, "/api/v1/blocks", nil)
	require.Equal(t, http.StatusOK, code, "GET /api/v1/blocks: %s", body)
	var blocks struct {
		Total int `json:"total"`
	}
	require.NoError(t, json.Unmarshal(body, &blocks))
	require.Zero(t, blocks.Total, "blocks after resume: %s", body)
	h.screenshot("live-resumed")

	// Resumed, the stream may publish again and shows on the page, here on a phone.
	startPublisher(t, h.srv.RTMPURL("live/cam2"), publishOptions{})
	h.phone()
	h.waitText(row, "H264")
	h.waitVisible(row + ` [data-action="watch"]`)
	requireNoSideScroll(t, h)
	h.screenshot("live-republished-phone")
}

// waitPlayer waits until cond (JavaScript over the video element v) holds; on time-out it
// fails with the player's state and the page's messages, to tell a stall from an error.
func waitPlayer(h *harness, what, cond string) {
	h.t.Helper()
	js := `(() => { const v = document.querySelector("#live-player"); return !!v && (` + cond + `) })()`
	ctx, cancel := context.WithTimeout(h.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(actionTimeout)))
	if err == nil {
		return
	}
	state := eval[string](h.browser, `(() => {
		const v = document.querySelector("#live-player");
		const b = [];
		for (let i = 0; v && i < v.buffered.length; i++) b.push(v.buffered.start(i).toFixed(2) + "-" + v.buffered.end(i).toFixed(2));
		return JSON.stringify({status: document.querySelector("#live-watch-status")?.innerText,
			notice: document.querySelector("#notice")?.innerText, currentTime: v?.currentTime, paused: v?.paused,
			readyState: v?.readyState, networkState: v?.networkState, error: v?.error?.message, buffered: b.join(" ")});
	})()`)
	h.t.Fatalf("wait for %s: %v; player: %s", what, err, state)
}
