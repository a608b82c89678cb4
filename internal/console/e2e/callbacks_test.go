package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// callbacksYAML makes a failing delivery give up within about a second: retries 50–200 ms
// apart, for at most 1 s after the event.
const callbacksYAML = `callbacks:
  retry_min: 50ms
  retry_max: 200ms
  retry_max_age: 1s
  delivery_timeout: 2s
`

// hookCall is one request the receiver got.
type hookCall struct {
	eventID string
	body    map[string]any
	status  int // what the receiver answered
}

// hookReceiver is a Huawei-dialect callback server on loopback that answers 200, or 500 while
// failing is set, and keeps every request.
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	failing bool
	calls   []hookCall
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, err := io.ReadAll(req.Body)
		c := hookCall{eventID: req.Header.Get("X-Liverec-Event-Id"), status: http.StatusOK}
		if err == nil {
			err = json.Unmarshal(raw, &c.body)
		}
		r.mu.Lock()
		if r.failing {
			c.status = http.StatusInternalServerError
		}
		if err != nil {
			c.status = http.StatusBadRequest
		}
		r.calls = append(r.calls, c)
		r.mu.Unlock()
		w.WriteHeader(c.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) setFailing(on bool) {
	r.mu.Lock()
	r.failing = on
	r.mu.Unlock()
}

func (r *hookReceiver) snapshot() []hookCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookCall(nil), r.calls...)
}

// verifyHuaweiHMAC checks a Huawei callback body's auth_sign the way a Huawei receiver does,
// from the body alone: auth_sign = hex(HMAC-SHA256(key, auth_timestamp + event_type +
// publish_domain + app + stream + download_url + play_url)), absent fields as "", and
// auth_timestamp (the signature's expiry, Unix seconds) not yet past.
func verifyHuaweiHMAC(body map[string]any, key string, now time.Time) error {
	str := func(k string) string { s, _ := body[k].(string); return s }
	ts := str("auth_timestamp")
	exp, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("auth_timestamp %q is not Unix seconds", ts)
	}
	if time.Unix(exp, 0).Before(now) {
		return fmt.Errorf("auth_timestamp %s has expired", ts)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + str("event_type") + str("publish_domain") + str("app") + str("stream") +
		str("download_url") + str("play_url")))
	if want := hex.EncodeToString(mac.Sum(nil)); str("auth_sign") != want {
		return fmt.Errorf("auth_sign %q, want %q", str("auth_sign"), want)
	}
	return nil
}

