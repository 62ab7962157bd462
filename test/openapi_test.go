package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The public interface is written down in contracts/openapi.yaml (OpenAPI
// 3.1), and the suite holds every service to it: each client of the
// harness sends its requests through a contractTransport, which checks
// every answer of a service's public port, and the request of every 2xx
// answer, against the document with kin-openapi. A mismatch fails the test
// that made the request (or, for a request no test owns, such as a
// readiness probe, the run, in TestMain), naming the request. The static
// tests below hold the document to the routes the services serve, and
// the checker to the mistakes it must catch.

// contractFile is the document, from test/.
const contractFile = "../contracts/openapi.yaml"

// servedBy is the extension of an operation that names the services that
// serve it: trip, driver, notification, orchestrator, workflow, devissuer.
const servedBy = "x-served-by"

// internalPrefixes are the paths of the routes that only a sidecar calls
// (fromSidecar in each routes.go: the subscription protocol, the events,
// the steps). They are not public, so the document leaves them out and the
// checker lets them pass; TestOpenAPIDocumentsEveryPublicRoute holds the
// routes to these prefixes.
var internalPrefixes = []string{"/dapr/", "/events/", "/steps/"}

func internalPath(path string) bool {
	return slices.ContainsFunc(internalPrefixes, func(p string) bool { return strings.HasPrefix(path, p) })
}

// contract is the loaded document, and what the checker saw of it.
type contract struct {
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	answers  int            // answers checked
	requests int            // requests checked (those of 2xx answers)
	covered  map[string]int // operation ("GET /trips/{id}") -> answers checked
	// orphans are the mismatches of requests that no test owns: TestMain
	// fails the run with them.
	orphans []string
	// passed holds the exchanges found right, by exchangeKey: the same
	// request answered the same again (a test polling a trip) is right
	// again, and kin-openapi, which compiles a JSON Schema validator for
	// every body it checks, costs about 1 ms of CPU per check.
	passed map[[sha256.Size]byte]bool
}

// theContract loads the document once.
var theContract = sync.OnceValues(func() (*contract, error) { return loadContract(contractFile) })

// loadContract loads and validates the document, and routes requests to
// its operations on any host and port: the services of a test system
// listen on free ports, not those of the servers the document names.
func loadContract(path string) (*contract, error) {
	// The dispatchers' page and its files are text the document holds to
	// a content type only (a string schema).
	for _, mt := range []string{"text/html", "text/javascript", "text/css", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
	}
	ctx := context.Background()
	loader := &openapi3.Loader{Context: ctx, IsExternalRefsAllowed: true}
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &contract{doc: doc, router: router, covered: map[string]int{}, passed: map[[sha256.Size]byte]bool{}}, nil
}

// publicPorts maps the host:port of each running service's public HTTP
// API to the service (its binary: trip, orchestrator, devissuer, ...).
// The harness adds a service when it starts it and removes its system's
// at stop; requests to any other address (a sidecar, Redis, the backlog
// exporter, Jaeger) pass unchecked.
var publicPorts = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func servePublic(hostport, service string) {
	publicPorts.Lock()
	defer publicPorts.Unlock()
	publicPorts.m[hostport] = service
}

func unservePublic(hostport string) {
	publicPorts.Lock()
	defer publicPorts.Unlock()
	delete(publicPorts.m, hostport)
}

func publicService(hostport string) (string, bool) {
	publicPorts.Lock()
	defer publicPorts.Unlock()
	service, ok := publicPorts.m[hostport]
	return service, ok
}

// hostPort is the host:port of a base URL such as app.url().
func hostPort(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// contractTransport checks what goes through it to a public port against
// contracts/openapi.yaml: every answer (status, headers, body; a stream's
// status, headers and content type only), and the request of each 2xx
// answer (the tests of bad input send bad requests on purpose, and a
// refusal is what the document says they get).
type contractTransport struct {
	next     http.RoundTripper
	contract func() (*contract, error)
}

// checked returns next behind a contractTransport of the document.
func checked(next http.RoundTripper) http.RoundTripper {
	return contractTransport{next: next, contract: theContract}
}

func (ct contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	service, public := publicService(req.URL.Host)
	if !public || internalPath(req.URL.Path) {
		return ct.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := ct.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	stream := isStream(resp.Header)
	var body []byte
	if !stream {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			// A cut-off answer cannot be judged; the caller reads the
			// same error.
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errorReader{err}))
			return resp, nil
		}
		body = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	c, err := ct.contract()
	var problems []string
	if err != nil {
		problems = []string{err.Error()}
	} else {
		problems = c.check(service, req, reqBody, resp.StatusCode, resp.Header, body, stream)
	}
	if len(problems) > 0 {
		c.reportMismatch(req.Context(), fmt.Sprintf("contracts/openapi.yaml: %s %s to %s answered %d, which it does not allow:\n\t%s",
			req.Method, req.URL.RequestURI(), service, resp.StatusCode, strings.Join(problems, "\n\t")))
	}
	return resp, nil
}

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// isStream reports whether an answer is a Server-Sent Events stream,
// which stays open: its body is not read.
func isStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// check returns what is wrong with one exchange with service, by the
// document.
func (c *contract) check(service string, req *http.Request, reqBody []byte, status int, header http.Header, body []byte, stream bool) []string {
	key := exchangeKey(service, req, reqBody, status, header, body)
	c.mu.Lock()
	seen := c.passed[key]
	c.mu.Unlock()
	if seen {
		route, _, _ := c.router.FindRoute(req)
		c.count(route, status)
		return nil
	}
	problems := c.judge(service, req, reqBody, status, header, body, stream)
	if len(problems) == 0 {
		c.mu.Lock()
		c.passed[key] = true
		c.mu.Unlock()
	}
	return problems
}

// exchangeKey identifies an exchange by everything the check reads of it:
// the request whole, and the answer but for its Date.
func exchangeKey(service string, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) [sha256.Size]byte {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	headers := func(hh http.Header) {
		names := slices.Sorted(maps.Keys(hh))
		for _, name := range names {
			if name == "Date" {
				continue
			}
			field(name)
			for _, v := range hh[name] {
				field(v)
			}
		}
		field("")
	}
	field(service)
	field(req.Method)
	field(req.URL.String())
	headers(req.Header)
	field(string(reqBody))
	field(strconv.Itoa(status))
	headers(header)
	field(string(body))
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

// judge checks one exchange against the document.
func (c *contract) judge(service string, req *http.Request, reqBody []byte, status int, header http.Header, body []byte, stream bool) []string {
	ctx := context.Background()
	r := req.Clone(ctx)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.router.FindRoute(r)
	c.count(route, status)
	switch {
	case err != nil:
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // the service agrees: there is no such operation
		}
		return []string{fmt.Sprintf("the document has no operation %s %s (%v)", req.Method, req.URL.Path, err)}
	case !slices.Contains(servers(route.Operation), service):
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil
		}
		return []string{fmt.Sprintf("the document says only %v serve %s %s", servers(route.Operation), route.Method, route.Path)}
	}
	// The router leaves path parameters percent-encoded; the services
	// check them decoded (a rider id "a/b" is sent as a%2Fb).
	for name, value := range params {
		if v, err := url.PathUnescape(value); err == nil {
			params[name] = v
		}
	}
	opts := &openapi3filter.Options{AuthenticationFunc: bearerSent, MultiError: true}
	opts.WithCustomSchemaErrorFunc(schemaError)
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	var problems []string
	if status/100 == 2 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			problems = append(problems, "request: "+shortError(err))
		}
	}
	outOpts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: stream}
	outOpts.WithCustomSchemaErrorFunc(schemaError)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: outOpts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, "answer: "+shortError(err))
	} else if stream {
		// The library checks the content type along with the body, which
		// a stream's check leaves out.
		if ref := route.Operation.Responses.Status(status); ref == nil || ref.Value.Content.Get(header.Get("Content-Type")) == nil {
			problems = append(problems, fmt.Sprintf("answer: a stream (%s) where the document has none", header.Get("Content-Type")))
		}
	}
	return problems
}

