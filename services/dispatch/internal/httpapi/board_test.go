package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/dispatch/internal/auth/authtest"
	"github.com/ride-choreography/services/dispatch/internal/contracttest"
	"github.com/ride-choreography/services/dispatch/internal/httpapi"
)

// board is the JSON of GET /board, as far as the tests read it.
type board struct {
	Waiting []struct {
		TripID, RiderID string
		Pickup          struct{ Lat, Lon float64 }
		WaitedSeconds   int64
	}
	Assigned []struct {
		TripID     string
		Driver     struct{ Name string }
		ETASeconds int64
	}
	NotFound []struct{ TripID, ReasonCode string }
	Counters struct {
		WaitingNow, AssignedRecently, NotFoundRecently, WindowMinutes int
		LongestWaitSeconds                                            int64
	}
	Feed []struct{ Kind, TripID, Text string }
}

func (ts *testServer) board(t *testing.T) board {
	t.Helper()
	resp := ts.do(t, http.MethodGet, "/board", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /board: %d", resp.StatusCode)
	}
	var b board
	decodeBody(t, resp, "application/json", &b)
	return b
}

func TestTheBoardShowsWhatTheEventsSay(t *testing.T) {
	ts := newTestServer(t)
	if b := ts.board(t); len(b.Waiting)+len(b.Assigned)+len(b.NotFound)+len(b.Feed) != 0 || b.Counters.WindowMinutes != 10 {
		t.Fatalf("empty board: %+v", b)
	}
	ts.deliver(t, "trip-created", contracttest.Example(t, "trip-created"))
	b := ts.board(t)
	if len(b.Waiting) != 1 || b.Waiting[0].TripID != tripID || b.Waiting[0].RiderID != riderID ||
		b.Waiting[0].Pickup.Lat != 50.08 || b.Waiting[0].Pickup.Lon != 14.42 || b.Counters.WaitingNow != 1 {
		t.Fatalf("after trip-created: %+v, want the rider waiting at the pickup", b)
	}
	// The example was ordered at 09:30:00; the tests' clock says 09:30:02.
	if b.Waiting[0].WaitedSeconds != 2 || b.Counters.LongestWaitSeconds != 2 {
		t.Errorf("waited %d s, longest %d s; want 2 and 2", b.Waiting[0].WaitedSeconds, b.Counters.LongestWaitSeconds)
	}
	ts.deliver(t, "driver-assigned", contracttest.Example(t, "driver-assigned"))
	b = ts.board(t)
	if len(b.Waiting) != 0 || len(b.Assigned) != 1 || b.Assigned[0].Driver.Name != "Jarda" || b.Assigned[0].ETASeconds != 240 ||
		b.Counters.AssignedRecently != 1 || b.Counters.WaitingNow != 0 {
		t.Fatalf("after driver-assigned: %+v, want Jarda on the way and nobody waiting", b)
	}
	if len(b.Feed) != 2 || b.Feed[0].Kind != "assigned" || b.Feed[1].Kind != "ordered" {
		t.Errorf("feed %+v, want the assignment, then the order", b.Feed)
	}
}

// The board and its stream are for dispatchers only: no token 401, a
// rider's 403, a forged or expired one 401, all problem+json.
func TestTheBoardIsForDispatchersOnly(t *testing.T) {
	ts := newTestServer(t)
	other := authtest.New(t)
	for _, path := range []string{"/board", "/board/stream"} {
		for _, c := range []struct {
			name          string
			authorization []string
			cookie        string
			want          int
		}{
			{name: "no token", want: http.StatusUnauthorized},
			{name: "a rider's token", authorization: []string{ts.issuer.Bearer(t, riderID)}, want: http.StatusForbidden},
			{name: "a rider's token in the cookie", cookie: ts.issuer.Token(t, riderID), want: http.StatusForbidden},
			{name: "expired", authorization: []string{"Bearer " + ts.issuer.Sign(t, authtest.Claims{Subject: dispatcher, Roles: []string{"dispatcher"}, Expiry: time.Now().Add(-time.Minute)})}, want: http.StatusUnauthorized},
			{name: "signed by another issuer's key", authorization: []string{"Bearer " + other.Sign(t, authtest.Claims{Subject: dispatcher, Roles: []string{"dispatcher"}, Issuer: ts.issuer.URL})}, want: http.StatusUnauthorized},
			{name: "a forged cookie", cookie: "not-a-token", want: http.StatusUnauthorized},
			{name: "two Authorization headers", authorization: []string{"Bearer " + ts.issuer.DispatcherToken(t, dispatcher), "Bearer x"}, want: http.StatusBadRequest},
		} {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				for _, a := range c.authorization {
					req.Header.Add("Authorization", a)
				}
				if c.cookie != "" {
					req.AddCookie(&http.Cookie{Name: "dispatch_session", Value: c.cookie})
				}
				rec := httptest.NewRecorder()
				ts.handler.ServeHTTP(rec, req)
				resp := rec.Result()
				var p problem
				decodeBody(t, resp, "application/problem+json", &p)
				if resp.StatusCode != c.want || p.Status != c.want {
					t.Errorf("%d %+v, want %d", resp.StatusCode, p, c.want)
				}
				if c.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer challenge: %q", resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
}

// signIn posts the sign-in form with token and returns the answer.
func (ts *testServer) signIn(t *testing.T, form url.Values) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec.Result()
}

func TestADispatcherSignsInAndOut(t *testing.T) {
	ts := newTestServer(t)
	page := func(cookie *http.Cookie) *http.Response {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		return rec.Result()
	}
	if resp := page(nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Fatalf("GET / without a session: %d to %q, want 303 to /signin", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := ts.do(t, http.MethodGet, "/signin", nil)
	if body, _ := io.ReadAll(form.Body); form.StatusCode != http.StatusOK || !strings.Contains(string(body), `<form method="post" action="/signin">`) {
		t.Fatalf("GET /signin: %d %s", form.StatusCode, body)
	}

	token := ts.issuer.DispatcherToken(t, dispatcher)
	resp := ts.signIn(t, url.Values{"token": {token}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign-in set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if c.Name != "dispatch_session" || c.Value != token || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" ||
		time.Until(c.Expires) < 50*time.Minute {
		t.Errorf("session cookie %+v, want the token, HttpOnly, Secure, SameSite=Strict, for the token's hour", c)
	}
	resp = page(c)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), dispatcher) || !strings.Contains(string(body), `<svg id="map"`) {
		t.Fatalf("GET / signed in: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") || !strings.Contains(got, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", got)
	}

	req := httptest.NewRequest(http.MethodPost, "/signout", nil)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	out := rec.Result()
	if out.StatusCode != http.StatusSeeOther || len(out.Cookies()) != 1 || out.Cookies()[0].MaxAge >= 0 {
		t.Errorf("sign-out: %d, cookies %+v; want 303 and the session cookie deleted", out.StatusCode, out.Cookies())
	}
}

func TestSignInRefusesWhatIsNoDispatchersToken(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"no token", url.Values{}, http.StatusBadRequest, "paste a dispatcher"},
		{"a rider's token", url.Values{"token": {ts.issuer.Token(t, riderID)}}, http.StatusForbidden, "dispatcher role"},
		{"expired", url.Values{"token": {ts.issuer.Sign(t, authtest.Claims{Subject: dispatcher, Roles: []string{"dispatcher"}, Expiry: time.Now().Add(-time.Minute)})}}, http.StatusUnauthorized, "expired"},
		{"not a token", url.Values{"token": {"<script>alert(1)</script>"}}, http.StatusUnauthorized, "not valid"},
		{"larger than a token", url.Values{"token": {strings.Repeat("a", 20<<10)}}, http.StatusRequestEntityTooLarge, "larger"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := ts.signIn(t, c.form)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.says) || len(resp.Cookies()) != 0 {
				t.Errorf("%d, cookies %v, %s; want %d saying %q and no cookie", resp.StatusCode, resp.Cookies(), body, c.status, c.says)
			}
			if strings.Contains(string(body), "<script>") {
				t.Error("the form repeats what was posted, unescaped")
			}
		})
	}
}

