package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// retentionYAML keeps the retention pass from running while a test looks at what it would
// delete (the test cannot see a deletion then; the backend's own tests do).
const retentionYAML = "retention:\n  interval: 1h\n"

// Provoked on purpose and logged by the browser: a pending event recording's 404 and a rule
// the API refuses.
const (
	recordingNotFound = `status of 404 .*\[http://127\.0\.0\.1:\d+/api/v1/recordings/[A-Za-z0-9_-]+\]$`
	retentionSection  = `#retention-preview`
)

// TestRetentionForms: the rule form's "Retention and disk" fieldset (units, the pre-roll cost,
// the API's range error beside its field, the list's summary, an edit), the callbacks form's
// file_deleted event (standard dialect only) and a pending event recording's page.
func TestRetentionForms(t *testing.T) {
	h := newHarness(t, "")
	h.allowError(ruleRefused)
	h.allowError(recordingNotFound)
	h.signIn()

	const domain = "retention.example.com"
	h.route("#/rules")
	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	h.setValue(ruleForm+` input[name="domain"]`, domain)
	h.setValue(ruleForm+` input[name="retention_s"]`, "2")
	h.setValue(ruleForm+` select[name="retention_unit"]`, "days")
	h.setChecked(ruleForm+` input[name="overwrite_when_full"]`, true)
	h.setValue(ruleForm+` input[name="pre_roll_s"]`, "200")
	h.waitText(`[data-hint="pre-roll-cost"]`, "74.0 MB") // 200 × 0.37
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitText(ruleForm+` .field-error[data-for="pre_roll_s"]`, "120")
	h.setValue(ruleForm+` input[name="pre_roll_s"]`, "30")
	h.waitText(`[data-hint="pre-roll-cost"]`, "11.1 MB")
	h.screenshot("rule-retention")
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)

	r := findRule(t, h.srv, domain)
	require.EqualValues(t, 2*86400, r.RetentionS)
	require.True(t, r.OverwriteWhenFull)
	require.Equal(t, 30, r.PreRollS)
	row := fmt.Sprintf(`#view tr[data-id=%q]`, r.ID)
	h.waitText(row, "kept 2 days")
	require.Contains(t, h.text(row), "overwritten when full")
	require.Contains(t, h.text(row), "30 s pre-roll")

	// Editing shows the stored values in the largest whole unit; clearing pre-roll turns it off.
	h.click(row + ` [data-action="edit"]`)
	h.waitVisible(ruleForm)
	require.Equal(t, "2", eval[string](h.browser, `document.querySelector('form[data-form="rule"] [name="retention_s"]').value`))
	require.Equal(t, "days", eval[string](h.browser, `document.querySelector('form[data-form="rule"] [name="retention_unit"]').value`))
	h.setValue(ruleForm+` input[name="retention_s"]`, "90")
	h.setValue(ruleForm+` select[name="retention_unit"]`, "min")
	h.setValue(ruleForm+` input[name="pre_roll_s"]`, "")
	h.setChecked(ruleForm+` input[name="overwrite_when_full"]`, false)
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	r = findRule(t, h.srv, domain)
	require.EqualValues(t, 5400, r.RetentionS)
	require.False(t, r.OverwriteWhenFull)
	require.Zero(t, r.PreRollS)
	h.waitText(row, "kept 90 min")

	// file_deleted: only the standard dialect can send it.
	h.route("#/callbacks")
	h.click(`[data-action="add"]`)
	box := `form[data-form="callback"] input[name="events"][value="file_deleted"]`
	disabled := func() bool { return eval[bool](h.browser, `document.querySelector('`+box+`').disabled`) }
	h.waitVisible(box)
	require.False(t, disabled(), "file_deleted is greyed out for the standard dialect")
	for _, d := range []string{"aliyun", "huawei"} {
		h.setValue(`form[data-form="callback"] select[name="dialect"]`, d)
		require.True(t, disabled(), "file_deleted is offered for the %s dialect", d)
	}
	h.setValue(`form[data-form="callback"] select[name="dialect"]`, "standard")
	require.False(t, disabled())

	// An event recording not stored yet: retried, not "not found" — only when the link says so.
	h.route("#/recordings/evtnotyet?pending=1")
	h.waitText(`[data-state="pending"]`, "not stored yet, retrying")
	h.waitText(`[data-state="pending"]`, "tried 2 times")
	h.route("#/recordings/evtnotyet")
	h.waitText("#view h1", "Recording not found")
}

// Acceptance of the console's part of issue 17: the stream, and the rule made for it.
const (
	evtApp      = "live"
	evtStream   = "evt"
	evtPreRoll  = 5
	evtPostS    = 3
	evtLabel    = "goal 1"
	evtPublishS = 25
)

// retentionDue is the part of a RetentionDue the test reads.
type retentionDue struct {
	ID          string `json:"id"`
	RecordingID string `json:"recording_id"`
}

