package main

// Helpers of the browser tests (browser_test.go): Debian's chromium driven
// with chromedp, one browser process per test, a fresh profile each time.
//
// Tests find things the way people and screen readers do: by role and
// accessible name, through Chromium's accessibility tree (Accessibility.
// queryAXTree), so a button found as ("button", "Sign in") really is a
// button whose name is "Sign in", and a field found as ("textbox", "Email")
// really has a label "Email". Clicks and typing are real input events.
//
// Every wait is bounded (waitTimeout) and polls; nothing sleeps in the hope
// that something has happened.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitTimeout bounds every wait for the page.
const waitTimeout = 15 * time.Second

// browserSlots limits how many browsers run at once: the machines have
// two cores.
var browserSlots = make(chan struct{}, 2)

// chromiumPath is the browser on PATH, or "".
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium returns the browser's path. Without one the test fails
// under CI=true (CI must run the browser tests) and is skipped elsewhere,
// saying why.
func needChromium(t *testing.T) string {
	t.Helper()
	p := chromiumPath()
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is missing, so the browser tests cannot run; scripts/test.sh installs it (apt-get install chromium)")
		}
		t.Skip("chromium is missing: skipping the browser test; install Debian's chromium package (bash scripts/test.sh does it) to run it")
	}
	return p
}

// browser is one Chromium process.
type browser struct {
	t   *testing.T
	ctx context.Context // the browser's first tab
}

// startBrowser starts headless Chromium (tests call it first, so that without
// a browser they skip, or fail under CI, before starting anything else) with the flags this closed network
// needs (nothing of its own reaches out: no background networking, no
// component updates, no sync, no QUIC) and a new, empty profile that
// chromedp deletes at the end.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := needChromium(t)
	browserSlots <- struct{}{}
	t.Cleanup(func() { <-browserSlots })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	startCtx, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	// The first Do starts the browser; its context must outlive the call,
	// so the timeout above only bounds the wait through a watchdog.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start chromium (%s): %v", path, err)
		}
	case <-startCtx.Done():
		t.Fatalf("chromium (%s) did not start within 60 s", path)
	}
	return &browser{t: t, ctx: ctx}
}

