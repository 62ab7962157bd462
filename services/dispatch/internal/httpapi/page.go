package httpapi

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/rs/zerolog"
)

// web holds the dispatchers' page, served by the binary itself: standard
// HTML, CSS and JavaScript, and the outline of the area as data, with no
// request to any other host (contentSecurityPolicy forbids any).
//
//go:embed web
var web embed.FS

var (
	pageTemplate   = template.Must(template.ParseFS(web, "web/index.html"))
	signInTemplate = template.Must(template.ParseFS(web, "web/signin.html"))
)

// contentSecurityPolicy lets the page load its own scripts, styles and
// stream only: nothing from another host, no inline script, no frames.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets on every answer the headers that keep a browser from
// doing more than the page means: the content security policy, no
// guessing of content types, no referrer to other hosts.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// handlePage serves the dispatchers' page to the dispatcher fromDispatcher
// admitted.
func handlePage(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if err := pageTemplate.Execute(w, struct{ Dispatcher string }{dispatcherOf(r)}); err != nil {
			logger.Warn().Err(err).Msg("page not sent whole")
		}
	})
}

// handleSignInForm serves the sign-in form.
func handleSignInForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeSignInForm(w, http.StatusOK, "")
	})
}

// writeSignInForm answers the sign-in form with status, saying problem
// when there is one.
func writeSignInForm(w http.ResponseWriter, status int, problem string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = signInTemplate.Execute(w, struct{ Problem string }{problem})
}

// handleStatic serves the page's scripts, styles and area data, the files
// of web/static; anything else under /static/ is no such route.
func handleStatic(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "web" + r.URL.Path
		if info, err := fs.Stat(web, name); err != nil || info.IsDir() {
			writeError(logger, w, r, &requestError{status: http.StatusNotFound, detail: "no such route"})
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, web, name)
	})
}
