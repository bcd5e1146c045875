package crmserver

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/opdesk/opdesk/crmclient"
)

// assigned refuses an agent a campaign they do not work on. Supervisors see
// every campaign. The answer is the same whether the campaign exists or not,
// so an agent cannot probe for other teams' campaigns.
func assigned(p principal, campaignID string) error {
	if p.user.Role == crmclient.RoleSupervisor || slices.Contains(p.user.Campaigns, campaignID) {
		return nil
	}
	name := campaignID
	if !slugRE.MatchString(name) {
		name = fmt.Sprintf("%q", name)
	}
	return &httpError{http.StatusForbidden, crmclient.CodeForbidden, "you are not assigned to campaign " + name}
}

func (h *api) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	var ids []string
	if p.user.Role != crmclient.RoleSupervisor {
		ids = append([]string{}, p.user.Campaigns...)
	}
	list, err := h.st.Campaigns(r.Context(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.CampaignList{Campaigns: list})
	return nil
}

func (h *api) getCampaign(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := assigned(principalFrom(r.Context()), id); err != nil {
		return err
	}
	c, err := h.st.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *api) createCampaign(w http.ResponseWriter, r *http.Request) error {
	var c crmclient.Campaign
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	c, err := h.st.CreateCampaign(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *api) updateCampaign(w http.ResponseWriter, r *http.Request) error {
	var c crmclient.Campaign
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	c, err := h.st.UpdateCampaign(r.Context(), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *api) nextLead(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id := r.PathValue("id")
	if err := assigned(p, id); err != nil {
		return err
	}
	l, err := h.st.NextLead(r.Context(), id, p.user.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// leadFor loads the lead named in the path and checks the caller works on its campaign.
func (h *api) leadFor(r *http.Request) (crmclient.Lead, error) {
	l, err := h.st.Lead(r.Context(), r.PathValue("id"))
	if err != nil {
		return l, err
	}
	return l, assigned(principalFrom(r.Context()), l.CampaignID)
}

func (h *api) releaseLead(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.leadFor(r); err != nil {
		return err
	}
	var req crmclient.ReleaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	l, err := h.st.ReleaseLead(r.Context(), r.PathValue("id"), principalFrom(r.Context()).user.Name, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (h *api) recordAttempt(w http.ResponseWriter, r *http.Request) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	if _, err := h.leadFor(r); err != nil {
		return err
	}
	var req crmclient.AttemptRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	status, body, err := h.st.attemptRaw(r.Context(), principalFrom(r.Context()).user, key, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeRaw(w, status, body)
	return nil
}

func (h *api) dispose(w http.ResponseWriter, r *http.Request) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var in crmclient.DispositionInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.CampaignID == "" {
		return unprocessableHTTP("campaign_id is required")
	}
	p := principalFrom(r.Context())
	if err := assigned(p, in.CampaignID); err != nil {
		return err
	}
	if in.Phone != "" {
		e, err := crmclient.NormalizePhone(in.Phone, h.region)
		if err != nil {
			return &httpError{http.StatusBadRequest, crmclient.CodeInvalidPhone, "phone: " + err.Error()}
		}
		in.Phone = e
	}
	status, body, err := h.st.disposeRaw(r.Context(), p.user, key, in)
	if err != nil {
		return err
	}
	writeRaw(w, status, body)
	return nil
}

func (h *api) callbacks(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	missed := false
	switch q.Get("missed") {
	case "", "false":
	case "true":
		missed = true
	default:
		return invalidf("missed must be true or false")
	}
	list, err := h.st.Callbacks(r.Context(), principalFrom(r.Context()).user, missed)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.CallbackList{Callbacks: list})
	return nil
}

func (h *api) getDNC(w http.ResponseWriter, r *http.Request) error {
	e164, err := crmclient.NormalizePhone(r.PathValue("e164"), h.region)
	if err != nil {
		return err
	}
	e, err := h.st.DNC(r.Context(), e164)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *api) addDNC(w http.ResponseWriter, r *http.Request) error {
	var req crmclient.DNCRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	e164, err := crmclient.NormalizePhone(req.Phone, h.region)
	if err != nil {
		return err
	}
	req.Phone = e164
	e, created, err := h.st.AddDNC(r.Context(), principalFrom(r.Context()).user.Name, req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, e)
	return nil
}

func (h *api) removeDNC(w http.ResponseWriter, r *http.Request) error {
	e164, err := crmclient.NormalizePhone(r.PathValue("e164"), h.region)
	if err != nil {
		return err
	}
	if err := h.st.RemoveDNC(r.Context(), e164); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// idempotencyKey reads the Idempotency-Key header that every outbox write carries.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if !validKey(k) {
		return "", invalidf("the Idempotency-Key header is required: 1–200 printable ASCII characters, e.g. a UUID")
	}
	return k, nil
}

func unprocessableHTTP(msg string) error {
	return &httpError{http.StatusUnprocessableEntity, crmclient.CodeInvalidRequest, msg}
}

// writeRaw sends a stored JSON answer exactly as it was sent the first time.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
