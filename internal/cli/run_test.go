package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spotauth/spotauth"
)

// These tests call run functions with their options alone: no cobra, no
// Factory, no files, no network.

func TestRunTokenFromOptions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &settings{Profile: "work", source: map[string]string{"profile": "flag --profile"}}
	valid := &spotauth.Token{AccessToken: "BQvalid", TokenType: "Bearer", Expiry: now.Add(time.Hour), Scope: spotauth.NewScopes(spotauth.ScopeUserReadEmail)}
	tests := []struct {
		name     string
		tok      *spotauth.Token
		require  []string
		wantOut  string
		wantCode int
		wantErr  error
	}{
		{name: "valid", tok: valid, wantOut: "BQvalid\n"},
		{name: "not logged in", wantCode: ExitAuth, wantErr: spotauth.ErrTokenNotFound},
		{name: "missing scope", tok: valid, require: []string{"user-top-read"}, wantCode: ExitAuth},
		{name: "expiring, no client ID to refresh it", tok: &spotauth.Token{AccessToken: "BQold", RefreshToken: "AQr", Expiry: now.Add(30 * time.Second)},
			wantCode: ExitConfig, wantErr: spotauth.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, out, _ := TestStreams("")
			opts := &tokenOptions{
				IO:       io,
				Now:      func() time.Time { return now },
				Settings: func() (*settings, error) { return s, nil },
				OpenStore: func(*settings, tokenKind) (spotauth.TokenStore, error) {
					st := &spotauth.MemoryStore{}
					if tt.tok != nil {
						_ = st.Save(context.Background(), tt.tok)
					}
					return st, nil
				},
				MinValid:      time.Minute,
				RequireScopes: tt.require,
			}
			err := runToken(context.Background(), opts)
			if code, _ := classify(err); code != tt.wantCode || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("runToken() = %v (exit %d); want exit %d matching %v", err, code, tt.wantCode, tt.wantErr)
			}
			if out.String() != tt.wantOut {
				t.Errorf("runToken() printed %q; want %q", out.String(), tt.wantOut)
			}
			if err != nil && !strings.Contains(hintFor(err), "--profile work") && tt.wantCode == ExitAuth {
				t.Errorf("hint %q; want the login line of profile work", hintFor(err))
			}
		})
	}
}
