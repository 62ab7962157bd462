package e2e

// A real browser for the tests of web pages: headless Chromium (Debian's
// package, which scripts/chromium.sh installs and make e2e passes in
// CHROMIUM), driven through the DevTools protocol by chromedp. A browser
// records, from its first moment, what a person would see in the DevTools
// console (console.error and console.warn calls, uncaught exceptions and
// unhandled rejections, and the browser's own error log: a script that
// answered 404, a Content-Security-Policy violation, an EventSource
// refused) and the URL of every request the page makes, so that a test can
// prove a page clean and self-contained. browserself_test.go shows that
// each of these checks can fail.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	// browserStartTimeout bounds the start of Chromium, up to its first
	// blank tab (about a second on 2 idle cores; CI builds beside it).
	browserStartTimeout = 60 * time.Second
	// browserActionTimeout bounds each action: a page load, a script, a
	// screenshot.
	browserActionTimeout = 30 * time.Second
	// browserWidth and browserHeight are the window of every browser, a
	// laptop's; mobile emulates a phone's instead.
	browserWidth, browserHeight = 1280, 800
)

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab's chromedp context

	mu       sync.Mutex
	console  []string // errors and warnings, as consoleErrors returns them
	urls     []string // every request's URL, in order
	output   lockedBuffer
	closeAll func()
}

// newBrowser starts headless Chromium from CHROMIUM (or chromium on the
// PATH) with a throwaway profile under t.TempDir(), opens a blank tab and
// starts recording its console and requests. The browser closes when the
// test ends. A missing Chromium fails the test: the browser tests are part
// of make test, never skipped. extra adds or overrides Chromium's flags,
// e.g. chromedp.Flag("host-resolver-rules", "MAP example.test 127.0.0.1").
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := chromiumPath(t)
	b := &browser{t: t}
	// The profile folder is made before the browser's cleanup is
	// registered, so that (cleanups run last first) it is removed after
	// Chromium has exited.
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		// CI runs as root, where Chromium's sandbox cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(browserWidth, browserHeight),
		// Nothing but the pages under test: this machine reaches no
		// network, and a browser that calls home fills its log with
		// refused connections (chromedp's defaults already turn off
		// background networking, sync and the first-run page).
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.CombinedOutput(&b.output),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.record))
	b.ctx = ctx
	b.closeAll = func() {
		// A graceful close first, so that Chromium writes nothing into the
		// profile after the folder is removed; then the process is killed
		// if it is still there.
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing Chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Chromium's output (last 4 KB):\n%s", b.output.tail(4096))
		}
		b.closeAll()
	})

	// The first Run starts the browser and lives as long as it does, so it
	// gets no deadline of its own (chromedp.Run); the wait is bounded here.
	started := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void]("undefined"))
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium %s: %v\nits output:\n%s", exe, err, b.output.tail(4096))
		}
	case <-time.After(browserStartTimeout):
		b.closeAll()
		t.Fatalf("Chromium %s did not open a tab within %s\nits output:\n%s", exe, browserStartTimeout, b.output.tail(4096))
	}
	return b
}

// chromiumPath is CHROMIUM, or else chromium on the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("CHROMIUM"); path != "" {
		return path
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("CHROMIUM is not set and no chromium is on the PATH. The browser tests drive Debian's Chromium: " +
			"install it with scripts/chromium.sh (as root), or run the tests with `make e2e`, which sets CHROMIUM=$(scripts/chromium.sh)")
	}
	return path
}

// record keeps what the tab reports. chromedp calls it on the goroutine
// that reads the tab's messages, in their order, so an event is recorded
// before the reply of any command sent after it arrives: a page's error is
// in consoleErrors once the action that caused it has returned.
func (b *browser) record(ev any) {
	var line, reqURL string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert:
			line = "console.error: " + consoleArgs(ev.Args)
		case runtime.ConsoleAPICalledTypeWarning:
			line = "console.warn: " + consoleArgs(ev.Args)
		}
	case *runtime.EventExceptionThrown:
		line = "uncaught: " + exceptionText(ev.ExceptionDetails)
	case *log.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == log.EntryLevelError {
			line = fmt.Sprintf("log (%s): %s", ev.Entry.Source, ev.Entry.Text)
			if ev.Entry.URL != "" {
				line += " [" + ev.Entry.URL + "]"
			}
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			reqURL = ev.Request.URL
		}
	}
	if line == "" && reqURL == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if line != "" {
		b.console = append(b.console, line)
	}
	if reqURL != "" {
		b.urls = append(b.urls, reqURL)
	}
}

// consoleArgs renders a console call's arguments as the console shows them,
// closely enough to read.
func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && len(a.Value) > 0:
			if err := json.Unmarshal(a.Value, &s); err != nil {
				s = string(a.Value)
			}
		case a.Description != "":
			s = a.Description
		case len(a.Value) > 0:
			s = string(a.Value)
		default:
			s = string(a.UnserializableValue)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// exceptionText is an uncaught exception's text and error, with where it
// was thrown.
func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		// The description is the error's message and its stack; the first
		// line says what happened.
		first, _, _ := strings.Cut(d.Exception.Description, "\n")
		s += " " + first
	}
	if d.URL != "" {
		s += fmt.Sprintf(" [%s:%d]", d.URL, d.LineNumber+1)
	}
	return s
}

