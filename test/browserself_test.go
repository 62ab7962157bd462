package e2e

// The browser helper's own tests: small pages served by the test itself on
// loopback, each showing that one check of browser_test.go sees what it
// must and can fail. They need Chromium and no Dapr system; they hold in
// every style, and run in make e2e's choreography run, like the other
// tests that start no system (make e2e STYLE=... runs only the trip
// scenarios of STYLE_SUITE).

import (
	"bytes"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageServer serves pages (path -> HTML) and extra handlers on 127.0.0.1,
// until the test ends; anything else answers 404.
func pageServer(t *testing.T, pages map[string]string, handlers map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, html := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, html)
		})
	}
	for pattern, h := range handlers {
		mux.HandleFunc(pattern, h)
	}
	// An icon, so that the browser's own request for one is no 404 in the
	// console of every page.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// page wraps a body in a minimal HTML document.
func page(body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>test</title></head><body>` +
		body + `</body></html>`
}

// sseHandler sends n events, one every interval, then holds the stream
// open (as a live page's stream stays open) until the client goes or a
// minute passes.
func sseHandler(n int, interval time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		flusher := w.(http.Flusher)
		for i := 1; i <= n; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
			fmt.Fprintf(w, "data: event %d\n\n", i)
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
}

// appendEvents is a script that appends an li.item to #list for each
// message of the EventSource at url.
func appendEvents(url string) string {
	return `<ul id="list"></ul><script>
new EventSource(` + fmt.Sprintf("%q", url) + `).onmessage = (e) => {
  const li = document.createElement("li");
  li.className = "item";
  li.textContent = e.data;
  document.getElementById("list").append(li);
};
</script>`
}

func TestBrowserWaitsForElementsThatServerSentEventsAdd(t *testing.T) {
	srv := pageServer(t,
		map[string]string{"/": page(appendEvents("/events"))},
		map[string]http.HandlerFunc{"GET /events": sseHandler(5, 150*time.Millisecond)})
	b := newBrowser(t)
	b.navigate(srv.URL + "/")

	n, took, err := b.waitCount("li.item", func(n int) bool { return n >= 5 }, 20*time.Second)
	if err != nil {
		t.Fatalf("the five events never made five elements: %v", err)
	}
	t.Logf("%d elements after %s", n, took.Round(time.Millisecond))
	if got := b.text("li.item:last-child"); got != "event 5" {
		t.Errorf("the last element says %q, want %q", got, "event 5")
	}
	// A count that never comes is an error after the timeout, with the
	// count it last saw.
	n, took, err = b.waitCount("li.item", func(n int) bool { return n >= 6 }, time.Second)
	if err == nil || n != 5 || took < time.Second {
		t.Errorf("waitCount for a sixth element: got n=%d after %s, err %v; want n=5 and an error after 1s", n, took, err)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the console has errors:\n%s", strings.Join(errs, "\n"))
	}
	if !slices.Contains(b.requests(), srv.URL+"/events") {
		t.Errorf("the requests do not name the stream %s/events: %q", srv.URL, b.requests())
	}
}

func TestBrowserReportsConsoleErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		header http.Header
		want   string // in one console line; "" for a clean console
	}{
		{"clean page", `<p>fine</p><script>console.log("a log line is no error"); console.info("nor is info")</script>`, nil, ""},
		{"console.error", `<script>console.error("boom from", "console.error")</script>`, nil, "console.error: boom from console.error"},
		{"console.warn", `<script>console.warn("careful")</script>`, nil, "console.warn: careful"},
		{"uncaught exception", `<script>throw new Error("boom thrown")</script>`, nil, "uncaught: Uncaught Error: boom thrown"},
		{"unhandled rejection", `<script>Promise.reject(new Error("boom rejected"))</script>`, nil, "boom rejected"},
		{"missing script", `<script src="/missing.js"></script>`, nil, "status of 404"},
		{"refused stream", `<script>new EventSource("/no-stream")</script>`, nil, "/no-stream"},
		{"content security policy", `<script>document.title = "inline"</script>`,
			http.Header{"Content-Security-Policy": {"default-src 'self'"}}, "Content Security Policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pageServer(t, nil, map[string]http.HandlerFunc{
				"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header()[k] = v
					}
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					fmt.Fprint(w, page(tt.body))
				},
			})
			b := newBrowser(t)
			b.navigate(srv.URL + "/")
			// The page's own errors are recorded by the time its load
			// event has been seen; a refused stream's may come a little
			// later, so wait for the line that is wanted.
			var errs []string
			deadline := time.Now().Add(5 * time.Second)
			for {
				errs = b.consoleErrors()
				if tt.want == "" || slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("console: %q", errs)
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("a clean page has console errors:\n%s", strings.Join(errs, "\n"))
			case tt.want != "" && !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }):
				t.Errorf("the console has no line with %q: %q", tt.want, errs)
			}
		})
	}
}

func TestBrowserRecordsRequestsToOtherHosts(t *testing.T) {
	// Another host on this machine: 127.0.0.2 is loopback too, and a site
	// of its own for the browser.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fmt.Fprint(w, "from elsewhere")
	}))
	other.Listener.Close()
	other.Listener = l
	other.Start()
	t.Cleanup(other.Close)
	elsewhere := other.URL + "/data"

	fetchInto := func(url string) string {
		return page(`<p id="out"></p><script>
fetch(` + fmt.Sprintf("%q", url) + `).then((r) => r.text()).then((text) => {
  document.getElementById("out").textContent = text;
  document.body.dataset.done = "yes";
});
</script>`)
	}
	srv := pageServer(t,
		map[string]string{"/home": fetchInto("/data"), "/away": fetchInto(elsewhere)},
		map[string]http.HandlerFunc{"GET /data": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "from home") }})

	b := newBrowser(t)
	b.navigate(srv.URL + "/home")
	if _, _, err := b.waitCount("body[data-done]", func(n int) bool { return n == 1 }, 10*time.Second); err != nil {
		t.Fatalf("the same-origin fetch did not finish: %v", err)
	}
	if got := b.requestsNotTo(srv.URL); len(got) > 0 {
		t.Errorf("a page that fetches only from its own origin made requests elsewhere: %q", got)
	}

	b.navigate(srv.URL + "/away")
	if _, _, err := b.waitCount("body[data-done]", func(n int) bool { return n == 1 }, 10*time.Second); err != nil {
		t.Fatalf("the fetch from %s did not finish: %v", elsewhere, err)
	}
	if got := b.text("#out"); got != "from elsewhere" {
		t.Errorf("#out says %q, want the other host's answer", got)
	}
	if got, want := b.requestsNotTo(srv.URL), []string{elsewhere}; !slices.Equal(got, want) {
		t.Errorf("requests elsewhere than %s: %q, want %q (all: %q)", srv.URL, got, want, b.requests())
	}
	// The console stays clean: only the record of requests shows it.
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the console has errors:\n%s", strings.Join(errs, "\n"))
	}
}

func TestBrowserTakesScreenshots(t *testing.T) {
	srv := pageServer(t, map[string]string{
		"/": page(`<h1 style="font: 24px sans-serif">Screenshot</h1><div style="height: 1500px; background: linear-gradient(#fff, #36c)"></div>`),
	}, nil)
	b := newBrowser(t)
	b.navigate(srv.URL + "/")

	// width and height of a PNG, failing unless path holds one.
	size := func(path string) (int, int) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read the screenshot: %v", err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the screenshot %s (%d bytes) is no PNG: %v", path, len(data), err)
		}
		return cfg.Width, cfg.Height
	}

	desktop := filepath.Join(t.TempDir(), "made", "on", "demand", "desktop.png")
	b.screenshot(desktop)
	// The whole page, beyond the window's 800 pixels.
	if w, h := size(desktop); w != browserWidth || h < 1500 {
		t.Errorf("the desktop screenshot is %dx%d, want %d wide and the whole page (at least 1500 high)", w, h, browserWidth)
	}

	b.mobile(390, 844)
	b.navigate(srv.URL + "/")
	var width int
	b.evaluate("window.innerWidth", &width)
	if width != 390 {
		t.Errorf("on the phone window.innerWidth is %d, want 390", width)
	}
	phone := filepath.Join(t.TempDir(), "phone.png")
	b.screenshot(phone)
	if w, _ := size(phone); w != 390 {
		t.Errorf("the phone screenshot is %d wide, want 390", w)
	}
}

// The dispatch page signs a dispatcher in with a cookie that is Secure
// (never sent in the clear to another address), HttpOnly (out of reach of
// scripts) and SameSite=Strict (never sent with a request that another
// site starts), and its stream is an EventSource, which sends no other
// credentials. Tests and make run serve it over plain HTTP on loopback, so
// this pins down what Chromium does with such a cookie there: whether it
// keeps it from Set-Cookie and from the DevTools protocol, and sends it
// with a navigation and with the page's EventSource, for 127.0.0.1 and
// for localhost.
func TestBrowserSendsSecureCookiesOverPlainHTTPOnLoopback(t *testing.T) {
	const name, value = "dispatcher", "s3cret"
	signedIn := func(r *http.Request) bool {
		c, err := r.Cookie(name)
		return err == nil && c.Value == value
	}
	srv := pageServer(t, nil, map[string]http.HandlerFunc{
		"GET /signin": func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, "/private", http.StatusSeeOther)
		},
		"GET /private": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if !signedIn(r) {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, page(`<p id="signed-out">signed out</p>`))
				return
			}
			fmt.Fprint(w, page(`<p id="signed-in">signed in</p>`+appendEvents("/private/events")))
		},
		"GET /private/events": func(w http.ResponseWriter, r *http.Request) {
			if !signedIn(r) {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			sseHandler(2, 50*time.Millisecond)(w, r)
		},
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	// Without the cookie, the page is refused: the check below can fail.
	t.Run("no cookie", func(t *testing.T) {
		b := newBrowser(t)
		if status := b.load(srv.URL + "/private"); status != http.StatusUnauthorized {
			t.Errorf("without the cookie /private answered %d, want 401", status)
		}
	})

	// dispatch.test is a made-up name that Chromium resolves to 127.0.0.1
	// (host-resolver-rules): the same server, but no loopback name, so an
	// insecure origin where a Secure cookie must not work.
	mapped := chromedp.Flag("host-resolver-rules", "MAP dispatch.test 127.0.0.1")
	for _, host := range []string{"127.0.0.1", "localhost", "dispatch.test"} {
		base := fmt.Sprintf("http://%s:%d", host, port)
		wantSignedIn := host != "dispatch.test"
		for _, how := range []string{"Set-Cookie", "network.setCookie"} {
			t.Run(host+" "+how, func(t *testing.T) {
				b := newBrowser(t, mapped)
				if how == "Set-Cookie" {
					if status := b.load(base + "/signin"); status >= 400 && wantSignedIn {
						t.Fatalf("%s/signin answered %d", base, status)
					}
				} else {
					b.setCookie(name, value, base+"/", true, true)
					b.load(base + "/private")
				}
				got := b.text("p") // #signed-in or #signed-out
				if !wantSignedIn {
					if got != "signed out" {
						t.Errorf("%s/private after %s says %q, want %q: Chromium sent a Secure cookie over http to a name that is not loopback's", base, how, got, "signed out")
					}
					return
				}
				if got != "signed in" {
					t.Fatalf("%s/private after %s says %q, want %q: Chromium did not send its Secure cookie over http://%s", base, how, got, "signed in", host)
				}
				if _, _, err := b.waitCount("li.item", func(n int) bool { return n == 2 }, 10*time.Second); err != nil {
					t.Errorf("the page's EventSource did not get its two events with the cookie: %v", err)
				}
				var cookies string
				b.evaluate("document.cookie", &cookies)
				if strings.Contains(cookies, name) {
					t.Errorf("the page's script reads the HttpOnly cookie: document.cookie = %q", cookies)
				}
				if errs := b.consoleErrors(); len(errs) > 0 {
					t.Errorf("the console has errors:\n%s", strings.Join(errs, "\n"))
				}
			})
		}
	}

	// SameSite=Strict: a navigation that another site starts (here a page
	// on 127.0.0.2 that sends the browser on) arrives without the cookie,
	// so a dispatcher who follows a link from elsewhere lands signed out;
	// opening the address itself, as above, signs in.
	t.Run("navigation from another site", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatalf("listen on 127.0.0.2: %v", err)
		}
		other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page(fmt.Sprintf(`<script>location.href = %q</script>`, srv.URL+"/private")))
		}))
		other.Listener.Close()
		other.Listener = l
		other.Start()
		t.Cleanup(other.Close)

		b := newBrowser(t)
		b.navigate(srv.URL + "/signin")
		if got := b.text("p"); got != "signed in" {
			t.Fatalf("after /signin the page says %q, want %q", got, "signed in")
		}
		b.navigate(other.URL + "/")
		if _, _, err := b.waitCount("#signed-out", func(n int) bool { return n == 1 }, 10*time.Second); err != nil {
			t.Errorf("a navigation from %s to %s/private did not land signed out: %v (the page says %q)", other.URL, srv.URL, err, b.text("p"))
		}
		// And the cookie is still there for the address itself.
		b.navigate(srv.URL + "/private")
		if got := b.text("p"); got != "signed in" {
			t.Errorf("opening %s/private again says %q, want %q", srv.URL, got, "signed in")
		}
	})
}