// count notes one answer checked, of route's operation (nil for none),
// and its request when the answer is a 2xx.
func (c *contract) count(route *routers.Route, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers++
	if status/100 == 2 {
		c.requests++
	}
	if route != nil {
		c.covered[route.Method+" "+route.Path]++
	}
}

// servers are the services that serve an operation, by its x-served-by.
func servers(op *openapi3.Operation) []string {
	list, _ := op.Extensions[servedBy].([]any)
	var names []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			names = append(names, s)
		}
	}
	return names
}

// bearerSent is the checker's side of the security schemes: a 2xx answer
// to an operation that wants a bearer token must have had one, and one
// that wants a cookie (the dispatchers' session) must have had that
// cookie. The services check the token itself.
func bearerSent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if sc := in.SecurityScheme; sc.Type == "apiKey" && sc.In == "cookie" {
		if c, err := in.RequestValidationInput.Request.Cookie(sc.Name); err != nil || c.Value == "" {
			return in.NewError(fmt.Errorf("the request has no cookie %s", sc.Name))
		}
		return nil
	}
	if in.SecurityScheme.Type != "http" || !strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		return in.NewError(fmt.Errorf("the checker knows no security scheme %s %s", in.SecurityScheme.Type, in.SecurityScheme.Scheme))
	}
	scheme, token, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("the request has no bearer token"))
	}
	return nil
}