// browserRun runs an action with browserActionTimeout and fails the test, naming
// what, when it fails.
func browserRun[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// setCookie puts a cookie into the browser for url, as a site's Set-Cookie
// would: httpOnly hides it from the page's scripts, secure limits it to
// secure contexts. It fails the test when Chromium refuses the cookie.
func (b *browser) setCookie(name, value, url string, httpOnly, secure bool) {
	b.t.Helper()
	browserRun(b, fmt.Sprintf("set cookie %s for %s", name, url), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name:     name,
			Value:    value,
			URL:      url,
			HTTPOnly: &httpOnly,
			Secure:   &secure,
		})
		return err
	}))
}

// load opens url in the tab, waits for its load event and returns the HTTP
// status of the document; it fails the test only when the page does not
// load at all (no answer, a refused connection, the timeout).
func (b *browser) load(url string) int {
	b.t.Helper()
	resp := browserRun(b, "load "+url, chromedp.NavigateResponse(url))
	if resp == nil {
		b.t.Fatalf("browser: load %s: no response for the document", url)
	}
	return int(resp.Status)
}

// navigate opens url in the tab and waits for its load event; it fails the
// test unless the document answered 2xx or 3xx.
func (b *browser) navigate(url string) {
	b.t.Helper()
	if status := b.load(url); status >= 400 {
		b.t.Fatalf("browser: navigate to %s: the document answered %d", url, status)
	}
}

// waitCount polls document.querySelectorAll(selector).length until want
// holds, and returns the last count and how long it waited; the error
// says what was awaited when timeout passes first. It leaves failing to
// the caller, which may expect a count never to come.
func (b *browser) waitCount(selector string, want func(n int) bool, timeout time.Duration) (int, time.Duration, error) {
	b.t.Helper()
	sel, err := json.Marshal(selector)
	if err != nil {
		b.t.Fatalf("browser: selector %q: %v", selector, err)
	}
	js := "document.querySelectorAll(" + string(sel) + ").length"
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	n := -1
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err == nil {
			n = got
			if want(n) {
				return n, time.Since(start), nil
			}
		} else if ctx.Err() == nil && !isNavigating(err) {
			return n, time.Since(start), fmt.Errorf("count %s: %w", selector, err)
		}
		select {
		case <-ctx.Done():
			return n, time.Since(start), fmt.Errorf("waited %s for the count of %s to be as wanted; last count %d", timeout, selector, n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// isNavigating says whether a script failed because its page was replaced
// while it ran, which the next poll gets past.
func isNavigating(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Cannot find context with specified id")
}

// text is the visible text (innerText) of the first element that selector
// matches, waiting for one to exist.
func (b *browser) text(selector string) string {
	b.t.Helper()
	return browserRun(b, "text of "+selector, chromedp.Text(chromedp.CSS(selector), chromedp.NodeReady))
}

// screenshot writes a PNG of the whole page (beyond the window, if it is
// longer) to path, creating its folder.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	png := browserRun(b, "screenshot for "+path, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
}

// consoleErrors is everything that a person would see in red or yellow in
// the DevTools console so far, one line each: console.error,
// console.assert and console.warn calls, uncaught exceptions and
// unhandled rejections, and the browser's error log (failed loads, CSP
// violations, refused EventSources).
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// requests is the URL of every request the tab made so far, in order: the
// documents, their scripts, styles and images, fetches and EventSources.
func (b *browser) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}

// requestsNotTo is the requests to anywhere but origin (scheme://host:port,
// as an httptest.Server's URL): what a self-contained page must not make.
// Browser-internal URLs (data:, blob:, about:) stay on the page and are
// left out.
func (b *browser) requestsNotTo(origin string) []string {
	var elsewhere []string
	for _, u := range b.requests() {
		parsed, err := url.Parse(u)
		if err == nil && (parsed.Scheme == "data" || parsed.Scheme == "blob" || parsed.Scheme == "about") {
			continue
		}
		if err != nil || parsed.Scheme+"://"+parsed.Host != origin {
			elsewhere = append(elsewhere, u)
		}
	}
	return elsewhere
}

// mobile makes the tab a phone's screen of width x height CSS pixels
// (touch, the mobile viewport meta tag honoured, scale 1 so that
// screenshots stay small); the next load lays out for it.
func (b *browser) mobile(width, height int) {
	b.t.Helper()
	browserRun(b, fmt.Sprintf("emulate a %dx%d phone", width, height), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width:             int64(width),
			Height:            int64(height),
			DeviceScaleFactor: 1,
			Mobile:            true,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true})
		return err
	}))
}

// evaluate runs js in the page, awaiting it if it is a promise, and decodes
// its JSON value into out (nil: the value is dropped).
func (b *browser) evaluate(js string, out any) {
	b.t.Helper()
	raw := browserRun(b, "evaluate "+js, chromedp.Evaluate[*runtime.RemoteObject](js,
		func(p *runtime.EvaluateParams) {
			byValue, await := true, true
			p.ReturnByValue = &byValue
			p.AwaitPromise = &await
		}))
	if out == nil {
		return
	}
	if raw == nil || len(raw.Value) == 0 {
		b.t.Fatalf("browser: evaluate %s: no value (%s)", js, raw.Type)
	}
	if err := json.Unmarshal(raw.Value, out); err != nil {
		b.t.Fatalf("browser: evaluate %s: decode %s: %v", js, raw.Value, err)
	}
}

// lockedBuffer collects Chromium's output, which arrives from another
// goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// tail is the last n bytes written, without the lines about D-Bus, which
// a machine without a desktop session fills the output with.
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var kept []byte
	for line := range bytes.Lines(l.buf.Bytes()) {
		if !bytes.Contains(line, []byte(":ERROR:dbus/")) {
			kept = append(kept, line...)
		}
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return string(kept)
}
