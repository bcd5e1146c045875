package crmserver

import (
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// Handlers of contentRoutes; access rules are in the route table.

func (h *api) searchFAQ(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	text := q.Get("q")
	if utf8.RuneCountInString(text) > 100 {
		return invalidf("q is too long; at most 100 characters")
	}
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, perr := strconv.Atoi(l)
		if perr != nil || n < 1 || n > maxFAQLimit {
			return invalidf("limit must be an integer from 1 to %d", maxFAQLimit)
		}
		limit = n
	}
	list, err := h.st.SearchFAQ(r.Context(), text, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.FAQList{Entries: list})
	return nil
}

func (h *api) getFAQ(w http.ResponseWriter, r *http.Request) error {
	e, err := h.st.FAQ(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *api) createFAQ(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.FAQInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := h.st.CreateFAQ(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/faq/"+e.ID)
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (h *api) updateFAQ(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.FAQInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	e, err := h.st.UpdateFAQ(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *api) listScripts(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.Scripts(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.ScriptList{Scripts: list})
	return nil
}

func (h *api) getScript(w http.ResponseWriter, r *http.Request) error {
	s, err := h.st.Script(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *api) createScript(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.ScriptInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := h.st.CreateScript(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/scripts/"+url.PathEscape(s.ID))
	writeJSON(w, http.StatusCreated, s)
	return nil
}

func (h *api) updateScript(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.ScriptInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	s, err := h.st.UpdateScript(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *api) hints(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.Hints(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.HintList{Hints: list})
	return nil
}

func (h *api) hintRules(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.HintRules(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.HintRuleList{Rules: list})
	return nil
}

func (h *api) putHintRules(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.HintRuleList
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	list, err := h.st.PutHintRules(r.Context(), in.Rules)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.HintRuleList{Rules: list})
	return nil
}
