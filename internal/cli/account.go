package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/spotauth/spotauth"
)

// account is the part of GET /v1/me that spotauth shows.
type account struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"`
	Country     string `json:"country,omitempty"`
	Product     string `json:"product,omitempty"`
}

func (a *account) describe() string {
	switch {
	case a.DisplayName != "" && a.DisplayName != a.ID:
		return fmt.Sprintf("%s (%s)", a.DisplayName, a.ID)
	default:
		return a.ID
	}
}

// apiError is a Web API error answer.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("spotauth: Web API answered %d: %s", e.Status, e.Message)
}

// refusedToken reports an answer that refuses the token itself (401) or
// its scopes (403): logging in again helps, trying again does not.
func (e *apiError) refusedToken() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// fetchMe calls GET /v1/me with the access token.
func fetchMe(ctx context.Context, hc *http.Client, apiURL, accessToken string) (*account, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/v1/me", nil)
	if err != nil {
		return nil, wrapf(err, "Web API URL %q", apiURL)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, wrapf(err, "GET /v1/me")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, wrapf(err, "GET /v1/me")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, newAPIError(resp, body)
	}
	var a account
	if err := json.Unmarshal(body, &a); err != nil || a.ID == "" {
		return nil, wrapf(spotauth.ErrBadResponse, "GET /v1/me: unexpected answer (not a user object)")
	}
	return &a, nil
}
