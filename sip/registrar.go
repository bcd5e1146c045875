package sip

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// A tiny location service (RFC 3261 §10.3), opt-in with
// Config.AcceptRegister. It exists so one opdesk Phone can stand in for a
// PBX on the same machine — the demo customer line that `opdesk demo`
// registers the operator's desk to — without a real registrar.
//
// It accepts every REGISTER: no authentication, no domain check. That is
// only safe on a loopback or private address; a Phone listening anywhere
// else must not turn it on. Bindings live in memory and die with the Phone.

// Expiry bounds for a binding when the REGISTER asks for none or too much.
const (
	locDefaultExpiry = time.Hour
	locMaxExpiry     = 24 * time.Hour
)

// Binding is one registered contact: calls to User go to Contact until
// Expires.
type Binding struct {
	AOR     string    `json:"aor"`     // the To of the REGISTER, sip:user@domain
	User    string    `json:"user"`    // the user part calls are matched on
	Contact string    `json:"contact"` // where calls to User are sent
	Expires time.Time `json:"expires"`
}

// locationService holds the bindings by user.
type locationService struct {
	mu     sync.Mutex
	now    func() time.Time
	byUser map[string][]locBinding
}

type locBinding struct {
	aor     gsip.Uri
	contact gsip.Uri
	expires time.Time
	updated time.Time
}

func newLocationService() *locationService {
	return &locationService{now: time.Now, byUser: map[string][]locBinding{}}
}

// onRegister stores, refreshes or removes the bindings a REGISTER carries
// and answers 200 with every binding the user now has (RFC 3261 §10.3).
func (p *Phone) onRegister(req *gsip.Request, tx gsip.ServerTransaction) {
	to := req.To()
	if to == nil || to.Address.User == "" {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	aor := gsip.Uri{Scheme: "sip", User: to.Address.User, Host: to.Address.Host, Port: to.Address.Port}
	defExp := -1 // no Expires header
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			defExp = n
		}
	}
	var contacts []*gsip.ContactHeader
	wildcard := false
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*gsip.ContactHeader)
		if !ok {
			continue
		}
		if ch.Address.Wildcard {
			wildcard = true
			continue
		}
		contacts = append(contacts, ch)
	}
	if wildcard && (defExp != 0 || len(contacts) > 0) {
		// §10.3 step 6: "*" only with Expires: 0 and no other contact.
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}

	loc := p.loc
	loc.mu.Lock()
	now := loc.now()
	user := aor.User
	if wildcard {
		delete(loc.byUser, user)
	}
	for _, ch := range contacts {
		exp := defExp
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				exp = n
			}
		}
		loc.update(user, aor, ch.Address, exp, now)
	}
	current := loc.live(user, now)
	loc.mu.Unlock()

	if wildcard || len(contacts) > 0 {
		p.log.Info("registration", "aor", aor.String(), "bindings", len(current))
	}
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	maxLeft := 0
	for _, b := range current {
		left := int(b.expires.Sub(now).Round(time.Second) / time.Second)
		maxLeft = max(maxLeft, left)
		ch := &gsip.ContactHeader{Address: *b.contact.Clone(), Params: gsip.NewParams()}
		ch.Params.Add("expires", strconv.Itoa(left))
		res.AppendHeader(ch)
	}
	if len(current) > 0 {
		exp := gsip.ExpiresHeader(maxLeft)
		res.AppendHeader(&exp)
	}
	res.AppendHeader(gsip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	_ = tx.Respond(res)
}

// update stores one contact of user for exp seconds (-1: the default);
// 0 removes it. The caller holds mu.
func (l *locationService) update(user string, aor, contact gsip.Uri, exp int, now time.Time) {
	key := contactKey(contact)
	bs := slices.DeleteFunc(l.byUser[user], func(b locBinding) bool { return contactKey(b.contact) == key })
	if exp != 0 {
		d := time.Duration(exp) * time.Second
		if exp < 0 {
			d = locDefaultExpiry
		}
		d = min(d, locMaxExpiry)
		bs = append(bs, locBinding{aor: aor, contact: *contact.Clone(), expires: now.Add(d), updated: now})
	}
	if len(bs) == 0 {
		delete(l.byUser, user)
		return
	}
	l.byUser[user] = bs
}

// live drops the user's expired bindings and returns the rest. The caller
// holds mu.
func (l *locationService) live(user string, now time.Time) []locBinding {
	bs := slices.DeleteFunc(l.byUser[user], func(b locBinding) bool { return !b.expires.After(now) })
	if len(bs) == 0 {
		delete(l.byUser, user)
		return nil
	}
	l.byUser[user] = bs
	return slices.Clone(bs)
}

// contactKey compares contacts by user, host, port and transport.
func contactKey(u gsip.Uri) string {
	tr := ""
	if u.UriParams != nil {
		tr, _ = u.UriParams.Get("transport")
	}
	return strings.ToLower(u.User + "@" + u.Host + ":" + strconv.Itoa(u.Port) + ";" + tr)
}

// lookup returns the most recently refreshed live contact of user.
func (l *locationService) lookup(user string) (gsip.Uri, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := l.live(user, l.now())
	if len(bs) == 0 {
		return gsip.Uri{}, false
	}
	best := bs[0]
	for _, b := range bs[1:] {
		if b.updated.After(best.updated) {
			best = b
		}
	}
	return *best.contact.Clone(), true
}

// Bindings returns the live registrations, sorted by user and contact; nil
// unless Config.AcceptRegister is set.
func (p *Phone) Bindings() []Binding {
	if p.loc == nil {
		return nil
	}
	l := p.loc
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var out []Binding
	for user := range l.byUser {
		for _, b := range l.live(user, now) {
			out = append(out, Binding{AOR: b.aor.String(), User: user, Contact: b.contact.String(), Expires: b.expires})
		}
	}
	slices.SortFunc(out, func(a, b Binding) int {
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return strings.Compare(a.Contact, b.Contact)
	})
	return out
}

// requestTarget is where an INVITE to uri goes: the registered contact
// when uri names a user of our own location service (RFC 3261 §16.5:
// the proxy retargets to the contact; To keeps the address of record),
// else uri itself.
func (p *Phone) requestTarget(uri gsip.Uri) gsip.Uri {
	if p.loc == nil || uri.User == "" || !p.isOurDomain(uri) {
		return uri
	}
	if c, ok := p.loc.lookup(uri.User); ok {
		return c
	}
	return uri
}

// isOurDomain says whether uri's host is this phone's domain or address.
func (p *Phone) isOurDomain(uri gsip.Uri) bool {
	h := strings.ToLower(uri.Host)
	if h != strings.ToLower(p.aor.Host) && h != strings.ToLower(p.host) {
		return false
	}
	return uri.Port == 0 || uri.Port == p.port
}