// schemaError says what is wrong and where, without the library's dump of
// the whole schema.
func schemaError(err *openapi3.SchemaError) string {
	if at := err.JSONPointer(); len(at) > 0 {
		return fmt.Sprintf("%s (at /%s)", err.Reason, strings.Join(at, "/"))
	}
	return err.Reason
}

// shortError is err's message, cut to what a test log can hold.
func shortError(err error) string {
	const most = 2000
	s := strings.ReplaceAll(err.Error(), "\n", "\n\t")
	if len(s) > most {
		s = s[:most] + " ..."
	}
	return s
}

// tbKey marks, in a request's context, the test that made the request.
type tbKey struct{}

// withTest returns ctx marked as the context of t's requests: a mismatch
// in one of them fails t.
func withTest(ctx context.Context, t testing.TB) context.Context {
	return context.WithValue(ctx, tbKey{}, t)
}

// reportMismatch fails the test of ctx with msg, or, for a request of no
// test, keeps msg for TestMain.
func (c *contract) reportMismatch(ctx context.Context, msg string) {
	if t, ok := ctx.Value(tbKey{}).(testing.TB); ok {
		t.Errorf("%s", msg)
		return
	}
	if c == nil { // the document did not load: no test will pass
		fmt.Fprintln(os.Stderr, msg)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.orphans = append(c.orphans, msg)
}

// contractSummary tells what the checker saw in the run, and returns false
// when a request of no test broke the document.
func contractSummary(w io.Writer) bool {
	c, err := theContract()
	if err != nil {
		return true // no check ran, or each one failed its test
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == 0 {
		return true
	}
	var missed []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			if c.covered[method+" "+path] == 0 {
				missed = append(missed, method+" "+path)
			}
		}
	}
	slices.Sort(missed)
	fmt.Fprintf(w, "e2e: contracts/openapi.yaml: %d answers (%d different ones found right) and %d requests checked, %d of %d operations exercised",
		c.answers, len(c.passed), c.requests, len(c.covered), len(c.covered)+len(missed))
	if len(missed) > 0 {
		fmt.Fprintf(w, " (not: %s)", strings.Join(missed, ", "))
	}
	fmt.Fprintln(w)
	for _, msg := range c.orphans {
		fmt.Fprintf(w, "e2e: %s\n", msg)
	}
	return len(c.orphans) == 0
}