// TestCallbacksAcceptance is acceptance 3: a Huawei HMACSHA256 callback added through the
// form with a generated key; its test event reaches a real receiver with a valid auth_sign and
// shows delivered; against a failing receiver it shows failed on the deliveries page, and
// redeliver delivers it once the receiver recovers.
func TestCallbacksAcceptance(t *testing.T) {
	rcv := newHookReceiver(t)
	h := newHarness(t, callbacksYAML)
	h.signIn()

	h.route("#/callbacks")
	h.waitText("#view", "No callbacks yet")
	h.screenshot("callbacks-empty")

	// Add the callback through the form.
	const form = `form[data-form="callback"]`
	h.click(`[data-action="add"]`)
	h.waitVisible(form)
	h.setValue(form+` [name="domain"]`, "cb.example.com")
	h.setValue(form+` [name="app"]`, "live")
	h.setValue(form+` [name="dialect"]`, "huawei")
	h.setValue(form+` [name="url"]`, rcv.URL+"/hook")
	h.setChecked(form+` input[name="events"][value="file_completed"]`, true)
	h.setChecked(form+` input[name="events"][value="record_over"]`, true)
	require.True(t, eval[bool](h.browser, `document.querySelector('input[name="events"][value="ondemand_failed"]').disabled`),
		"the huawei dialect cannot send ondemand_failed, yet its box is enabled")
	h.setValue(form+` [name="auth"]`, "HMACSHA256")
	// Generate asks the server (POST /api/v1/callback-keys) for a key of the dialect's form.
	h.click(form + ` [data-action="generate"]`)
	h.waitFor("a generated key", `document.querySelector('`+form+` [name="key"]').value !== ''`)
	key := eval[string](h.browser, `document.querySelector('`+form+` [name="key"]').value`)
	require.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9]{32}$`), key, "generated huawei key")
	h.screenshot("callback-form")
	h.click(form + ` [data-action="save"]`)
	h.waitGone(form)
	h.waitVisible(`tr[data-id]`)
	id := eval[string](h.browser, `document.querySelector('tr[data-id]').dataset.id`)
	row := fmt.Sprintf(`tr[data-id=%q]`, id)
	h.waitText(row, "HMACSHA256")

	// The stored configuration is what the form said.
	status, raw := h.srv.API(t, http.MethodGet, "/api/v1/callbacks/"+id, nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var stored struct {
		Dialect  string   `json:"dialect"`
		Domain   string   `json:"domain"`
		App      string   `json:"app"`
		URL      string   `json:"url"`
		Events   []string `json:"events"`
		SignType string   `json:"sign_type"`
		HasKey   bool     `json:"has_key"`
	}
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, "huawei", stored.Dialect)
	require.Equal(t, "cb.example.com", stored.Domain)
	require.Equal(t, "live", stored.App)
	require.Equal(t, rcv.URL+"/hook", stored.URL)
	require.ElementsMatch(t, []string{"file_completed", "record_over"}, stored.Events)
	require.Equal(t, "HMACSHA256", stored.SignType)
	require.True(t, stored.HasKey)
	h.screenshot("callbacks-list")

	// A test event reaches the receiver, signed, and the page shows it delivered.
	h.click(row + ` [data-action="test"]`)
	h.waitVisible(row + ` .test-result .state-delivered`)
	calls := rcv.snapshot()
	require.Len(t, calls, 1, "the receiver should get exactly the test event")
	require.Equal(t, http.StatusOK, calls[0].status)
	require.Equal(t, "RECORD_FILE_COMPLETE", calls[0].body["event_type"])
	require.Equal(t, "cb.example.com", calls[0].body["publish_domain"])
	require.NoError(t, verifyHuaweiHMAC(calls[0].body, key, time.Now()), "test event's auth_sign")
	h.waitText(row+` .test-result`, "HTTP 200")
	h.screenshot("callback-test-delivered")

	// Against a failing receiver the next test event fails after its (short) retries.
	rcv.setFailing(true)
	h.click(row + ` [data-action="test"]`)
	h.waitVisible(row + ` .test-result .state-failed`)
	failedID := eval[string](h.browser, `document.querySelector('`+row+` .test-result').dataset.delivery`)
	require.NotEmpty(t, failedID)
	failing := rcv.snapshot()[1:]
	require.NotEmpty(t, failing)
	for _, c := range failing {
		require.Equal(t, http.StatusInternalServerError, c.status)
		require.NoError(t, verifyHuaweiHMAC(c.body, key, time.Now().Add(-time.Minute)), "failing attempt's auth_sign")
	}
	failedEvent := failing[0].eventID
	require.NotEmpty(t, failedEvent)
	h.screenshot("callback-test-failed")

	// The deliveries page (through the row's link) shows it failed, with its attempts.
	h.click(row + ` .test-result a`)
	drow := fmt.Sprintf(`tr[data-id=%q]`, failedID)
	h.waitVisible(drow + ` .state-failed`)
	require.Contains(t, eval[string](h.browser, `location.hash`), "callback_id="+id)
	h.waitText(drow, "HTTP 500")
	h.click(drow + ` [data-action="attempts"]`)
	attempts := fmt.Sprintf(`tr[data-attempts-for=%q]`, failedID)
	h.waitText(attempts, "HTTP 500")
	require.Equal(t, len(failing), h.count(attempts+` tbody tr`), "one logged attempt per request the receiver got")
	h.screenshot("deliveries-failed")

	// The Failures quick filter keeps the hash and shows only failed ones.
	h.click(`[data-action="failures"]`)
	h.waitFor("the failures filter in the hash", `location.hash.includes("state=failed")`)
	h.waitVisible(drow + ` .state-failed`)
	require.Equal(t, 0, h.count(`tr[data-id] .state-delivered`), "the failures filter shows a delivered one")
	h.screenshot("deliveries-failures-filter")

	// Once the receiver recovers, redeliver delivers it: same event, valid signature.
	rcv.setFailing(false)
	before := len(rcv.snapshot())
	h.click(drow + ` [data-action="redeliver"]`)
	// Pending again, it leaves the failures list; the callback's list follows it to delivered.
	h.waitGone(drow)
	h.route("#/deliveries?callback_id=" + id)
	h.waitVisible(drow + ` .state-delivered`)
	after := rcv.snapshot()
	require.Len(t, after, before+1, "redeliver should send the delivery once")
	last := after[len(after)-1]
	require.Equal(t, http.StatusOK, last.status)
	require.Equal(t, failedEvent, last.eventID, "redelivery carries the failed event's id")
	require.NoError(t, verifyHuaweiHMAC(last.body, key, time.Now()), "redelivery's auth_sign")
	require.Equal(t, 0, h.count(drow+` [data-action="redeliver"]`), "a delivered row still offers redeliver")
	h.screenshot("deliveries-redelivered")

	// Both pages on a phone.
	h.phone()
	h.route("#/callbacks")
	h.waitVisible(row)
	h.screenshot("callbacks-phone")
	h.route("#/deliveries")
	h.waitVisible(drow)
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the deliveries page scrolls sideways on a 375 px screen")
	h.screenshot("deliveries-phone")
	h.desktop()
}

// TestCallbackFormEditDelete walks the rest of the callbacks page: API validation messages
// beside their field, the modes each dialect offers, editing with the stored key kept,
// disable/enable, and delete after confirming.
func TestCallbackFormEditDelete(t *testing.T) {
	h := newHarness(t, "")
	// The two refused saves below are 400s the browser logs.
	h.allowError(`status of 400 .*\[http://[^ ]+/api/v1/callbacks\]`)
	h.signIn()
	h.route("#/callbacks")
	h.waitText("#view", "No callbacks yet")

	const form = `form[data-form="callback"]`
	modes := func() []string {
		return eval[[]string](h.browser, `[...document.querySelectorAll('`+form+` [name="auth"] option:not([disabled])')].map((o) => o.value)`)
	}
	h.click(`[data-action="add"]`)
	h.waitVisible(form)
	require.Equal(t, []string{"none", "webhooks"}, modes(), "standard dialect's modes")
	h.setValue(form+` [name="dialect"]`, "huawei")
	require.Equal(t, []string{"none", "MD5", "HMACSHA256"}, modes(), "huawei dialect's modes")
	h.setValue(form+` [name="dialect"]`, "standard")
	h.setValue(form+` [name="domain"]`, "form.example.com")
	h.setValue(form+` [name="url"]`, "ftp://receiver.example.com/hook")
	h.click(form + ` [data-action="save"]`)
	h.waitText(form+` .field-error[data-for="url"]`, "http")
	h.screenshot("callback-form-url-error")

	// The API refuses a short key; its message shows beside the key.
	h.setValue(form+` [name="url"]`, "http://127.0.0.1:9/hook")
	h.setValue(form+` [name="auth"]`, "webhooks")
	h.setValue(form+` [name="key"]`, "short1")
	h.click(form + ` [data-action="save"]`)
	h.waitText(form+` .field-error[data-for="key"]`, "letters and digits")
	require.Empty(t, h.text(form+` .field-error[data-for="url"]`), "the URL's error outlived its fix")
	h.screenshot("callback-form-key-error")
	h.click(form + ` [data-action="generate"]`)
	h.waitFor("a generated whsec_ key", `document.querySelector('`+form+` [name="key"]').value.startsWith('whsec_')`)
	require.Regexp(t, regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`),
		eval[string](h.browser, `document.querySelector('`+form+` [name="key"]').value`), "generated standard key")
	h.waitText(form+` #key-hint`, "Standard Webhooks secret")
	h.click(form + ` [data-action="save"]`)
	h.waitGone(form)
	h.waitVisible(`tr[data-id]`)
	id := eval[string](h.browser, `document.querySelector('tr[data-id]').dataset.id`)
	row := fmt.Sprintf(`tr[data-id=%q]`, id)
	h.waitText(row, "Standard Webhooks")

	// Edit: the key field starts empty (the stored key is kept) and "none" cannot be chosen.
	h.click(row + ` [data-action="edit"]`)
	h.waitVisible(form)
	require.Empty(t, eval[string](h.browser, `document.querySelector('`+form+` [name="key"]').value`))
	h.waitText(form, "leave this empty to keep it")
	h.setValue(form+` [name="dialect"]`, "aliyun")
	require.Equal(t, []string{"MD5"}, modes(), "aliyun modes with a stored key")
	h.waitVisible(form + ` [name="need_status_notify"]`)
	h.setChecked(form+` [name="need_status_notify"]`, true)
	h.setChecked(form+` input[name="events"][value="record_started"]`, true)
	h.screenshot("callback-form-edit")
	h.click(form + ` [data-action="save"]`)
	h.waitGone(form)
	h.waitText(row, "aliyun")
	status, raw := h.srv.API(t, http.MethodGet, "/api/v1/callbacks/"+id, nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var stored struct {
		Dialect          string   `json:"dialect"`
		Events           []string `json:"events"`
		NeedStatusNotify bool     `json:"need_status_notify"`
		SignType         string   `json:"sign_type"`
		HasKey           bool     `json:"has_key"`
	}
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, "aliyun", stored.Dialect)
	require.Equal(t, []string{"record_started"}, stored.Events)
	require.True(t, stored.NeedStatusNotify)
	require.Empty(t, stored.SignType)
	require.True(t, stored.HasKey, "an edit with an empty key dropped the stored key")

	// Disable, then enable again.
	h.click(row + ` [data-action="disable"]`)
	h.waitVisible(row + ` .state-disabled`)
	require.True(t, eval[bool](h.browser, `document.querySelector('`+row+` [data-action="test"]').disabled`),
		"a disabled callback offers a test event")
	h.screenshot("callback-disabled")
	h.click(row + ` [data-action="enable"]`)
	h.waitVisible(row + ` .state-enabled`)

	// Delete asks first; cancelling keeps it.
	h.click(row + ` [data-action="delete"]`)
	h.click(`#confirm [data-action="cancel"]`)
	h.waitVisible(row)
	h.click(row + ` [data-action="delete"]`)
	h.screenshot("callback-delete-confirm")
	h.click(`#confirm [data-action="confirm"]`)
	h.waitText("#view", "No callbacks yet")
	status, _ = h.srv.API(t, http.MethodGet, "/api/v1/callbacks/"+id, nil)
	require.Equal(t, http.StatusNotFound, status)

	// The deliveries page's empty state, and a bad filter's message beside its field.
	h.route("#/deliveries")
	h.waitText("#view", "No deliveries yet")
	h.screenshot("deliveries-empty")
	h.allowError(`status of 400 .*/api/v1/deliveries\?`)
	h.route("#/deliveries?since=yesterday")
	h.waitText(`form[data-form="delivery-search"] .field-error[data-for="since"]`, "since")
	h.screenshot("deliveries-bad-filter")
}
