package weblogin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// profile is what the callback reads of the Web API's current user.
type profile struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
}

// me returns the profile of the user whose access token is access:
// GET {APIURL}/v1/me.
func (a *Auth) me(ctx context.Context, access string) (*profile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.apiURL+"/v1/me", nil)
	if err != nil {
		return nil, fmt.Errorf("spotauth: web login: /v1/me: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/json")
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("spotauth: web login: /v1/me: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("spotauth: web login: /v1/me: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("spotauth: web login: /v1/me answered %s", resp.Status)
	}
	var p profile
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("spotauth: web login: /v1/me: not a user object: %w", err)
	}
	if !validUserID(p.ID) {
		return nil, fmt.Errorf("spotauth: web login: /v1/me gave no usable user ID (%d bytes)", len(p.ID))
	}
	return &p, nil
}

// validUserID reports whether id can be a session's user: 1 to 255 bytes of
// UTF-8 without control characters. Spotify's IDs are base-62 strings, or
// the user names of older accounts.
func validUserID(id string) bool {
	if id == "" || len(id) > maxUserID || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
