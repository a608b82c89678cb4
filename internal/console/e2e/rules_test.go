package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// ruleRefused matches the browser's log of a save the API refused (400): the tests provoke it.
const ruleRefused = `status of 400 .*\[http://127\.0\.0\.1:\d+/api/v1/rules(/[A-Za-z0-9_-]+)?\]$`

// Selectors of the rules page (the form's contract is shared with other tests).
const (
	ruleForm   = `form[data-form="rule"]`
	mp4Set     = ruleForm + ` fieldset[data-format="mp4"]`
	hlsSet     = ruleForm + ` fieldset[data-format="hls"]`
	flvSet     = ruleForm + ` fieldset[data-format="flv"]`
	mp4CycleIn = mp4Set + ` input[name="cycle_s"]`
)

// TestRulesPage creates a rule through the form (MP4 + HLS with custom templates) and sees
// its object names previewed, checks what the API stored, gets the API's validation message
// beside the field at fault, edits the rule and deletes it.
func TestRulesPage(t *testing.T) {
	h := newHarness(t, "")
	// The refused save below is a 400 the browser logs; nothing else may fail.
	h.allowError(ruleRefused)
	h.signIn()
	h.route("#/rules")
	h.waitVisible(`#view button[data-action="new"]`)
	h.waitVisible(`#view tr[data-id]`) // the default rule
	h.waitText(`#view table`, "*/*/*")
	h.screenshot("rules-list")

	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	h.setValue(ruleForm+` input[name="domain"]`, "rules.example.com")
	h.setValue(ruleForm+` input[name="app"]`, "live")
	h.setValue(ruleForm+` input[name="stream"]`, "cam1")
	h.setValue(ruleForm+` select[name="mode"]`, "auto")
	h.setValue(ruleForm+` input[name="endpoint"]`, "local")
	h.setValue(ruleForm+` input[name="bucket"]`, "recordings")
	h.setValue(ruleForm+` input[name="base_path"]`, "tenant1")
	h.setChecked(flvSet+` input[name="enabled"]`, false)
	h.setChecked(mp4Set+` input[name="enabled"]`, true)
	h.setValue(mp4CycleIn, "10")
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "0")
	h.setValue(mp4Set+` input[name="object_template"]`, "custom/{StreamName}/{EscapedStartTime}_clip")
	h.setChecked(hlsSet+` input[name="enabled"]`, true)
	h.setValue(hlsSet+` input[name="cycle_s"]`, "60")
	h.setValue(hlsSet+` input[name="slice_s"]`, "4")
	h.setValue(hlsSet+` input[name="object_template"]`, "custom/{AppName}/{StreamName}/{UnixTimestamp}")
	h.setValue(hlsSet+` input[name="slice_template"]`, "custom/{stream}/seg_{Sequence}")

	// The preview renders the templates for the rule's own stream: no raw variables left.
	for sel, want := range map[string]string{
		`[data-preview="mp4"]`:       "tenant1/custom/cam1/",
		`[data-preview="hls"]`:       "tenant1/custom/live/cam1/",
		`[data-preview="hls_slice"]`: "tenant1/custom/cam1/seg_",
	} {
		h.waitText(ruleForm+" "+sel, want)
		require.NotContains(t, h.text(ruleForm+" "+sel), "{", "%s still shows a template variable", sel)
	}
	require.Contains(t, h.text(ruleForm+` [data-preview="mp4"]`), ".mp4")
	require.Equal(t, "—", h.text(ruleForm+` [data-preview="flv"]`), "a format not recorded has no preview")
	h.screenshot("rule-new-preview")

	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	h.waitText(`#view table`, "rules.example.com/live/cam1")
	h.screenshot("rules-list-created")

	// The API holds exactly what the form said.
	rule := findRule(t, h.srv, "rules.example.com")
	require.Equal(t, recording.DialectNative, rule.Dialect)
	require.Equal(t, "live", rule.App)
	require.Equal(t, "cam1", rule.Stream)
	require.Equal(t, recording.ModeAuto, rule.Mode)
	require.Equal(t, recording.Storage{Endpoint: "local", Bucket: "recordings", BasePath: "tenant1"}, rule.Storage)
	require.Nil(t, rule.StartTime)
	require.Nil(t, rule.EndTime)
	require.Equal(t, []recording.FormatConfig{
		{Format: recording.FormatMP4, CycleS: 10, MergeWindowS: 0, ObjectTemplate: "custom/{StreamName}/{EscapedStartTime}_clip"},
		{Format: recording.FormatHLS, CycleS: 60, SliceS: 4, MergeWindowS: 30,
			ObjectTemplate: "custom/{AppName}/{StreamName}/{UnixTimestamp}", SliceTemplate: "custom/{stream}/seg_{Sequence}"},
	}, rule.Formats)
	row := `#view tr[data-id="` + rule.ID + `"]`
	h.waitText(row, "MP4: 10 s files")

	// A cycle below the native minimum: the API's message shows beside the MP4 cycle and the
	// form stays open with what was typed.
	h.click(row + ` button[data-action="edit"]`)
	h.waitVisible(ruleForm)
	require.Equal(t, "10", eval[string](h.browser, `document.querySelector(`+jsString(mp4CycleIn)+`).value`))
	h.setValue(mp4CycleIn, "2")
	h.click(ruleForm + ` button[type="submit"]`)
	cycleErr := mp4Set + ` .field-error[data-for="cycle_s"]`
	h.waitText(cycleErr, "5–43200")
	require.Equal(t, apiMessage(t, h.srv, rule.ID, 2), h.text(cycleErr), "the message is not the API's")
	require.Zero(t, h.count(hlsSet+` .field-error:not(:empty)`), "the error went to the wrong format")
	require.Equal(t, "true", eval[string](h.browser, `document.querySelector(`+jsString(mp4CycleIn)+`).getAttribute("aria-invalid")`))
	h.waitVisible(ruleForm)
	h.screenshot("rule-edit-invalid")

	// Fix it and change the merge window too: PUT replaces the rule with the form's fields.
	h.setValue(mp4CycleIn, "20")
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "15")
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	h.waitText(row, "MP4: 20 s files")
	edited := findRule(t, h.srv, "rules.example.com")
	require.Equal(t, rule.ID, edited.ID)
	want := rule.Formats
	want[0].CycleS, want[0].MergeWindowS = 20, 15
	require.Equal(t, want, edited.Formats)
	require.Equal(t, rule.Storage, edited.Storage)
	h.screenshot("rules-list-edited")

	h.click(row + ` button[data-action="delete"]`)
	h.waitVisible(`#confirm [data-action="confirm"]`)
	h.screenshot("rule-delete-confirm")
	h.click(`#confirm [data-action="confirm"]`)
	h.waitGone(row)
	status, _ := h.srv.API(t, http.MethodGet, "/api/v1/rules/"+rule.ID, nil)
	require.Equal(t, http.StatusNotFound, status, "the deleted rule is still there")
	h.screenshot("rules-list-deleted")

	// On a phone: the list and the form fit the width (last: the phone view stays).
	h.phone()
	h.waitVisible(`#view tr[data-id]`)
	h.screenshot("rules-list-phone")
	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	h.waitText(ruleForm+` [data-preview="mp4"]`, ".mp4")
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the rules page scrolls sideways on a 375 px screen")
	h.screenshot("rule-new-phone")
}

