package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Acceptance 5: signed out, every console route and API call fails with 401 and the page
// returns to sign-in; a key of another project sees none of this project's streams,
// recordings or rules. Also the access keys page: a secret shown once, disable, delete.

// authYAML lifts the failed-authentication throttle (10 a minute by default): these tests
// fail authentication on purpose, many times, from the one loopback address.
const authYAML = "api:\n  auth_failure_limit: 1000\n"

// sessionKey is where the console keeps its session in sessionStorage (lib.js).
const sessionKey = "liverec.session"

// consoleRoutes are the console's hash routes; a recording's route is added by the tests.
var consoleRoutes = []string{"#/live", "#/recordings", "#/rules", "#/callbacks", "#/deliveries", "#/keys"}

// pageReads are the API reads the console's pages make; {id} stands for any id.
var pageReads = []string{
	"/api/v1/whoami", "/api/v1/streams", "/api/v1/blocks", "/api/v1/recordings",
	"/api/v1/recordings/{id}", "/api/v1/rules", "/api/v1/rules/{id}", "/api/v1/callbacks",
	"/api/v1/deliveries", "/api/v1/deliveries/{id}", "/api/v1/deliveries/{id}/attempts",
	"/api/v1/access-keys", "/api/v1/tokens", "/api/v1/domains", "/api/v1/files", "/api/v1/indexes",
}

// allow401 declares the 401 answers of the API calls that the test provokes: Chromium logs
// each as a network error.
func (h *harness) allow401(paths string) {
	h.t.Helper()
	h.allowError(`status of 401 .*\[http://127\.0\.0\.1:\d+/api/v1/(` + paths + `)`)
}

// reload reloads the page (a full load that keeps sessionStorage, as F5 does).
func (h *harness) reload() {
	h.t.Helper()
	h.run("reload", chromedp.Reload())
}

// openFresh loads the console at route as a new page load (not a hash change).
func (h *harness) openFresh(route string) {
	h.t.Helper()
	h.open("about:blank")
	h.openConsole(route)
}

// storages returns both web storages' contents as JSON, and localStorage's item count.
func (h *harness) storages() (string, int) {
	h.t.Helper()
	all := eval[string](h.browser, `JSON.stringify({local: Object.entries(localStorage), session: Object.entries(sessionStorage)})`)
	return all, eval[int](h.browser, `localStorage.length`)
}

// apiStatus calls the native API with the given Authorization header value ("" for none)
// and returns the status.
func apiStatus(t *testing.T, s *server, authz, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.Base+path, nil)
	require.NoError(t, err)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	resp.Body.Close()
	return resp.StatusCode
}

func basicAuth(id, secret string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil) // a constant URL always parses
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

// apiJSON calls the API as the admin, requires want, and decodes the answer into v.
func apiJSON(t *testing.T, s *server, method, path string, body any, want int, v any) {
	t.Helper()
	code, b := s.API(t, method, path, body)
	require.Equal(t, want, code, "%s %s: %s", method, path, b)
	if v != nil {
		require.NoError(t, json.Unmarshal(b, v), "%s %s: %s", method, path, b)
	}
}