// route is a method and a path template, as "GET /trips/{id}".
type route struct{ method, path string }

func (r route) String() string { return r.method + " " + r.path }

// selectorCalls parses the Go file and calls visit with every call of a
// method or package function (x.f(...)) in it, outermost first.
func selectorCalls(file string, visit func(fset *token.FileSet, call *ast.CallExpr, sel *ast.SelectorExpr)) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		return err
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				visit(fset, call, sel)
			}
		}
		return true
	})
	return nil
}

// servedRoutes reads the routes a service's routes.go adds (addRoutes):
// each r.Handle(path, handler).Methods(...), and whether its handler is
// for the sidecar only (fromSidecar).
func servedRoutes(file string) (public, internal []route, err error) {
	read := map[*ast.CallExpr]bool{}
	var errs []error
	err = selectorCalls(file, func(fset *token.FileSet, call *ast.CallExpr, sel *ast.SelectorExpr) {
		if sel.Sel.Name == "Methods" {
			handle, ok := sel.X.(*ast.CallExpr)
			if !ok {
				return
			}
			hsel, ok := handle.Fun.(*ast.SelectorExpr)
			if !ok || (hsel.Sel.Name != "Handle" && hsel.Sel.Name != "HandleFunc") || len(handle.Args) != 2 {
				return
			}
			read[handle] = true
			path, err := stringLit(handle.Args[0])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", fset.Position(handle.Pos()), err))
				return
			}
			path = withoutPatterns(path)
			sidecar := false
			if inner, ok := handle.Args[1].(*ast.CallExpr); ok {
				if id, ok := inner.Fun.(*ast.Ident); ok && id.Name == "fromSidecar" {
					sidecar = true
				}
			}
			for _, arg := range call.Args {
				m, ok := arg.(*ast.SelectorExpr)
				if x, isIdent := m.X.(*ast.Ident); !ok || !isIdent || x.Name != "http" || !strings.HasPrefix(m.Sel.Name, "Method") {
					errs = append(errs, fmt.Errorf("%s: a method the test cannot read", fset.Position(arg.Pos())))
					continue
				}
				r := route{strings.ToUpper(strings.TrimPrefix(m.Sel.Name, "Method")), path}
				if sidecar {
					internal = append(internal, r)
				} else {
					public = append(public, r)
				}
			}
			return
		}
		switch sel.Sel.Name {
		case "Handle", "HandleFunc", "Path", "PathPrefix", "NewRoute", "Host", "Subrouter":
			if !read[call] {
				errs = append(errs, fmt.Errorf("%s: a route the test cannot read (not r.Handle(path, handler).Methods(...)); teach servedRoutes", fset.Position(call.Pos())))
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if len(public)+len(internal) == 0 {
		errs = append(errs, fmt.Errorf("%s: no route found", file))
	}
	return public, internal, errors.Join(errs...)
}

// issuerRoutes reads the routes of the development issuer's ServeMux:
// each mux.HandleFunc("METHOD /path", ...).
func issuerRoutes(file string) ([]route, error) {
	var routes []route
	var errs []error
	err := selectorCalls(file, func(fset *token.FileSet, call *ast.CallExpr, sel *ast.SelectorExpr) {
		if (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(call.Args) != 2 {
			return
		}
		pattern, err := stringLit(call.Args[0])
		method, path, ok := strings.Cut(pattern, " ")
		if err != nil || !ok || !strings.HasPrefix(path, "/") {
			errs = append(errs, fmt.Errorf("%s: a pattern the test cannot read (want \"METHOD /path\")", fset.Position(call.Pos())))
			return
		}
		routes = append(routes, route{method, path})
	})
	if err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		errs = append(errs, fmt.Errorf("%s: no route found", file))
	}
	return routes, errors.Join(errs...)
}

func stringLit(e ast.Expr) (string, error) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", errors.New("a path that is not a string literal")
	}
	return strconv.Unquote(lit.Value)
}

// withoutPatterns turns gorilla/mux's {name:pattern} into OpenAPI's {name}.
func withoutPatterns(path string) string {
	var b strings.Builder
	for {
		open := strings.Index(path, "{")
		if open < 0 {
			b.WriteString(path)
			return b.String()
		}
		end := strings.Index(path[open:], "}")
		if end < 0 {
			b.WriteString(path)
			return b.String()
		}
		name, _, _ := strings.Cut(path[open+1:open+end], ":")
		b.WriteString(path[:open] + "{" + name + "}")
		path = path[open+end+1:]
	}
}

// TestOpenAPIDocumentsEveryPublicRoute: contracts/openapi.yaml documents
// every public route of every service (each routes.go under services/,
// and the development issuer's), each operation says which services serve
// it, and no route the document lists is missing from a service it names.
// The routes only a sidecar calls stay out of it.
func TestOpenAPIDocumentsEveryPublicRoute(t *testing.T) {
	c, err := loadContract(contractFile)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[route][]string{} // -> services, by x-served-by
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := route{method, path}
			documented[r] = servers(op)
			if len(documented[r]) == 0 {
				t.Errorf("%s: %s has no %s naming the services that serve it", contractFile, r, servedBy)
			}
			if internalPath(path) {
				t.Errorf("%s documents %s, a route only a sidecar calls", contractFile, r)
			}
		}
	}

	served := map[route][]string{}
	files, err := filepath.Glob(filepath.Join("..", "services", "*", "internal", "httpapi", "routes.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d routes.go under services/, want one for each of trip, driver, notification, dispatch, orchestrator and workflow", len(files))
	}
	for _, file := range files {
		service := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(file))))
		public, internal, err := servedRoutes(file)
		if err != nil {
			t.Error(err)
		}
		for _, r := range public {
			if internalPath(r.path) {
				t.Errorf("%s: %s serves %s to anyone, under a path the checker takes for the sidecar's (%v)", file, service, r, internalPrefixes)
			}
			served[r] = append(served[r], service)
		}
		for _, r := range internal {
			if !internalPath(r.path) {
				t.Errorf("%s: %s serves %s to its sidecar only (fromSidecar), outside %v: the checker would take it for a public route", file, service, r, internalPrefixes)
			}
		}
	}
	issuer := filepath.Join("..", "devissuer", "internal", "issuer", "issuer.go")
	routes, err := issuerRoutes(issuer)
	if err != nil {
		t.Error(err)
	}
	for _, r := range routes {
		served[r] = append(served[r], "devissuer")
	}

	for r, services := range served {
		for _, s := range services {
			if !slices.Contains(documented[r], s) {
				t.Errorf("%s serves %s, which %s does not document for it (%s: %v)", s, r, contractFile, servedBy, documented[r])
			}
		}
	}
	for r, services := range documented {
		for _, s := range services {
			if !slices.Contains(served[r], s) {
				t.Errorf("%s documents %s as served by %s, which serves no such route", contractFile, r, s)
			}
		}
	}
	if len(served) == 0 || len(documented) == 0 {
		t.Fatalf("read %d served and %d documented routes", len(served), len(documented))
	}
}

