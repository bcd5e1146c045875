package crmserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/opdesk/opdesk/crmclient"
)

// httpError is an answer decided by the HTTP layer itself.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

// fail maps an error from a handler or the store to a status and a JSON body. The
// message of a 500 is generic: details (SQL, paths) go to the log, not to clients.
func (h *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var re *ruleError
	var inv *invalidError
	switch {
	case errors.As(err, &he):
		if he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="opdesk"`)
		}
		writeError(w, he.status, he.code, he.message)
	case errors.As(err, &re):
		d := crmclient.ErrorDetail{Code: re.code, Message: re.msg}
		if !re.retryAt.IsZero() {
			d.RetryAt = &re.retryAt
		}
		writeJSON(w, re.status, crmclient.ErrorBody{Error: d})
	case errors.Is(err, crmclient.ErrInvalidPhone):
		writeError(w, http.StatusBadRequest, crmclient.CodeInvalidPhone, err.Error())
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, crmclient.CodeInvalidRequest, inv.msg)
	case errors.Is(err, ErrUnknownToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="opdesk", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, crmclient.CodeUnauthorized, "unknown or expired token; log in again")
	case errors.Is(err, ErrBadCredentials):
		writeError(w, http.StatusUnauthorized, crmclient.CodeInvalidCredentials, "wrong user name or password")
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, crmclient.CodeNotFound, err.Error())
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() != nil:
		h.log.Error("request timed out", slog.String("method", r.Method), slog.String("route", r.Pattern))
		writeError(w, http.StatusServiceUnavailable, crmclient.CodeUnavailable, "the CRM is too busy; try again")
	default:
		h.log.Error("request failed", slog.String("method", r.Method), slog.String("route", r.Pattern),
			slog.String("err", err.Error()))
		writeError(w, http.StatusInternalServerError, crmclient.CodeInternal, "internal error; see the server log")
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, crmclient.ErrorBody{Error: crmclient.ErrorDetail{Code: code, Message: message}})
}

// writeJSON sends v. Customer data is personal, so nothing may be cached on the way.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"cannot encode the answer"}}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads a request body of at most maxBody bytes into dst, refusing unknown
// fields, wrong types and trailing data, with messages that say what to fix.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &httpError{http.StatusUnsupportedMediaType, crmclient.CodeUnsupportedMedia,
				fmt.Sprintf("Content-Type must be application/json, not %q", ct)}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		if err != nil && isTooLarge(err) {
			return jsonError(err)
		}
		return badJSON("the body must hold exactly one JSON object")
	}
	return nil
}

func badJSON(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, crmclient.CodeInvalidJSON, fmt.Sprintf(format, args...)}
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// jsonError explains a decoding failure in words a client developer can act on.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return &httpError{http.StatusRequestEntityTooLarge, crmclient.CodeBodyTooLarge,
			fmt.Sprintf("request body is larger than %d bytes (1 MiB)", maxBody)}
	case errors.Is(err, io.EOF):
		return badJSON("request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return badJSON("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badJSON("the body must be a JSON object, not %s", typ.Value)
		}
		return badJSON("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badJSON("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return badJSON("cannot decode JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonKind names a Go type the way the OpenAPI document does.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