// cspProbe runs before the app's own scripts in every document and records
// Content-Security-Policy violations, which the tests require to be none.
const cspProbe = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});`

// tab is one page, with a record of what it did: every request URL, every
// JavaScript dialog (none is expected) and every uncaught exception.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu         sync.Mutex
	requests   []string
	responses  []response
	cookies    map[network.RequestID][]string // per request: "name" sent, "name:reason" withheld
	dialogs    []string
	exceptions []string
}

// response is one HTTP answer the page got.
type response struct {
	Method, URL string
	Status      int64
	ID          network.RequestID
}

// newTab opens a tab in the browser. isolated puts it in a new browser
// context, with its own cookies: a second device.
func (b *browser) newTab(name string, isolated bool) *tab {
	t := b.t
	t.Helper()
	tb := &tab{t: t, name: name, cookies: map[network.RequestID][]string{}}
	methods := map[network.RequestID]string{}
	opts := []chromedp.ContextOption{chromedp.WithListener(func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, ev.Request.URL)
			methods[ev.RequestID] = ev.Request.Method
		case *network.EventResponseReceived:
			tb.responses = append(tb.responses, response{Method: methods[ev.RequestID], URL: ev.Response.URL, Status: ev.Response.Status, ID: ev.RequestID})
		case *network.EventRequestWillBeSentExtraInfo:
			for _, c := range ev.AssociatedCookies {
				desc := c.Cookie.Name
				for _, r := range c.BlockedReasons {
					desc += ":" + string(r)
				}
				tb.cookies[ev.RequestID] = append(tb.cookies[ev.RequestID], desc)
			}
		case *page.EventJavascriptDialogOpening:
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			tb.exceptions = append(tb.exceptions, msg)
		}
	})}
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	t.Cleanup(cancel)
	tb.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open tab: %v", name, err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("%s: add CSP probe: %v", name, err)
	}
	// A dialog would block the page: dismiss any at once (the test fails
	// on it later through tb.dialogs).
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return tb
}

// step runs actions with a bounded wait, failing the test on error.
func (tb *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail("%s: %v", what, err)
	}
}

// fail stops the test, with what the page shows and did.
func (tb *tab) fail(format string, args ...any) {
	tb.t.Helper()
	tb.t.Fatalf("%s: %s\npage text:\n%s\nresponses:\n%s", tb.name, fmt.Sprintf(format, args...), tb.textNoFail(), tb.responseLog())
}

func (tb *tab) responseLog() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var b strings.Builder
	for _, r := range tb.responses {
		fmt.Fprintf(&b, "  %s %s %d\n", r.Method, r.URL, r.Status)
	}
	return b.String()
}

// open loads url and waits for the app to have booted (signed in or not).
func (tb *tab) open(u string) {
	tb.t.Helper()
	tb.step("navigate to "+u, chromedp.Navigate(u))
	tb.waitJS("the app to boot", `!document.getElementById('boot')`)
}

// reload reloads the page and waits for the app to boot again.
func (tb *tab) reload() {
	tb.t.Helper()
	tb.step("reload", chromedp.Reload())
	tb.waitJS("the app to boot after reload", `!document.getElementById('boot')`)
}

// eval evaluates a JavaScript expression in the page (DevTools evaluation,
// which the page's CSP does not restrict) and decodes its value.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fail("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript expression until it is true.
func (tb *tab) waitJS(what, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			tb.fail("waited %v for %s (%s); last error %v", waitTimeout, what, expr, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// text is the page's visible text.
func (tb *tab) text() string {
	tb.t.Helper()
	return eval[string](tb, `document.body.innerText`)
}

func (tb *tab) textNoFail() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

// waitText waits until the page's visible text contains s.
func (tb *tab) waitText(s string) {
	tb.t.Helper()
	tb.waitJS("visible text "+js(s), `document.body.innerText.includes(`+js(s)+`)`)
}

// waitNoText waits until the page's visible text lacks s.
func (tb *tab) waitNoText(s string) {
	tb.t.Helper()
	tb.waitJS("no visible text "+js(s), `!document.body.innerText.includes(`+js(s)+`)`)
}

// hash is the location fragment (the app's route).
func (tb *tab) hash() string {
	tb.t.Helper()
	return eval[string](tb, `location.hash`)
}

// axFind returns the backend node ids of the elements with this role and
// accessible name under root (0: the whole document), skipping nodes
// ignored by the accessibility tree (hidden ones).
func axFind(ctx context.Context, root cdp.BackendNodeID, role, name string) ([]cdp.BackendNodeID, error) {
	params := accessibility.QueryAXTreeParams{Role: role, AccessibleName: name, BackendNodeID: root}
	if root == 0 {
		doc, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			return nil, err
		}
		params.BackendNodeID = doc.Root.BackendNodeID
	}
	res, err := chromedp.Call(ctx, accessibility.QueryAXTree, params)
	if err != nil {
		return nil, err
	}
	var ids []cdp.BackendNodeID
	for _, n := range res.Nodes {
		if !n.Ignored && n.BackendDOMNodeID != 0 {
			ids = append(ids, n.BackendDOMNodeID)
		}
	}
	return ids, nil
}

// el is an element found by role and name, optionally inside another.
type el struct {
	tb   *tab
	role string
	name string
	css  string // instead of role and name: a CSS selector
	in   *el
}

// find names an element by role and accessible name: ("button", "Sign in"),
// ("textbox", "Email"), ("checkbox", "Buy milk").
func (tb *tab) find(role, name string) *el { return &el{tb: tb, role: role, name: name} }

// find names an element inside the container around e: the closest list
// item, form or section holding e (e itself when it is one). For a task's
// Edit button: tb.find("checkbox", title).find("button", "Edit").
func (e *el) find(role, name string) *el { return &el{tb: e.tb, role: role, name: name, in: e} }

// css names the one element matching a CSS selector, for things that have
// no role and name of their own (a list item).
func (tb *tab) css(sel string) *el { return &el{tb: tb, css: sel} }

func (e *el) String() string {
	s := fmt.Sprintf("%s %q", e.role, e.name)
	if e.css != "" {
		s = "css " + e.css
	}
	if e.in != nil {
		s += " in " + e.in.String()
	}
	return s
}

// resolve waits until exactly one such element is there and returns it.
func (e *el) resolve(ctx context.Context) (cdp.BackendNodeID, error) {
	var last error
	for {
		id, err := e.lookup(ctx)
		if err == nil {
			return id, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s: %w (after %v)", e, last, waitTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (e *el) lookup(ctx context.Context) (cdp.BackendNodeID, error) {
	var root cdp.BackendNodeID
	if e.in != nil {
		id, err := e.in.lookup(ctx)
		if err != nil {
			return 0, err
		}
		// The container: the closest list item, form or section around it.
		root, err = closest(ctx, id, "li, form, section")
		if err != nil {
			return 0, err
		}
	}
	var ids []cdp.BackendNodeID
	var err error
	if e.css != "" {
		ids, err = cssFind(ctx, e.css)
	} else {
		ids, err = axFind(ctx, root, e.role, e.name)
	}
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return 0, fmt.Errorf("no such element")
	default:
		return 0, fmt.Errorf("%d such elements", len(ids))
	}
}

// cssFind returns the elements of the document matching sel.
func cssFind(ctx context.Context, sel string) ([]cdp.BackendNodeID, error) {
	doc, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{})
	if err != nil {
		return nil, err
	}
	res, err := chromedp.Call(ctx, dom.QuerySelectorAll, dom.QuerySelectorAllParams{NodeID: doc.Root.NodeID, Selector: sel})
	if err != nil {
		return nil, err
	}
	var ids []cdp.BackendNodeID
	for _, id := range res.NodeIDs {
		d, err := chromedp.Call(ctx, dom.DescribeNode, dom.DescribeNodeParams{NodeID: id})
		if err != nil {
			return nil, err
		}
		ids = append(ids, d.Node.BackendNodeID)
	}
	return ids, nil
}

// closest returns the nearest ancestor of node matching the CSS selector.
func closest(ctx context.Context, node cdp.BackendNodeID, sel string) (cdp.BackendNodeID, error) {
	obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: node})
	if err != nil {
		return 0, err
	}
	res, err := chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: `function(sel) { return this.closest(sel); }`,
		ObjectID:            obj.Object.ObjectID,
		Arguments:           []*runtime.CallArgument{{Value: jsonValue(sel)}},
	})
	if err != nil {
		return 0, err
	}
	if res.Result.ObjectID == "" {
		return 0, fmt.Errorf("no container %q", sel)
	}
	d, err := chromedp.Call(ctx, dom.DescribeNode, dom.DescribeNodeParams{ObjectID: res.Result.ObjectID})
	if err != nil {
		return 0, err
	}
	return d.Node.BackendNodeID, nil
}

func jsonValue(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// jsonText is v as JSON without HTML escaping, as the browser writes it.
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// call runs a function on the element (this = the element) and returns
// its JSON result.
func (e *el) call(ctx context.Context, fn string) ([]byte, error) {
	id, err := e.resolve(ctx)
	if err != nil {
		return nil, err
	}
	obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: id})
	if err != nil {
		return nil, err
	}
	res, err := chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
		FunctionDeclaration: fn,
		ObjectID:            obj.Object.ObjectID,
		ReturnByValue:       new(true),
		AwaitPromise:        new(true),
	})
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("%s: %s", fn, res.ExceptionDetails.Text)
	}
	return res.Result.Value, nil
}

// click scrolls the element into view and clicks its center with the mouse.
func (e *el) click() {
	e.tb.t.Helper()
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	if err := e.doClick(ctx); err != nil {
		e.tb.fail("click %s: %v", e, err)
	}
}

func (e *el) doClick(ctx context.Context) error {
	for {
		id, err := e.resolve(ctx)
		if err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, dom.ScrollIntoViewIfNeeded, dom.ScrollIntoViewIfNeededParams{BackendNodeID: id}); err != nil {
			return err
		}
		quads, err := chromedp.Call(ctx, dom.GetContentQuads, dom.GetContentQuadsParams{BackendNodeID: id})
		if err == nil && len(quads.Quads) > 0 && len(quads.Quads[0]) == 8 {
			q := quads.Quads[0]
			x := (q[0] + q[2] + q[4] + q[6]) / 4
			y := (q[1] + q[3] + q[5] + q[7]) / 4
			// Click only an enabled element that is really on top there.
			b, err := e.call(ctx, `function() {
				const r = this.getBoundingClientRect();
				const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
				return !this.disabled && !!at && (at === this || this.contains(at) || (this.labels && [...this.labels].some((l) => l.contains(at))));
			}`)
			if err == nil && string(b) == "true" {
				return chromedp.Do(ctx, chromedp.MouseClickXY(x, y))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never became clickable: %w", e, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fill replaces the field's value by typing text (real key events).
func (e *el) fill(text string) {
	e.tb.t.Helper()
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	if _, err := e.call(ctx, `function() { this.focus(); this.select(); }`); err != nil {
		e.tb.fail("focus %s: %v", e, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Backspace)); err != nil {
		e.tb.fail("clear %s: %v", e, err)
	}
	if text != "" {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
			e.tb.fail("type into %s: %v", e, err)
		}
	}
	got, err := e.call(ctx, `function() { return this.value; }`)
	var value string
	if err == nil {
		err = json.Unmarshal(got, &value)
	}
	if err != nil || value != text {
		e.tb.fail("%s holds %s after typing %q (%v)", e, got, text, err)
	}
}

// press sends keys (chromedp's kb notation) to the focused element.
func (tb *tab) press(keys string) {
	tb.t.Helper()
	tb.step("press "+js(keys), chromedp.KeyEvent(keys))
}

// prop returns the element's JavaScript property prop, as JSON text.
func (e *el) prop(prop string) string {
	e.tb.t.Helper()
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	b, err := e.call(ctx, `function() { return this[`+js(prop)+`]; }`)
	if err != nil {
		e.tb.fail("read %s of %s: %v", prop, e, err)
	}
	return string(b)
}

// waitGone waits until no such element is there.
func (e *el) waitGone() {
	e.tb.t.Helper()
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	for {
		_, err := e.lookup(ctx)
		if err != nil && strings.Contains(err.Error(), "no such") {
			return
		}
		select {
		case <-ctx.Done():
			e.tb.fail("%s is still there after %v", e, waitTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// wait waits until exactly one such element is there.
func (e *el) wait() {
	e.tb.t.Helper()
	ctx, cancel := context.WithTimeout(e.tb.ctx, waitTimeout)
	defer cancel()
	if _, err := e.resolve(ctx); err != nil {
		e.tb.fail("wait for %v", err)
	}
}

// waitTasks waits until the listed task titles are want, in order.
func (tb *tab) waitTasks(want ...string) {
	tb.t.Helper()
	tb.waitJS("tasks "+strings.Join(want, ","),
		`JSON.stringify([...document.querySelectorAll('.task-list .task-title')].map((e) => e.textContent)) === `+js(string(jsonValue(append([]string{}, want...)))))
}

// checkClean fails the test when the tab ran into a dialog, an uncaught
// exception or a CSP violation, or sent a request anywhere but the allowed
// origins.
func (tb *tab) checkClean(allowed ...string) {
	tb.t.Helper()
	csp := eval[[]string](tb, `window.__csp || []`)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, d := range tb.dialogs {
		tb.t.Errorf("%s: a JavaScript dialog opened: %s", tb.name, d)
	}
	for _, e := range tb.exceptions {
		tb.t.Errorf("%s: uncaught exception: %s", tb.name, e)
	}
	for _, v := range csp {
		tb.t.Errorf("%s: Content-Security-Policy violation: %s", tb.name, v)
	}
	if len(tb.requests) == 0 {
		tb.t.Errorf("%s: no request recorded; the network log is not working", tb.name)
	}
	for _, r := range tb.requests {
		if strings.HasPrefix(r, "data:") || r == "about:blank" {
			continue
		}
		u, err := url.Parse(r)
		if err != nil || !slices.Contains(allowed, u.Scheme+"://"+u.Host) {
			tb.t.Errorf("%s: request to %s, outside the allowed origins %v", tb.name, r, allowed)
		}
	}
}

// responsesTo returns the answers to method path (path only, any query).
func (tb *tab) responsesTo(method, path string) []response {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []response
	for _, r := range tb.responses {
		u, err := url.Parse(r.URL)
		if err == nil && r.Method == method && u.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// cookiesOf lists the cookies of the request answered by r: "name" for
// one sent, "name:Reason" for one the browser withheld.
func (tb *tab) cookiesOf(r response) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.cookies[r.ID])
}

// responseCount is the number of answers recorded so far.
func (tb *tab) responseCount() int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.responses)
}

// responsesSince returns the answers recorded after the first n.
func (tb *tab) responsesSince(n int) []response {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.responses[n:])
}

// viewport sets the window's size; mobile emulates a phone (touch, device
// scale 2).
func (tb *tab) viewport(width, height int64, mobile bool) {
	tb.t.Helper()
	if mobile {
		tb.step("mobile viewport", chromedp.EmulateViewport(width, height, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	} else {
		tb.step("desktop viewport", chromedp.EmulateViewport(width, height))
	}
}

// colorScheme emulates prefers-color-scheme ("light" or "dark").
func (tb *tab) colorScheme(scheme string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		tb.fail("emulate %s: %v", scheme, err)
	}
}

// screenshot writes a PNG of the viewport to docs/screenshots/name.png when
// LATCHKEY_SCREENSHOTS=1, so that ordinary runs leave the tree alone.
// screenshotOf scrolls the card holding the element with id to the top of
// the window, below the sticky header, then takes the screenshot name.
func (tb *tab) screenshotOf(id, name string) {
	tb.t.Helper()
	if os.Getenv("LATCHKEY_SCREENSHOTS") != "1" {
		return
	}
	tb.step("scroll to "+id, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.getElementById(`+js(id)+`).closest('section').getBoundingClientRect().top + window.scrollY - 72)`))
	tb.screenshot(name)
}

func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if os.Getenv("LATCHKEY_SCREENSHOTS") != "1" {
		return
	}
	// A toast would cover part of the picture: take it away.
	_ = eval[bool](tb, `(document.getElementById('toast').replaceChildren(), true)`)
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.fail("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}