// TestEveryServiceAnswersAsDocumented: every service of a running system,
// in its style, answers each operation the document says it serves and
// that needs no input (health, readiness, metrics, dead letters, the
// driver pool, the issuer's keys and discovery document) with a 2xx, and
// the checker judges each answer: so every such operation is held to the
// document on every service that serves it, which the scenarios alone
// would leave to chance.
func TestEveryServiceAnswersAsDocumented(t *testing.T) {
	sys := shared(t)
	c, err := theContract()
	if err != nil {
		t.Fatal(err)
	}
	bases := map[string]string{devIssuer: sys.issuerURL()} // service -> base URL
	for _, name := range services {
		a := sys.app(name)
		bases[cmp.Or(a.binary, a.name)] = a.url()
	}
	asked := map[string]int{}
	for _, path := range c.doc.Paths.InMatchingOrder() {
		op := c.doc.Paths.Value(path).Get
		if op == nil || needsInput(op) {
			continue
		}
		for _, service := range servers(op) {
			base, ok := bases[service]
			if !ok {
				continue // not in this style
			}
			asked[service]++
			t.Run(service+path, func(t *testing.T) {
				if r := doWith(t, bareClient, http.MethodGet, base+path, ""); r.status/100 != 2 {
					t.Errorf("GET %s of %s: want a 2xx, got %s", path, service, r)
				}
			})
		}
	}
	for service := range bases {
		if asked[service] == 0 {
			t.Errorf("%s runs, but the document has no operation of it that needs no input", service)
		}
	}
}