func TestTheStreamFollowsTheBoard(t *testing.T) {
	ts := newTestServer(t)
	server := httptest.NewServer(ts.handler)
	defer server.Close()
	req, _ := http.NewRequest(http.MethodGet, server.URL+"/board/stream", nil)
	req.Header.Set("Authorization", "Bearer "+ts.issuer.DispatcherToken(t, dispatcher))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("%d %q, want 200 and an event stream", resp.StatusCode, ct)
	}
	events := make(chan board, 100)
	go func() {
		lines := bufio.NewScanner(resp.Body)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				var b board
				if json.Unmarshal([]byte(data), &b) == nil {
					events <- b
				}
			}
		}
		close(events)
	}()
	if b := <-events; len(b.Waiting) != 0 {
		t.Fatalf("first board %+v, want it empty", b)
	}
	ts.deliver(t, "trip-created", contracttest.Example(t, "trip-created"))
	deadline := time.After(5 * time.Second)
	for {
		select {
		case b, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if len(b.Waiting) == 1 && b.Waiting[0].TripID == tripID {
				return
			}
		case <-deadline:
			t.Fatal("the ordered trip never reached the stream")
		}
	}
}

func TestADispatcherHoldsAFewStreamsAtMost(t *testing.T) {
	ts := newTestServer(t, func(d *httpapi.Deps) { d.MaxStreamsPerDispatcher = 2 })
	server := httptest.NewServer(ts.handler)
	t.Cleanup(server.Close) // last: after the streams' cleanups closed them
	open := func(who string) *http.Response {
		ctx, cancel := context.WithCancel(t.Context())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server.URL+"/board/stream", nil)
		req.Header.Set("Authorization", "Bearer "+ts.issuer.DispatcherToken(t, who))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for range 2 {
		if resp := open(dispatcher); resp.StatusCode != http.StatusOK {
			t.Fatalf("stream: %d, want 200", resp.StatusCode)
		}
	}
	resp := open(dispatcher)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third stream: %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := open("dispatcher-2"); resp.StatusCode != http.StatusOK {
		t.Errorf("another dispatcher's stream: %d, want 200", resp.StatusCode)
	}
}

func TestThePageServesItsOwnFilesOnly(t *testing.T) {
	ts := newTestServer(t)
	for path, want := range map[string]string{
		"/static/app.js":    "text/javascript; charset=utf-8",
		"/static/style.css": "text/css; charset=utf-8",
		"/static/area.json": "application/json",
		"/static/icon.svg":  "image/svg+xml",
	} {
		resp := ts.do(t, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d %q, want 200 %q and nosniff", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	for _, path := range []string{"/static/", "/static/missing.js", "/static/../index.html", "/static/%2e%2e/signin.html", "/index.html"} {
		resp := ts.do(t, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMovedPermanently {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	var area struct{ Outline, River [][2]float64 }
	decodeBody(t, ts.do(t, http.MethodGet, "/static/area.json", nil), "application/json", &area)
	if len(area.Outline) < 10 || len(area.River) < 5 {
		t.Errorf("area: %d points of outline, %d of river", len(area.Outline), len(area.River))
	}
}