// TestSignedOut: with no session every route shows the sign-in form, and every API read
// the pages make answers 401 to a request without credentials or with a bogus token.
func TestSignedOut(t *testing.T) {
	h := newHarness(t, authYAML)
	h.allow401(`[a-z-]+`) // the page's own fetches below, all meant to fail

	routes := append(append([]string{""}, consoleRoutes...), "#/recordings/REC0123456789")
	for _, r := range routes {
		h.openFresh(r)
		h.waitVisible(signInForm)
		require.False(t, eval[bool](h.browser, `!document.getElementById("top").hidden`),
			"%s shows the signed-in header while signed out", r)
		require.Zero(t, h.count(`main#view *`), "%s rendered a page while signed out", r)
		h.screenshot("signed-out " + r)
	}
	h.phone()
	h.openFresh("#/keys")
	h.waitVisible(signInForm)
	h.screenshot("signed-out phone")
	h.desktop()

	js := fmt.Sprintf(`(async () => {
		const out = {};
		for (const p of %s) {
			const url = p.replaceAll("{id}", "X0123456789");
			for (const [how, headers] of [["none", {}], ["bogus", {Authorization: "Bearer lrt_bogus0123456789abcdef"}],
				["bogus-basic", {Authorization: "Basic " + btoa("LRNOSUCHKEY0000000000000:nope")}]]) {
				const r = await fetch(url, {headers, cache: "no-store"});
				out[how + " " + url] = r.status;
			}
		}
		return out;
	})()`, mustJSON(t, pageReads))
	got := eval[map[string]int](h.browser, js)
	require.Len(t, got, 3*len(pageReads))
	for call, status := range got {
		require.Equal(t, http.StatusUnauthorized, status, "GET %s signed out", call)
	}
	// Still signed out, and nothing was stored.
	all, n := h.storages()
	require.Zero(t, n, "localStorage holds %s", all)
	require.False(t, eval[bool](h.browser, `sessionStorage.getItem(`+jsString(sessionKey)+`) !== null`))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestSessionAndKeysPage signs in (no secret kept in any storage), uses the access keys page
// (a new key's secret shown once, disabled, deleted; a domain assigned), then signs out with
// the button: the token is revoked on the server, so putting it back gets the page a 401 and
// the sign-in form.
func TestSessionAndKeysPage(t *testing.T) {
	h := newHarness(t, authYAML)
	h.openConsole("#/keys")
	h.signIn()

	all, n := h.storages()
	require.NotContains(t, all, adminKeySecret, "the secret was stored")
	require.Zero(t, n, "localStorage holds %s", all)
	saved := eval[string](h.browser, `sessionStorage.getItem(`+jsString(sessionKey)+`)`)
	var sess struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(saved), &sess))
	require.NotEmpty(t, sess.Token)
	require.Equal(t, http.StatusOK, apiStatus(t, h.srv, "Bearer "+sess.Token, http.MethodGet, "/api/v1/whoami"))

	// The keys page marks this console's key and this session's token.
	h.waitVisible(`form[data-form="access-key"]`)
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q] .mark`, adminKeyID))
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q] .mark`, sess.ID))
	require.True(t, eval[bool](h.browser, fmt.Sprintf(`document.querySelector('tr[data-id=%q] [data-action="disable"]').disabled`, adminKeyID)),
		"the console's own key can be disabled from the console")
	h.screenshot("keys")

	// Create a key: its secret is shown once and works.
	h.setValue(`form[data-form="access-key"] [name="description"]`, "e2e temporary key")
	h.click(`form[data-form="access-key"] [data-action="create"]`)
	h.waitVisible(`.secret .key-secret`)
	keyID := h.text(`.secret .key-id`)
	secret := h.text(`.secret .key-secret`)
	require.NotEmpty(t, keyID)
	require.GreaterOrEqual(t, len(secret), 16)
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, keyID))
	require.Equal(t, http.StatusOK, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))
	h.screenshot("keys secret shown once")
	all, _ = h.storages()
	require.NotContains(t, all, secret, "the new key's secret was stored")

	h.reload()
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, keyID))
	require.Zero(t, h.count(`.secret`), "the secret box is back after a reload")
	require.NotContains(t, eval[string](h.browser, `document.documentElement.outerHTML`), secret,
		"the secret is in the page after a reload")

	// Disable: the key no longer authenticates.
	h.click(fmt.Sprintf(`tr[data-id=%q] [data-action="disable"]`, keyID))
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q] [data-action="enable"]`, keyID))
	require.Equal(t, http.StatusUnauthorized, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))
	h.screenshot("keys disabled")

	// Delete, after confirming.
	h.click(fmt.Sprintf(`tr[data-id=%q] [data-action="delete"]`, keyID))
	h.click(`#confirm [data-action="confirm"]`)
	h.waitGone(fmt.Sprintf(`tr[data-id=%q] [data-action="delete"]`, keyID))
	var keys struct {
		AccessKeys []struct {
			ID        string `json:"id"`
			RevokedAt string `json:"revoked_at"`
		} `json:"access_keys"`
	}
	apiJSON(t, h.srv, http.MethodGet, "/api/v1/access-keys", nil, http.StatusOK, &keys)
	deleted := false
	for _, k := range keys.AccessKeys {
		deleted = deleted || k.ID == keyID && k.RevokedAt != ""
	}
	require.True(t, deleted, "key %s is not revoked on the server: %+v", keyID, keys)
	h.screenshot("keys deleted")

	// Admins assign domains.
	h.setValue(`form[data-form="domain"] [name="domain"]`, "cam.e2e.test")
	h.setValue(`form[data-form="domain"] [name="project"]`, "default")
	h.click(`form[data-form="domain"] [data-action="assign"]`)
	h.waitVisible(`tr[data-id="cam.e2e.test"]`)

	h.phone()
	h.waitVisible(`form[data-form="access-key"]`)
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the keys page scrolls sideways on a 375 px screen")
	h.screenshot("keys phone")
	h.desktop()

	// Sign out: the token dies on the server, not just in the tab.
	h.click(`[data-action="signout"]`)
	h.waitVisible(signInForm)
	require.False(t, eval[bool](h.browser, `sessionStorage.getItem(`+jsString(sessionKey)+`) !== null`))
	require.Equal(t, http.StatusUnauthorized, apiStatus(t, h.srv, "Bearer "+sess.Token, http.MethodGet, "/api/v1/whoami"))
	h.screenshot("signed out")

	// Put the old token back and reload: the page's calls answer 401 and it returns to sign-in.
	h.allow401(`access-keys|tokens|domains`)
	eval[bool](h.browser, `(sessionStorage.setItem(`+jsString(sessionKey)+`, `+jsString(saved)+`), true)`)
	h.reload()
	h.waitFor("the revoked session to be dropped", `sessionStorage.getItem(`+jsString(sessionKey)+`) === null`)
	h.waitVisible(signInForm)
	require.True(t, eval[bool](h.browser, `document.getElementById("top").hidden`))
	h.screenshot("revoked token back to sign-in")
}

