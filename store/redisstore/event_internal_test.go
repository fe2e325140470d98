package redisstore

import (
	"fmt"
	"testing"

	"github.com/spotauth/spotauth"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in   string
		want spotauth.StoreEvent
		ok   bool
	}{
		{"saved 3", spotauth.StoreEvent{Kind: spotauth.StoreSaved, Version: 3}, true},
		{"deleted 10", spotauth.StoreEvent{Kind: spotauth.StoreDeleted, Version: 10}, true},
		{"released", spotauth.StoreEvent{Kind: spotauth.StoreReleased}, true},
		{"released 1", spotauth.StoreEvent{}, false},
		{"saved", spotauth.StoreEvent{}, false},
		{"saved -1", spotauth.StoreEvent{}, false},
		{"saved x", spotauth.StoreEvent{}, false},
		{"", spotauth.StoreEvent{}, false},
		{"other 1", spotauth.StoreEvent{}, false},
		{"saved 4 {\"token\": 1}", spotauth.StoreEvent{Kind: spotauth.StoreSaved, Version: 4}, true},
		{"deleted 4 x", spotauth.StoreEvent{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseEvent(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseEvent(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{"saved 1", "deleted 2", "released", "saved 99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := parseEvent(s)
		if !ok {
			return
		}
		var back string
		if e.Kind == spotauth.StoreReleased {
			back = "released"
		} else {
			back = fmt.Sprintf("%s %d", map[spotauth.StoreEventKind]string{spotauth.StoreSaved: "saved", spotauth.StoreDeleted: "deleted"}[e.Kind], e.Version)
		}
		if e2, ok2 := parseEvent(back); !ok2 || e2 != e {
			t.Errorf("parseEvent(%q) = %+v; reparse of %q = %+v, %v", s, e, back, e2, ok2)
		}
	})
}

func TestParseMessageToken(t *testing.T) {
	for _, tc := range []struct{ in, token string }{
		{"saved 4 {\"token\": {\"a\": 1}}", "{\"token\": {\"a\": 1}}"},
		{"saved 4 SAE\x01 binary \x00 bytes", "SAE\x01 binary \x00 bytes"},
		{"saved 4", ""},
		{"deleted 5", ""},
	} {
		if _, tok, ok := parseMessage(tc.in); !ok || tok != tc.token {
			t.Errorf("parseMessage(%q) = token %q, %v; want %q", tc.in, tok, ok, tc.token)
		}
	}
}

func TestGlobEscape(t *testing.T) {
	if got := globEscape(`a*b?c[d]e\f`); got != `a\*b\?c\[d\]e\\f` {
		t.Errorf("globEscape = %q", got)
	}
}