// needsInput reports whether an operation wants a token, a body or a
// required parameter.
func needsInput(op *openapi3.Operation) bool {
	if op.Security != nil && len(*op.Security) > 0 || op.RequestBody != nil {
		return true
	}
	return slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool { return p.Value.Required })
}

// recordingT is a test whose failures a test reads: what the checker
// reports about a request made with it.
type recordingT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingT) Helper() {}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// cannedTransport answers every request with its response.
type cannedTransport struct {
	status int
	header http.Header
	body   string
}

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: c.status, Header: c.header.Clone(), Body: io.NopCloser(strings.NewReader(c.body)), Request: req}, nil
}

// TestOpenAPICheckCatchesWrongAnswers: the checker reports answers and
// requests that break the document, each a case of its own, and lets a
// right one pass, so that a suite that checks every answer means
// something.
func TestOpenAPICheckCatchesWrongAnswers(t *testing.T) {
	c, err := loadContract(contractFile)
	if err != nil {
		t.Fatal(err)
	}
	check := func() (*contract, error) { return c, nil }
	hosts := map[string]string{"trip": "trip.contract.invalid", "notification": "notification.contract.invalid",
		"driver": "driver.contract.invalid", "devissuer": "devissuer.contract.invalid"}
	for service, host := range hosts {
		servePublic(host, service)
		t.Cleanup(func() { unservePublic(host) })
	}
	const tripID = "1f0e7a9c-3d0b-4b8e-9a41-6c2f0d1e2b3a"
	trip := `{"tripId":"` + tripID + `","riderId":"rider-1","status":"requested","pickup":{"lat":50.08,"lon":14.42},` +
		`"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}`
	assigned := strings.Replace(trip, `"status":"requested"`, `"status":"driver_assigned","etaSeconds":60,`+
		`"driver":{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"}}`, 1)
	order := `{"pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	problem := http.Header{"Content-Type": {"application/problem+json"}}
	withHeader := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	created := withHeader(jsonHeader, "Location", "/trips/"+tripID)
	notFound := `{"type":"about:blank","title":"Not Found","status":404,"detail":"no trip has this id","instance":"/trips/` + tripID + `"}`
	tests := []struct {
		name         string
		service      string
		method, path string
		body         string // of the request
		anonymous    bool   // sent without a bearer token
		answer       cannedTransport
		want         string // in the report; "" for none
	}{
		{"a right order", "trip", "POST", "/trips", order, false, cannedTransport{202, created, trip}, ""},
		{"a right assigned trip", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{200, jsonHeader, assigned}, ""},
		{"a right refusal", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{404, problem, notFound}, ""},
		{"an unknown route answered 404", "trip", "GET", "/nowhere", "", false, cannedTransport{404, problem, `{"type":"about:blank","title":"Not Found","status":404}`}, ""},

		{"wrong status", "trip", "POST", "/trips", order, false, cannedTransport{200, created, trip}, "status is not supported"},
		{"missing required field", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{200, jsonHeader, strings.Replace(trip, `"status":"requested",`, "", 1)}, "status"},
		{"undocumented field", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{200, jsonHeader, strings.Replace(trip, `{`, `{"fare":12,`, 1)}, "fare"},
		{"driver without its status", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{200, jsonHeader, strings.Replace(assigned, `"driver_assigned"`, `"requested"`, 1)}, "answer"},
		{"wrong content type", "trip", "POST", "/trips", order, false, cannedTransport{202, withHeader(created, "Content-Type", "text/plain"), trip}, "text/plain"},
		{"no Location", "trip", "POST", "/trips", order, false, cannedTransport{202, jsonHeader, trip}, "Location"},
		{"401 without a challenge", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{401, problem, `{"type":"about:blank","title":"Unauthorized","status":401}`}, "WWW-Authenticate"},
		{"429 without Retry-After", "trip", "POST", "/trips", order, false, cannedTransport{429, problem, `{"type":"about:blank","title":"Too Many Requests","status":429}`}, "Retry-After"},
		{"problem as JSON", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{404, jsonHeader, notFound}, "application/json"},
		{"problem of another status", "trip", "GET", "/trips/" + tripID, "", false, cannedTransport{404, problem, strings.Replace(notFound, `"status":404`, `"status":400`, 1)}, "status"},
		{"an order the document refuses, accepted", "trip", "POST", "/trips", strings.Replace(order, "50.08", "91", 1), false, cannedTransport{202, created, trip}, "request"},
		{"an order with no token, accepted", "trip", "POST", "/trips", order, true, cannedTransport{202, created, trip}, "request"},
		{"a stream of the wrong type", "notification", "GET", "/riders/rider-1/notifications/stream", "", false, cannedTransport{200, withHeader(jsonHeader, "Cache-Control", "no-cache"), `{}`}, "answer"},
		{"a list as a stream", "notification", "GET", "/riders/rider-1/notifications", "", false, cannedTransport{200, http.Header{"Content-Type": {"text/event-stream"}}, ""}, "stream"},
		{"a route of another service", "trip", "GET", "/drivers", "", false, cannedTransport{200, jsonHeader, `{"drivers":[]}`}, "only [driver] serve"},
		{"an undocumented route served", "trip", "GET", "/trips", "", false, cannedTransport{200, jsonHeader, `[]`}, "no operation GET /trips"},
		{"a driver on a trip without its trip", "driver", "GET", "/drivers", "", false, cannedTransport{200, jsonHeader,
			`{"drivers":[{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"},"position":{"lat":50.0755,"lon":14.4378},"status":"on_trip"}]}`}, "tripId"},
		{"a token without its newline", "devissuer", "GET", "/token?sub=rider-1", "", false, cannedTransport{200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Cache-Control": {"no-store"}}, "a.b.c"}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingT{TB: t}
			var body io.Reader = http.NoBody
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequestWithContext(withTest(context.Background(), rec), tt.method, "http://"+hosts[tt.service]+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if !tt.anonymous {
				req.Header.Set("Authorization", "Bearer a.b.c")
			}
			resp, err := contractTransport{next: tt.answer, contract: check}.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if string(got) != tt.answer.body {
				t.Errorf("the checker gave the caller %q, not the answer %q", got, tt.answer.body)
			}
			if len(rec.errors) > 0 {
				t.Logf("reported: %s", rec.errors[0])
			}
			switch {
			case tt.want == "" && len(rec.errors) > 0:
				t.Errorf("a right exchange was reported: %s", rec.errors)
			case tt.want != "" && len(rec.errors) == 0:
				t.Errorf("not reported; want a report naming %q", tt.want)
			case tt.want != "" && !strings.Contains(rec.errors[0], tt.want):
				t.Errorf("report %q does not name %q", rec.errors[0], tt.want)
			case tt.want != "" && !strings.Contains(rec.errors[0], tt.method+" "+tt.path):
				t.Errorf("report %q does not name the request %s %s", rec.errors[0], tt.method, tt.path)
			}
		})
	}
}