// TestRetentionEventLockPreview: a rule with retention and pre-roll made through the form; a
// publish; an event marked on the live page with the pre-roll default, which becomes a stored,
// playable event recording with its label; that recording locked through its page (the API
// shows it locked); and the retention preview on the recordings page listing the finished
// recording's file but not the locked one's.
func TestRetentionEventLockPreview(t *testing.T) {
	h := newHarness(t, retentionYAML)
	h.allowError(recordingNotFound) // the event recording's page may ask before it is stored
	h.signIn()

	h.route("#/rules")
	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	h.setValue(ruleForm+` input[name="domain"]`, publishDomain)
	h.setValue(ruleForm+` input[name="app"]`, evtApp)
	h.setValue(ruleForm+` input[name="stream"]`, evtStream)
	h.setChecked(flvSet+` input[name="enabled"]`, false)
	h.setChecked(mp4Set+` input[name="enabled"]`, true)
	h.setValue(mp4Set+` input[name="cycle_s"]`, "0")
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "0") // the recording ends with the publish
	h.setValue(ruleForm+` input[name="retention_s"]`, "1")
	h.setValue(ruleForm+` select[name="retention_unit"]`, "s")
	h.setValue(ruleForm+` input[name="pre_roll_s"]`, fmt.Sprint(evtPreRoll))
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	rule := findRule(t, h.srv, publishDomain)
	require.EqualValues(t, 1, rule.RetentionS)
	require.Equal(t, evtPreRoll, rule.PreRollS)

	pub := startPublisher(t, h.srv.RTMPURL(evtApp+"/"+evtStream), publishOptions{Seconds: evtPublishS, Size: "640x360"})
	h.route("#/live")
	row := rowSel(publishDomain + "/" + evtApp + "/" + evtStream)
	h.waitVisible(row + ` a[href^="#/recordings/"]`)
	// Marked at once: the clip starts at the oldest GOP the pre-roll buffer holds by then.
	h.click(row + ` [data-action="mark-event"]`)
	form := `form[data-form="event"]`
	h.waitVisible(form)
	h.waitFor("the event form to read the rule's pre-roll", `document.querySelector('`+form+`').dataset.preRoll === "`+fmt.Sprint(evtPreRoll)+`"`)
	require.Equal(t, fmt.Sprint(evtPreRoll), eval[string](h.browser, `document.querySelector('`+form+` [name="pre_s"]').value`),
		"pre_s defaults to min(10, the rule's pre-roll)")
	require.Equal(t, "10", eval[string](h.browser, `document.querySelector('`+form+` [name="post_s"]').value`))
	h.setValue(form+` [name="post_s"]`, fmt.Sprint(evtPostS))
	h.setValue(form+` [name="label"]`, evtLabel)
	h.screenshot("event-form")
	h.click(form + ` button[type="submit"]`)
	h.waitText(`[data-result="event"]`, fmt.Sprintf("will be stored in about %d s", evtPostS))
	href := eval[string](h.browser, `document.querySelector('[data-result="event"] a[data-action="open-event"]').getAttribute("href")`)
	require.True(t, strings.HasPrefix(href, "#/recordings/") && strings.HasSuffix(href, "?pending=1"), "the event link %s", href)
	eventID := strings.TrimSuffix(strings.TrimPrefix(href, "#/recordings/"), "?pending=1")
	require.Contains(t, h.text(`[data-result="event"]`), "event recording "+eventID)

	// The link opens the recording once stored (after post_s), with its label, and it plays.
	h.click(`[data-result="event"] a[data-action="open-event"]`)
	h.waitText("dl.props", evtLabel)
	require.Contains(t, h.text("dl.props"), "event")
	h.waitVisible(`tr[data-format="mp4"] [data-action="play"]`)
	h.click(`tr[data-format="mp4"] [data-action="play"]`)
	h.waitFor("the event recording to play 1 s", `document.querySelector("video#file-player").currentTime >= 1`)
	h.screenshot("event-recording")

	// Lock it through the page; the API shows it locked.
	h.click(`[data-action="lock"]`)
	h.waitVisible(`[data-action="unlock"]`)
	h.waitText(".lock-state", "Locked")
	status, body := h.srv.API(t, http.MethodGet, "/api/v1/recordings/"+eventID, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var ev struct {
		Mode   string `json:"mode"`
		Label  string `json:"label"`
		Locked bool   `json:"locked"`
	}
	require.NoError(t, json.Unmarshal(body, &ev))
	require.True(t, ev.Locked, "the page locked the recording, the API says it is not: %s", body)
	require.Equal(t, "event", ev.Mode)
	require.Equal(t, evtLabel, ev.Label)

	// The continuous recording ends with the publish; 1 s later its file is due.
	select {
	case <-pub.exited():
	case <-time.After(settleTimeout):
		t.Fatalf("ffmpeg still publishing after %s: %s", settleTimeout, pub.output())
	}
	var due []retentionDue
	deadline := time.Now().Add(settleTimeout)
	for {
		status, body = h.srv.API(t, http.MethodGet, "/api/v1/retention/preview", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var p struct {
			Files []retentionDue `json:"files"`
		}
		require.NoError(t, json.Unmarshal(body, &p))
		if due = p.Files; len(due) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no file of the finished recording was due within %s", settleTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, f := range due {
		require.NotEqual(t, eventID, f.RecordingID, "the locked event recording is due for deletion")
	}

	// The list shows the event recording, and its mode filter offers "event".
	h.route("#/recordings?stream=" + evtStream)
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, eventID))
	require.Equal(t, 1, h.count(`form[data-form="recording-search"] [name="mode"] option[value="event"]`))
	h.click(retentionSection + ` [data-action="retention-preview"]`)
	for _, f := range due {
		h.waitVisible(fmt.Sprintf(`%s tr[data-id=%q]`, retentionSection, f.ID))
	}
	require.Equal(t, len(due), h.count(retentionSection+` tbody tr[data-id]`), "the page lists other files than the API")
	h.waitText(retentionSection, fmt.Sprintf("would delete %d", len(due)))
	h.screenshot("retention-preview")
}
