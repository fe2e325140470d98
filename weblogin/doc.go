// Package weblogin is "Log in with Spotify" for Go web servers built on
// net/http: many users log in with the authorization code flow (with PKCE,
// RFC 7636), and the server calls the Web API on each one's behalf, from
// any number of replicas.
//
// An [Auth] provides the login, callback and logout handlers, middleware
// that requires a logged-in user ([Auth.RequireUser]) or scopes
// ([Auth.RequireScopes], which sends the user through a step-up login that
// keeps the scopes granted before), and, in a handler, the user's Spotify
// ID ([UserID]) and an *http.Client ([Client]) or token source
// ([TokenSource]) that refreshes the user's token once per expiry across
// replicas and retries a request once on 401.
//
//	users, err := redisstore.NewStores(rdb, "myapp:user:", nil) // one subscription for all users
//	...
//	auth, err := weblogin.New(cfg, weblogin.Options{
//		Keys:  keys, // weblogin.ParseKeys(os.Getenv("SESSION_KEYS"))
//		Store: func(id string) (spotauth.TokenStore, error) { return users.TokenStore(weblogin.StoreKey(id)) },
//	})
//	...
//	mux.HandleFunc("GET /login", auth.Login)
//	mux.HandleFunc("GET /callback", auth.Callback) // the path of cfg.RedirectURL
//	mux.HandleFunc("POST /logout", auth.Logout)
//	mux.Handle("GET /", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		resp, err := weblogin.Client(r).Get("https://api.spotify.com/v1/me/playlists")
//		...
//	})))
//
// # Sessions
//
// Nothing about a session is kept in server memory: a cookie holds it,
// sealed with AES-256-GCM under [Options.Keys] (the first key seals, all
// open, for rotation), HttpOnly, SameSite=Lax, Secure (with the __Host-
// prefix) when the redirect URI is https. The session cookie carries the
// user's ID, a session ID drawn anew at every login (so that a session
// planted before a login does not survive it), when the user authorized
// the app, and its expiry. A login in progress lives in a second cookie,
// for 10 minutes: its state and PKCE code verifier, where to go next and
// the scopes asked for, so that the callback may land on any replica. A
// cookie that is tampered with, expired, or sealed by another deployment's
// keys does not open, and counts as none.
//
// A sealed cookie cannot be revoked before it expires except by rotating
// the keys: a logout deletes it from the browser, and
// [Options.ForgetOnLogout] also deletes the user's stored token, which ends
// every session of the user.
//
// # Tokens
//
// Each user's token lives in a [spotauth.TokenStore] of its own, which
// [Options.Store] opens by user ID: one key per user in Redis (from a
// redisstore.Stores, whose users share one subscription per process), one
// file per user (store/filestore), or [MemoryStores] for a single process;
// store/storecrypt encrypts them at rest. Replicas share the stores, and
// refresh each user's token once per expiry between them through the
// store's lease (see [spotauth.Config.EnsureToken]); with Redis, each
// replica sends at most three commands per expiry of a user's token.
//
// The token sources of active users are kept in a bounded cache
// ([Options.MaxUsers], least recently used out). They are on demand
// ([spotauth.SourceOptions].OnDemand): an idle user costs no timer, no
// goroutine and no token request; the first request in the refresh window
// refreshes. A logged-in request with a valid cached token opens the cookie,
// finds the source and reads its token without touching the store.
//
// A user who logs in again, on any replica, gets a session whose
// authorization time is newer than the token other replicas cached: they
// load the new token from the store at the session's first request there.
package weblogin
