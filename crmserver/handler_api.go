package crmserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// The handlers below decode, call the store, and encode; policy (who may do what,
// what is valid) lives in the route table and the store.

func (h *api) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(crmclient.OpenAPI())
	return nil
}

func (h *api) login(w http.ResponseWriter, r *http.Request) error {
	var req crmclient.LoginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.User == "" || req.Password == "" {
		return invalidf("user and password are required")
	}
	res, err := h.st.Login(r.Context(), req.User, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *api) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, principalFrom(r.Context()).user)
	return nil
}

func (h *api) putState(w http.ResponseWriter, r *http.Request) error {
	var req crmclient.AgentStateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	st, err := h.st.SetAgentState(r.Context(), principalFrom(r.Context()).user.Name, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (h *api) agents(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.AgentStates(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.AgentList{Agents: list})
	return nil
}

// findCustomers serves both the phone lookup and the name search; exactly one of
// phone and q must be given, so a client bug cannot silently get the wrong one.
func (h *api) findCustomers(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// r.URL.Query would silently drop the bad pair (e.g. one with a ';').
		return invalidf("malformed query string: %v", err)
	}
	phone, hasPhone := q["phone"]
	text, hasText := q["q"]
	var list []crmclient.Customer
	switch {
	case hasPhone == hasText:
		return invalidf("give exactly one of the query parameters phone and q")
	case hasPhone:
		region := h.region
		if rg := q.Get("region"); rg != "" {
			region = rg
		}
		e164, perr := crmclient.NormalizePhone(phone[0], region)
		if perr != nil {
			return perr
		}
		list, err = h.st.LookupPhone(r.Context(), e164)
	default:
		if utf8.RuneCountInString(text[0]) > 100 {
			return invalidf("q is too long; at most 100 characters")
		}
		limit := 0
		if l := q.Get("limit"); l != "" {
			n, perr := strconv.Atoi(l)
			if perr != nil || n < 1 || n > maxSearchLimit {
				return invalidf("limit must be an integer from 1 to %d", maxSearchLimit)
			}
			limit = n
		}
		list, err = h.st.SearchCustomers(r.Context(), text[0], limit)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.CustomerList{Customers: list})
	return nil
}

func (h *api) getCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := h.st.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *api) createCustomer(w http.ResponseWriter, r *http.Request) error {
	in, err := h.customerInput(w, r)
	if err != nil {
		return err
	}
	c, err := h.st.CreateCustomer(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/customers/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *api) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	in, err := h.customerInput(w, r)
	if err != nil {
		return err
	}
	c, err := h.st.UpdateCustomer(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// customerInput decodes a card and normalises its phones with the server's region,
// so that clients which do not normalise (curl, other CRMs' importers) still store
// E.164.
func (h *api) customerInput(w http.ResponseWriter, r *http.Request) (crmclient.CustomerInput, error) {
	var in crmclient.CustomerInput
	if err := decodeJSON(w, r, &in); err != nil {
		return in, err
	}
	if len(in.Phones) > maxPhones {
		return in, invalidf("at most %d phone numbers per customer", maxPhones)
	}
	for i, p := range in.Phones {
		e, err := crmclient.NormalizePhone(p, h.region)
		if err != nil {
			return in, invalidPhoneAt(i, err)
		}
		in.Phones[i] = e
	}
	return in, nil
}

func invalidPhoneAt(i int, err error) error {
	return &httpError{http.StatusBadRequest, crmclient.CodeInvalidPhone,
		"phones[" + strconv.Itoa(i) + "]: " + strings.TrimPrefix(err.Error(), "invalid phone number: ")}
}

func (h *api) orders(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.Orders(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.OrderList{Orders: list})
	return nil
}

func (h *api) calls(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.CallHistory(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.CallList{Calls: list})
	return nil
}