// TestRulesPlanModePhone writes a plan-mode FLV + MP4 rule on a phone screen: the window's
// fields show only in plan mode, an error of the second format sent lands in its fieldset, and
// the times typed in the browser's zone reach the API as those instants.
func TestRulesPlanModePhone(t *testing.T) {
	h := newHarness(t, "")
	h.allowError(ruleRefused)
	h.signIn()
	h.phone()
	h.route("#/rules")
	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	require.False(t, eval[bool](h.browser, `document.querySelector('[name="start_time"]').checkVisibility()`),
		"the plan window shows outside plan mode")
	h.setValue(ruleForm+` input[name="domain"]`, "plan.example.com")
	h.setValue(ruleForm+` select[name="mode"]`, "plan")
	h.waitVisible(ruleForm + ` input[name="start_time"]`)
	h.setValue(ruleForm+` input[name="start_time"]`, "2031-05-01T08:00")
	h.setValue(ruleForm+` input[name="end_time"]`, "2031-05-01T10:30")
	h.setChecked(flvSet+` input[name="enabled"]`, true)
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "99999")
	h.click(ruleForm + ` button[type="submit"]`)
	// MP4 is formats[1] of the request (FLV comes first): the message goes to MP4's fieldset.
	h.waitText(mp4Set+` .field-error[data-for="merge_window_s"]`, "0–21600")
	require.Zero(t, h.count(flvSet+` .field-error:not(:empty)`), "the error went to the FLV fieldset")
	h.screenshot("rule-plan-phone-invalid")
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "60")
	h.screenshot("rule-plan-phone")
	// The instants the page means, computed by the browser in its own zone.
	start := eval[string](h.browser, `new Date("2031-05-01T08:00").toISOString()`)
	end := eval[string](h.browser, `new Date("2031-05-01T10:30").toISOString()`)
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	h.waitText(`#view table`, "plan.example.com/*/*")

	rule := findRule(t, h.srv, "plan.example.com")
	require.Equal(t, recording.ModePlan, rule.Mode)
	require.NotNil(t, rule.StartTime)
	require.NotNil(t, rule.EndTime)
	wantStart, err := time.Parse(time.RFC3339, start)
	require.NoError(t, err)
	wantEnd, err := time.Parse(time.RFC3339, end)
	require.NoError(t, err)
	require.True(t, rule.StartTime.Equal(wantStart), "start %s, want %s", rule.StartTime, wantStart)
	require.True(t, rule.EndTime.Equal(wantEnd), "end %s, want %s", rule.EndTime, wantEnd)
	require.Equal(t, []string{"flv", "mp4"}, formatNames(rule.Formats))
	require.Equal(t, 60, rule.Formats[1].MergeWindowS)
	h.screenshot("rules-list-plan-phone")
}