// TestAdminManagesOtherProjectsKeys: an admin creates a key in project "other" through the
// form; the page does not list it until the admin shows that project (or all), then disables,
// enables and deletes it there, each change taking effect on the server (the key's Basic auth
// fails and works again); the projects table counts every project's keys.
func TestAdminManagesOtherProjectsKeys(t *testing.T) {
	// otherKeys is the projects table's count of project other's active keys.
	const otherKeys = `document.querySelector('table.projects tr[data-id="other"] td:nth-child(2)')?.innerText`
	h := newHarness(t, authYAML)
	h.openConsole("#/keys")
	h.signIn()
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, adminKeyID))

	const form = `form[data-form="access-key"]`
	h.setValue(form+` [name="description"]`, "e2e key of another project")
	h.setValue(form+` [name="project"]`, "other")
	h.click(form + ` [data-action="create"]`)
	h.waitVisible(`.secret .key-secret`)
	keyID := h.text(`.secret .key-id`)
	secret := h.text(`.secret .key-secret`)
	row := fmt.Sprintf(`tr[data-id=%q]`, keyID)
	require.NotEmpty(t, keyID)
	require.Equal(t, http.StatusOK, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))
	// The list still shows the admin's own project, and the secret box says so.
	h.waitVisible(`.secret [data-action="show-project"]`)
	require.Zero(t, h.count(row), "another project's key listed under the admin's own project")
	h.screenshot("keys other project's key created")

	// All projects: the key is listed with its project, and counted in the projects table.
	const scope = `form[data-form="project-scope"] [name="scope"]`
	h.setValue(scope, "*")
	h.waitVisible(row)
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, adminKeyID))
	require.Equal(t, "other", h.text(row+` td:nth-child(2)`), "the key's project column")
	h.waitFor("the secret box to stop saying the key is not listed", `document.querySelector(".secret .scope-hint").hidden`)
	h.waitFor(`"other" counted with 1 active key`, otherKeys+` === "1"`)
	h.screenshot("keys all projects")

	// Disable it through the page: its Basic auth fails; enable: it works again.
	h.click(row + ` [data-action="disable"]`)
	h.waitVisible(row + ` [data-action="enable"]`)
	require.Equal(t, http.StatusUnauthorized, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))
	h.waitFor(`"other" still counted with 1 active key`, otherKeys+` === "1"`) // disabled, not deleted
	h.screenshot("keys other project's key disabled")
	h.click(row + ` [data-action="enable"]`)
	h.waitVisible(row + ` [data-action="disable"]`)
	require.Equal(t, http.StatusOK, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))

	// Another project by name: only its keys.
	h.setValue(scope, "other")
	h.setValue(`form[data-form="project-scope"] [name="project"]`, "other")
	h.click(`form[data-form="project-scope"] [data-action="refresh"]`)
	h.waitGone(fmt.Sprintf(`tr[data-id=%q]`, adminKeyID))
	h.waitVisible(row)
	require.Equal(t, "Access keys of other", h.text(`#keys-h`))

	// Delete it there, after confirming: revoked on the server, and no longer counted.
	h.click(row + ` [data-action="delete"]`)
	h.click(`#confirm [data-action="confirm"]`)
	h.waitGone(row + ` [data-action="delete"]`)
	h.waitFor(`"other" counted with no active key`, otherKeys+` === "0"`)
	require.Equal(t, "—", h.text(fmt.Sprintf(`table.projects tr[data-id=%q] td:nth-child(2)`, "default")),
		"the admin's own project's keys are not loaded, so not counted")
	require.Equal(t, http.StatusUnauthorized, apiStatus(t, h.srv, basicAuth(keyID, secret), http.MethodGet, "/api/v1/whoami"))
	var keys struct {
		AccessKeys []struct {
			ID        string `json:"id"`
			RevokedAt string `json:"revoked_at"`
		} `json:"access_keys"`
	}
	apiJSON(t, h.srv, http.MethodGet, "/api/v1/access-keys?project=other", nil, http.StatusOK, &keys)
	require.Len(t, keys.AccessKeys, 1)
	require.NotEmpty(t, keys.AccessKeys[0].RevokedAt, "key %s is not revoked on the server", keyID)
	h.screenshot("keys other project's key deleted")

	h.phone()
	h.setValue(scope, "*")
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, adminKeyID))
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the keys page scrolls sideways on a 375 px screen")
	h.screenshot("keys all projects phone")
}

