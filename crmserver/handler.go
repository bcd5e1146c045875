package crmserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// access says who may call a route.
type access int

const (
	public     access = iota // no token (login, the OpenAPI document)
	anyUser                  // any valid token
	supervisor               // valid token with role supervisor; agents get 403
)

// route is one documented operation. The table is the single place routes are
// declared, so the test that compares it with openapi.json sees all of them.
type route struct {
	pattern string // net/http.ServeMux pattern, "GET /v1/customers/{id}"
	access  access
	handle  func(h *api, w http.ResponseWriter, r *http.Request) error
}

// routes is every operation; each area of the contract declares its own table
// beside its handlers.
var routes = slices.Concat(coreRoutes, contentRoutes, campaignRoutes, eventRoutes, counterRoutes, wallboardRoutes)

var coreRoutes = []route{
	{"GET /openapi.json", public, (*api).openapi},
	{"POST /v1/login", public, (*api).login},
	{"GET /v1/me", anyUser, (*api).me},
	{"PUT /v1/me/state", anyUser, (*api).putState},
	{"GET /v1/agents", supervisor, (*api).agents},
	{"GET /v1/customers", anyUser, (*api).findCustomers},
	{"POST /v1/customers", anyUser, (*api).createCustomer},
	{"GET /v1/customers/{id}", anyUser, (*api).getCustomer},
	{"PUT /v1/customers/{id}", anyUser, (*api).updateCustomer},
	{"GET /v1/customers/{id}/orders", anyUser, (*api).orders},
	{"GET /v1/customers/{id}/calls", anyUser, (*api).calls},
}

// HandlerOption configures the HTTP handler.
type HandlerOption func(*api)

// WithLogger sets where requests and server faults are logged (default: nowhere).
// Bodies, query strings and Authorization headers are never logged: they carry
// passwords, tokens and customers' phone numbers.
func WithLogger(l *slog.Logger) HandlerOption { return func(h *api) { h.log = l } }

// WithDefaultRegion sets the region for phone numbers sent without a country code
// and without a region parameter (default "JP").
func WithDefaultRegion(region string) HandlerOption { return func(h *api) { h.region = region } }

// WithRequestTimeout bounds the work of one request (default 5 s), so a slow query
// frees its connection instead of piling up behind a stuck client.
func WithRequestTimeout(d time.Duration) HandlerOption { return func(h *api) { h.timeout = d } }

// maxBody is the request body limit. The largest legitimate body in this slice is a
// customer card with 10 000 characters of notes; 1 MiB leaves ample room.
const maxBody = 1 << 20

type api struct {
	st      *Store
	log     *slog.Logger
	region  string
	timeout time.Duration
	zone    *time.Location // the CRM's day (WithTimeZone)
	ev      eventConfig    // the event stream, monitor key and recordings (events_stream.go)
}

// Handler returns the CRM's HTTP API over the store: the routes of openapi.json under
// /v1/ plus /openapi.json, JSON errors for everything else (404, 405, panics).
// Serve it with NewHTTPServer, which sets the connection timeouts.
func (s *Store) Handler(opts ...HandlerOption) http.Handler {
	h := &api{st: s, log: slog.New(slog.DiscardHandler), region: "JP", timeout: 5 * time.Second, zone: defaultZone}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path → methods, for 405 answers
	for _, rt := range routes {
		mux.Handle(rt.pattern, h.wrap(rt))
		method, path, _ := strings.Cut(rt.pattern, " ")
		allowed[path] = append(allowed[path], method)
	}
	// A method-less pattern is less specific than "GET /x", so it only catches the
	// methods that are not served, and answers 405 in our JSON shape.
	for path, methods := range allowed {
		sort.Strings(methods)
		allow := strings.Join(methods, ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, crmclient.CodeMethodNotAllowed,
				fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, path, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, crmclient.CodeNotFound, "no such endpoint; see /openapi.json")
	})
	return h.recoverer(mux)
}

// wrap adds, around one route: the per-request timeout (except on untimedRoutes),
// authentication and role checks, error mapping and the access log line.
func (h *api) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if !untimedRoutes[rt.pattern] {
			ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		sw := &statusWriter{ResponseWriter: w}
		user := ""

		err := func() error {
			if rt.access == public {
				return rt.handle(h, sw, r)
			}
			p, err := h.authenticate(r)
			if err != nil {
				return err
			}
			user = p.user.Name
			if rt.access == supervisor && p.user.Role != crmclient.RoleSupervisor {
				return &httpError{http.StatusForbidden, crmclient.CodeForbidden, "this needs the supervisor role"}
			}
			return rt.handle(h, sw, r.WithContext(withPrincipal(r.Context(), p)))
		}()
		if err != nil {
			h.fail(sw, r, err)
		}
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelError
		}
		h.log.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
			slog.String("route", rt.pattern), slog.Int("status", sw.status),
			slog.Duration("took", time.Since(start)), slog.String("user", user))
	})
}

// authenticate reads "Authorization: Bearer <token>".
func (h *api) authenticate(r *http.Request) (principal, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return principal{}, &httpError{http.StatusUnauthorized, crmclient.CodeUnauthorized,
			"missing bearer token; log in with POST /v1/login"}
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return principal{}, &httpError{http.StatusUnauthorized, crmclient.CodeUnauthorized,
			"Authorization header must be \"Bearer <token>\""}
	}
	return h.st.userByToken(r.Context(), strings.TrimSpace(token))
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// recoverer turns a panic in a handler into a 500 with a JSON body and a logged
// stack, so one bad request cannot take the CRM down for the whole floor.
func (h *api) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("panic", slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				writeError(w, http.StatusInternalServerError, crmclient.CodeInternal, "internal error; see the server log")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