// TestRulesDefaultRuleAdminOnly signs in with a key of the default project that is not an
// admin's: the default rule (domain "*") is listed but offers no edit or delete, while the
// project's own rules do.
func TestRulesDefaultRuleAdminOnly(t *testing.T) {
	h := newHarness(t, "")
	status, body := h.srv.API(t, http.MethodPost, "/api/v1/access-keys",
		map[string]any{"project": recording.DefaultProject, "admin": false, "description": "rules e2e"})
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var key struct{ ID, Secret string }
	require.NoError(t, json.Unmarshal(body, &key))
	status, body = h.srv.API(t, http.MethodPost, "/api/v1/rules", map[string]any{
		"domain": "own.example.com", "app": "live", "formats": []map[string]any{{"format": "flv"}},
	})
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var own recording.Rule
	require.NoError(t, json.Unmarshal(body, &own))

	h.signInWith(key.ID, key.Secret)
	h.route("#/rules")
	h.waitVisible(`#view tr[data-id="` + own.ID + `"] button[data-action="edit"]`)
	def := findRule(t, h.srv, "*")
	defRow := `#view tr[data-id="` + def.ID + `"]`
	h.waitText(defRow, "admins only")
	require.Zero(t, h.count(defRow+` button`), "a non-admin is offered to change the default rule")
	h.screenshot("rules-list-non-admin")
}