// TestOtherProjectSeesNothing: the default project gets a rule, a callback, a live stream and
// its recording; a key of project "other" sees none of them in any page, while the admin key
// (in a browser of its own) does.
func TestOtherProjectSeesNothing(t *testing.T) {
	h := newHarness(t, authYAML)
	srv := h.srv
	const stream = "isolatedcam7"

	var other struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	apiJSON(t, srv, http.MethodPost, "/api/v1/access-keys",
		map[string]any{"project": "other", "description": "e2e other project"}, http.StatusCreated, &other)

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)

	var rule, callback struct {
		ID string `json:"id"`
	}
	apiJSON(t, srv, http.MethodPost, "/api/v1/rules", map[string]any{
		"domain": "127.0.0.1", "app": "iso", "stream": "*", "mode": "auto",
		"formats": []map[string]any{{"format": "mp4", "cycle_s": 600, "merge_window_s": 0,
			"object_template": "{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}},
		"storage": map[string]any{"endpoint": "local", "bucket": "recordings"},
	}, http.StatusCreated, &rule)
	apiJSON(t, srv, http.MethodPost, "/api/v1/callbacks", map[string]any{
		"dialect": "standard", "domain": "127.0.0.1", "app": "*", "url": receiver.URL + "/hook",
	}, http.StatusCreated, &callback)

	startPublisher(t, srv.RTMPURL("iso/"+stream), publishOptions{Size: "320x240"})
	var recordingID string
	var deliveryIDs []string
	eventually(t, "the stream to be live, recorded and its events delivered", func() bool {
		var live struct {
			Streams []struct{ Stream string } `json:"streams"`
		}
		var recs struct {
			Items []struct{ ID string } `json:"items"`
		}
		var dels struct {
			Deliveries []struct{ ID string } `json:"deliveries"`
		}
		apiJSON(t, srv, http.MethodGet, "/api/v1/streams", nil, http.StatusOK, &live)
		apiJSON(t, srv, http.MethodGet, "/api/v1/recordings?stream="+stream, nil, http.StatusOK, &recs)
		apiJSON(t, srv, http.MethodGet, "/api/v1/deliveries", nil, http.StatusOK, &dels)
		if len(live.Streams) == 0 || len(recs.Items) == 0 || len(dels.Deliveries) == 0 {
			return false
		}
		recordingID = recs.Items[0].ID
		deliveryIDs = deliveryIDs[:0]
		for _, d := range dels.Deliveries {
			deliveryIDs = append(deliveryIDs, d.ID)
		}
		return true
	})
	secrets := []string{stream, rule.ID, callback.ID, recordingID, adminKeyID}
	secrets = append(secrets, deliveryIDs...)

	// The other project: every page shows its empty state and nothing of the default project.
	h.openConsole("#/live")
	h.signInWith(other.ID, other.Secret)
	for _, r := range []string{"#/live", "#/recordings", "#/rules", "#/callbacks", "#/deliveries"} {
		h.route(r)
		h.waitVisible(`main#view .empty`)
		h.requireAbsent(r, secrets)
		h.screenshot("other project " + r)
	}
	h.route("#/keys")
	h.waitVisible(fmt.Sprintf(`tr[data-id=%q]`, other.ID))
	h.requireAbsent("#/keys", secrets)
	h.screenshot("other project #/keys")
	// A recording of another project is not found, and shows none of its data.
	h.allowError(`status of 404 .*\[http://127\.0\.0\.1:\d+/api/v1/recordings/` + recordingID + `\]`)
	h.route("#/recordings/" + recordingID)
	h.waitVisible(`main#view .error, main#view .empty`)
	h.requireAbsent("the default project's recording", []string{stream})
	h.screenshot("other project foreign recording")
	h.phone()
	h.route("#/live")
	h.waitVisible(`main#view .empty`)
	h.screenshot("other project phone")
	h.desktop()

	// The admin, in a browser of its own, sees all of it.
	a := &harness{browser: newBrowser(t), srv: srv}
	a.openConsole("#/live")
	a.signIn()
	a.waitVisible(fmt.Sprintf(`[data-stream="127.0.0.1/iso/%s"]`, stream))
	a.screenshot("admin #/live")
	a.route("#/recordings")
	a.waitVisible(fmt.Sprintf(`[data-id=%q]`, recordingID))
	a.route("#/rules")
	a.waitVisible(fmt.Sprintf(`[data-id=%q]`, rule.ID))
	a.route("#/callbacks")
	a.waitVisible(fmt.Sprintf(`[data-id=%q]`, callback.ID))
	a.route("#/deliveries")
	a.waitFor("a delivery of the default project", fmt.Sprintf(
		`%s.some((id) => document.querySelector('[data-id="' + id + '"]'))`, mustJSON(t, deliveryIDs)))
	a.screenshot("admin #/deliveries")
}

// requireAbsent fails the test when the page's text or any data-id / data-stream attribute
// holds one of the strings.
func (h *harness) requireAbsent(where string, strs []string) {
	h.t.Helper()
	found := eval[[]string](h.browser, fmt.Sprintf(`(() => {
		const hay = [document.querySelector("main#view").innerText];
		for (const e of document.querySelectorAll("[data-id], [data-stream]")) hay.push(e.dataset.id || "", e.dataset.stream || "");
		const text = hay.join("\n");
		return %s.filter((s) => s && text.includes(s));
	})()`, mustJSON(h.t, strs)))
	require.Empty(h.t, found, "%s shows another project's %s", where, strings.Join(found, ", "))
}
