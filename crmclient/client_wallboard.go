package crmclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Wallboard interval bounds: GET /v1/wallboard refuses others.
const (
	MinWallboardInterval     = 5 * time.Minute
	MaxWallboardInterval     = 60 * time.Minute
	DefaultWallboardInterval = 15 * time.Minute
)

// Wallboard returns the figures of day ("2025-06-18" in the CRM's time zone;
// "" is today there) with interval counts every interval (whole minutes from
// MinWallboardInterval to MaxWallboardInterval; 0 is DefaultWallboardInterval).
// Supervisors only: an agent gets ErrForbidden. See Wallboard for what each
// figure means.
func (c *Client) Wallboard(ctx context.Context, day string, interval time.Duration) (Wallboard, error) {
	q := url.Values{}
	if day != "" {
		q.Set("day", day)
	}
	if interval != 0 {
		if interval%time.Minute != 0 || interval < MinWallboardInterval || interval > MaxWallboardInterval {
			return Wallboard{}, fmt.Errorf("wallboard: interval %v must be whole minutes from %v to %v",
				interval, MinWallboardInterval, MaxWallboardInterval)
		}
		q.Set("interval", strconv.Itoa(int(interval/time.Minute)))
	}
	var out Wallboard
	err := c.do(ctx, http.MethodGet, "/v1/wallboard", q, nil, &out)
	return out, err
}