// findRule returns the only rule of domain, read through the API.
func findRule(t *testing.T, s *server, domain string) recording.Rule {
	t.Helper()
	status, body := s.API(t, http.MethodGet, "/api/v1/rules?domain="+domain, nil)
	require.Equal(t, http.StatusOK, status, "list rules: %s", body)
	var list struct {
		Rules []recording.Rule `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Rules, 1, "rules of %s: %s", domain, body)
	return list.Rules[0]
}

// apiMessage returns the API's own message for an MP4 cycle of cycle seconds on rule id.
func apiMessage(t *testing.T, s *server, id string, cycle int) string {
	t.Helper()
	status, body := s.API(t, http.MethodPut, "/api/v1/rules/"+id, map[string]any{
		"domain": "rules.example.com", "app": "live", "stream": "cam1",
		"formats": []map[string]any{{"format": "mp4", "cycle_s": cycle}},
	})
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	var e struct {
		Error struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e))
	require.Equal(t, "formats[0].cycle_s", e.Error.Field)
	return strings.TrimSpace(e.Error.Message)
}

func formatNames(fs []recording.FormatConfig) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Format)
	}
	return out
}

// TestRulesOnDemandURL writes an on_demand_http rule's on-demand URL through the rule form. It
// is not a rule field but the on_demand_url of the callback configuration of the rule's domain
// and app, which the form creates (standard dialect, only that URL); a publish then asks that
// URL and records when told to. The URL is required in that mode, and one the API refuses
// leaves the form open on the saved rule. Editing prefills the URL and writes the new one to the
// same configuration, keeping its event URL, events and key.
func TestRulesOnDemandURL(t *testing.T) {
	const (
		domain = "od.example.com"
		app    = "live"
		key    = "OnDemandKey0123456789abcdefghijK"
	)
	decide := newOnDemandServer(t)
	hooks := newWebhookReceiver(t, key)
	first := decide.URL + "/v1?token=a"
	second := decide.URL + "/v2"
	h := newHarness(t, "")
	h.allowError(`status of 400 .*\[http://127\.0\.0\.1:\d+/api/v1/callbacks\]$`) // the refused URL below
	h.signIn()
	h.route("#/rules")
	h.click(`#view button[data-action="new"]`)
	h.waitVisible(ruleForm)
	urlIn := ruleForm + ` input[name="on_demand_url"]`
	urlErr := ruleForm + ` .field-error[data-for="on_demand_url"]`
	require.False(t, eval[bool](h.browser, `document.querySelector(`+jsString(urlIn)+`).checkVisibility()`),
		"the on-demand URL shows outside on_demand_http mode")
	h.setValue(ruleForm+` input[name="domain"]`, domain)
	h.setValue(ruleForm+` input[name="app"]`, app)
	h.setValue(ruleForm+` select[name="mode"]`, "on_demand_http")
	h.waitVisible(urlIn)
	require.Contains(t, h.text(ruleForm+` .ondemand`), "Alibaba OnDemandUrl (notify config) · Huawei —")
	h.waitText(ruleForm+` .ondemand-source`, "No callback configuration of "+domain+"/"+app)
	h.setValue(mp4Set+` input[name="merge_window_s"]`, "0") // a stopped publish ends its recording at once
	h.screenshot("rule-ondemand-new")

	// Required: nothing is saved without it.
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitText(urlErr, "required")
	var rules struct {
		Rules []recording.Rule `json:"rules"`
	}
	apiJSON(t, h.srv, http.MethodGet, "/api/v1/rules?domain="+domain, nil, http.StatusOK, &rules)
	require.Empty(t, rules.Rules, "a rule was saved without its on-demand URL")
	h.screenshot("rule-ondemand-required")

	// A URL the API refuses: the rule is saved, the URL is not, and the form stays on the rule.
	h.setValue(urlIn, "ftp://decide.example.com/x")
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitText(urlErr, "The rule was created, but its on-demand URL was not saved")
	status, body := h.srv.API(t, http.MethodPost, "/api/v1/callbacks",
		map[string]any{"domain": domain, "app": app, "on_demand_url": "ftp://decide.example.com/x"})
	require.Equal(t, http.StatusBadRequest, status, "%s", body)
	var refusal struct {
		Error struct{ Message, Field string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &refusal))
	require.Equal(t, "on_demand_url", refusal.Error.Field)
	require.Contains(t, h.text(urlErr), strings.TrimSpace(refusal.Error.Message), "the message is not the API's")
	require.Equal(t, "true", eval[string](h.browser, `document.querySelector(`+jsString(urlIn)+`).getAttribute("aria-invalid")`))
	rule := findRule(t, h.srv, domain)
	require.Equal(t, recording.ModeOnDemandHTTP, rule.Mode)
	require.Empty(t, callbacksOf(t, h.srv, domain, app))
	h.waitVisible(`#view tr[data-id="` + rule.ID + `"]`) // the list shows the saved rule behind the form
	require.Contains(t, h.text(ruleForm+" h2"), "Edit rule "+domain+"/"+app)
	h.screenshot("rule-ondemand-url-refused")

	// A good URL: saving again updates the same rule and creates the configuration.
	h.setValue(urlIn, first)
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	row := `#view tr[data-id="` + rule.ID + `"]`
	h.waitText(row, first)
	require.Equal(t, rule.ID, findRule(t, h.srv, domain).ID, "the retry saved the rule twice")
	cbs := callbacksOf(t, h.srv, domain, app)
	require.Len(t, cbs, 1)
	cb := cbs[0]
	require.Equal(t, first, cb.OnDemandURL)
	require.Equal(t, "standard", cb.Dialect)
	require.Empty(t, cb.URL, "the configuration was created with more than the on-demand URL")
	require.False(t, cb.HasKey)
	h.screenshot("rules-list-ondemand")

	// A real publish asks that URL, and records when told to.
	rec := startPublisher(t, h.srv.RTMPURL(app+"/rec1?vhost="+domain), publishOptions{Size: "320x240"})
	skip := startPublisher(t, h.srv.RTMPURL(app+"/skip1?vhost="+domain), publishOptions{Size: "320x240"})
	eventually(t, "a recording of rec1", func() bool { return recordingState(t, h.srv, "rec1") == "recording" })
	eventually(t, "skip1 not recorded", func() bool { return recordingState(t, h.srv, "skip1") == "not_recorded" })
	ask, ok := decide.asked("rec1")
	require.True(t, ok, "liverec recorded rec1 without asking")
	require.Equal(t, onDemandAsk{path: "/v1", token: "a", domain: domain, app: app, stream: "rec1", codec: ask.codec}, ask)
	require.NotEmpty(t, ask.codec)
	_, ok = decide.asked("skip1")
	require.True(t, ok)
	rec.stop()
	skip.stop()

	// The configuration gets an event URL, events and a key through the API; editing the rule
	// must keep them.
	put := map[string]any{"dialect": "standard", "domain": domain, "app": app, "url": hooks.URL + "/events",
		"on_demand_url": first, "events": []string{"record_started", "file_completed"}, "sign_type": "HMACSHA256", "key": key}
	apiJSON(t, h.srv, http.MethodPut, "/api/v1/callbacks/"+cb.ID, put, http.StatusOK, nil)
	h.reload() // a fresh list: the configurations are loaded with it
	h.click(row + ` button[data-action="edit"]`)
	h.waitVisible(urlIn)
	require.Equal(t, first, eval[string](h.browser, `document.querySelector(`+jsString(urlIn)+`).value`))
	h.waitText(ruleForm+` .ondemand-source`, "From the callback configuration of "+domain+"/"+app)
	h.screenshot("rule-ondemand-edit")
	h.setValue(urlIn, second)
	h.click(ruleForm + ` button[type="submit"]`)
	h.waitGone(ruleForm)
	h.waitText(row, second)
	cbs = callbacksOf(t, h.srv, domain, app)
	require.Len(t, cbs, 1)
	require.Equal(t, apiCallback{ID: cb.ID, Dialect: "standard", Domain: domain, App: app, URL: hooks.URL + "/events",
		OnDemandURL: second, Events: []string{"record_started", "file_completed"}, SignType: "HMACSHA256",
		HasKey: true, Enabled: true}, cbs[0])
	// The key is the one set through the API: a test event is signed with it.
	apiJSON(t, h.srv, http.MethodPost, "/api/v1/callbacks/"+cb.ID+"/test", nil, http.StatusAccepted, nil)
	eventually(t, "the test event to arrive", func() bool { n, _ := hooks.counts(); return n > 0 })
	_, bad := hooks.counts()
	require.Empty(t, bad, "deliveries not signed with the configuration's key")

	// The next stream asks the new URL.
	rec2 := startPublisher(t, h.srv.RTMPURL(app+"/rec2?vhost="+domain), publishOptions{Size: "320x240"})
	eventually(t, "liverec to ask about rec2", func() bool { _, ok := decide.asked("rec2"); return ok })
	ask, _ = decide.asked("rec2")
	require.Equal(t, "/v2", ask.path)
	eventually(t, "a recording of rec2", func() bool { return recordingState(t, h.srv, "rec2") == "recording" })
	rec2.stop()
	h.screenshot("rules-list-ondemand-edited")

	// On a phone: the URL in the list and the form's field fit the width.
	h.phone()
	h.waitText(row, second)
	h.screenshot("rules-list-ondemand-phone")
	h.click(row + ` button[data-action="edit"]`)
	h.waitVisible(urlIn)
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the on-demand rule form scrolls sideways on a 375 px screen")
	h.screenshot("rule-ondemand-edit-phone")
}
