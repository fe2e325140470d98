package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"github.com/spotauth/spotauth"
	"github.com/spotauth/spotauth/internal/wire"
)

type apiOptions struct {
	IO         *IOStreams
	HTTPClient *http.Client
	Now        func() time.Time
	Sleep      func(context.Context, time.Duration) error
	Settings   func() (*settings, error)
	OpenStore  storeOpener

	Endpoint    string
	Method      string // upper case; GET, or POST with fields or --input
	RawFields   []string
	TypedFields []string
	Input       string // a file, "-" for stdin
	Headers     []string
	Paginate    bool
	JQ          string
	Include     bool

	// Parsed from the flags by the constructor.
	fields []apiField
	header http.Header
	jq     *gojq.Code
}

// Limits of spotauth api.
const (
	// maxAPIRetryAfter is the longest Retry-After of a 429 waited out;
	// a longer one is an error that says how long.
	maxAPIRetryAfter = 30 * time.Second
	// maxAPIWaits bounds the 429s waited out for one request.
	maxAPIWaits = 3
	// defaultRetryAfter is waited after a 429 without a usable Retry-After.
	defaultRetryAfter = time.Second
	// maxAPIBody bounds an answer, and an --input body.
	maxAPIBody = 64 << 20
)

// apiMethods are the methods spotauth api sends (those of the Web API,
// and PATCH and HEAD).
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead}

func newAPICmd(f *Factory, runF func(context.Context, *apiOptions) error) *cobra.Command {
	opts := &apiOptions{IO: f.IO, HTTPClient: f.httpClient(), Now: f.clock(), Sleep: f.sleep(), Settings: f.Settings, OpenStore: f.openStore}
	cmd := &cobra.Command{
		Use:   "api ENDPOINT",
		Short: "Call the Web API with the profile's token and print the answer",
		Long: `Call the Spotify Web API with the profile's user token, like "gh api": ENDPOINT
is a path under the Web API's /v1 (/me, or /v1/me), or a full URL on the Web
API's host; spotauth never sends the token to another host.

The method is GET, or POST when -f/-F fields or --input are given; -X sets it.
Fields are query parameters for GET (and with --input), a JSON object body
otherwise: -f key=value sends a string, -F key=value a number, true, false or
null when the value reads as one. --input FILE (- for stdin) sends FILE as the
body, as JSON unless -H sets the Content-Type.

The token is refreshed first if it expires within a minute, and once more if
the Web API answers 401 (the request is then sent again, once). A 429 is
waited out when its Retry-After is at most 30 s; a longer one ends the command
with exit code 5 and the wait. A 401 after the refresh or a 403 exits 3, a
404 or other 4xx 1, a 5xx 5, with Spotify's message.

--paginate follows the "next" links of Spotify's paging object (also one
wrapped in a single key, as /search and /me/following answer) and prints the
items of every page as one JSON array; --jq then filters that array.
--jq EXPR filters the answer with a jq expression (gojq); strings print
without quotes. On a terminal JSON is indented, otherwise printed as received.`,
		Example: `  spotauth api /me
  spotauth api /me --jq .display_name
  spotauth api -X GET /me/playlists -f limit=50 --paginate --jq '.[].name'
  spotauth api -X PUT /me/player/pause
  spotauth api /users/USER_ID/playlists -f name="Road trip" -F public=false
  spotauth api -X PUT /me/player/play --input body.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Endpoint = args[0]
			if err := opts.parseFlags(cmd.Flags().Changed("method")); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAPI(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Method, "method", "X", http.MethodGet, "HTTP method: GET, POST, PUT, DELETE, PATCH or HEAD")
	fl.StringArrayVarP(&opts.RawFields, "raw-field", "f", nil, "add a string field key=value (repeatable)")
	fl.StringArrayVarP(&opts.TypedFields, "field", "F", nil, "add a typed field key=value: numbers, true, false and null are sent as such (repeatable)")
	fl.StringVar(&opts.Input, "input", "", "send the body read from `FILE` (- for stdin)")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header \"Name: value\" (repeatable)")
	fl.BoolVar(&opts.Paginate, "paginate", false, "follow the next links of paged answers and print all items as one array (GET only)")
	fl.StringVarP(&opts.JQ, "jq", "q", "", "filter the answer with a jq `EXPR`")
	fl.BoolVarP(&opts.Include, "include", "i", false, "print the HTTP status line and headers before the body")
	return cmd
}

// parseFlags checks and parses the flags; methodSet tells whether -X was
// given. Every error is a usage error.
func (o *apiOptions) parseFlags(methodSet bool) error {
	o.Method = strings.ToUpper(o.Method)
	switch {
	case !methodSet && (len(o.RawFields) > 0 || len(o.TypedFields) > 0 || o.Input != ""):
		o.Method = http.MethodPost
	case !slices.Contains(apiMethods, o.Method):
		return usageErrorf("Use one of "+strings.Join(apiMethods, ", ")+".", "unknown method %q", o.Method)
	}
	if o.Paginate && o.Method != http.MethodGet {
		return usageErrorf("Drop --paginate, or use -X GET (pass fields as query parameters with -X GET).", "--paginate only follows GET requests, not %s", o.Method)
	}
	for _, raw := range o.RawFields {
		f, err := parseField("-f", raw, false)
		if err != nil {
			return err
		}
		o.fields = append(o.fields, f)
	}
	for _, raw := range o.TypedFields {
		f, err := parseField("-F", raw, true)
		if err != nil {
			return err
		}
		o.fields = append(o.fields, f)
	}
	o.header = http.Header{}
	for _, h := range o.Headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return usageErrorf(`Write headers as -H "Name: value".`, "invalid header %q", h)
		}
		if strings.EqualFold(name, "Authorization") {
			return usageErrorf("spotauth api sends the profile's token itself.", "-H cannot set the Authorization header")
		}
		o.header.Add(name, strings.TrimSpace(value))
	}
	if o.JQ != "" {
		q, err := gojq.Parse(o.JQ)
		if err != nil {
			return jqUsageError(o.JQ, err)
		}
		if o.jq, err = gojq.Compile(q); err != nil {
			return jqUsageError(o.JQ, err)
		}
	}
	return nil
}

// jqUsageError reports an invalid --jq expression, pointing at the
// position of a parse error.
func jqUsageError(expr string, err error) error {
	hint := "See https://jqlang.org/manual/ for the jq language."
	var pe *gojq.ParseError
	if errors.As(err, &pe) {
		off := min(max(pe.Offset-len(pe.Token), 0), len(expr))
		hint = fmt.Sprintf("%s\n%s^\n%s", expr, strings.Repeat(" ", len([]rune(expr[:off]))), hint)
		return usageErrorf(hint, "invalid --jq expression: %v at offset %d", err, off)
	}
	return usageErrorf(hint, "invalid --jq expression: %v", err)
}

// apiField is one -f or -F field: its value a string, a bool, nil or a
// json.Number.
type apiField struct {
	key   string
	value any
}

func parseField(flag, raw string, typed bool) (apiField, error) {
	key, value, ok := strings.Cut(raw, "=")
	if !ok || key == "" {
		return apiField{}, usageErrorf("Write fields as "+flag+" key=value.", "invalid field %q", raw)
	}
	if !typed {
		return apiField{key, value}, nil
	}
	switch {
	case value == "true", value == "false":
		return apiField{key, value == "true"}, nil
	case value == "null":
		return apiField{key, nil}, nil
	case value != "" && (value[0] == '-' || value[0] >= '0' && value[0] <= '9') && json.Valid([]byte(value)):
		return apiField{key, json.Number(value)}, nil
	}
	return apiField{key, value}, nil
}

// queryText is a field's value in a query string.
func queryText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return fmt.Sprint(v)
	case json.Number:
		return string(v)
	}
	return v.(string)
}

func runAPI(ctx context.Context, opts *apiOptions) error {
	s, err := opts.Settings()
	if err != nil {
		return err
	}
	base, err := url.Parse(strings.TrimSuffix(s.APIURL, "/"))
	if err != nil || base.Host == "" {
		return withHint(&configError{fmt.Errorf("spotauth: invalid Web API URL %q", redactURL(s.APIURL))}, "Check --api-url / %s.", envAPIURL)
	}
	target, err := apiTarget(base, opts.Endpoint)
	if err != nil {
		return err
	}
	body, err := opts.requestBody(target)
	if err != nil {
		return err
	}
	st, t, err := openUser(ctx, s, opts.OpenStore, opts.IO, opts.Now())
	if err != nil {
		return err
	}
	c := &apiCaller{opts: opts, s: s, st: st, tok: t, base: base}
	if !validFor(t, expiryMargin, opts.Now()) {
		if err := c.refresh(ctx, expiryMargin); err != nil {
			return err
		}
	}
	if !opts.Paginate {
		resp, err := c.do(ctx, opts.Method, target, body)
		if err != nil {
			return err
		}
		return c.print(ctx, resp.body)
	}
	return c.paginate(ctx, target)
}

// apiTarget resolves ENDPOINT against the Web API URL base: a path under
// /v1 ("/me", "me"), a path from /v1 ("/v1/me"), or a full URL on the Web
// API's host. A URL on another host is refused: the token goes to the Web
// API only.
func apiTarget(base *url.URL, endpoint string) (*url.URL, error) {
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" {
		if !onAPIHost(base, u) {
			return nil, usageErrorf("Pass a path such as /me, or a URL on "+base.Scheme+"://"+base.Host+" (set --api-url for another Web API).",
				"refusing to send the token to %s: spotauth api calls only the Web API at %s", redactURL(endpoint), base.Redacted())
		}
		return u, nil
	}
	p := "/" + strings.TrimPrefix(endpoint, "/")
	if p != "/v1" && !strings.HasPrefix(p, "/v1/") && !strings.HasPrefix(p, "/v1?") {
		p = "/v1" + p
	}
	u, err := url.Parse(base.String() + p)
	if err != nil {
		return nil, usageErrorf("Pass a path such as /me or /me/playlists?limit=50.", "invalid endpoint %q: %v", endpoint, err)
	}
	return u, nil
}

// onAPIHost reports whether u is on the Web API's scheme and host, under
// its path, without credentials of its own.
func onAPIHost(base, u *url.URL) bool {
	return strings.EqualFold(u.Scheme, base.Scheme) && strings.EqualFold(u.Host, base.Host) && u.User == nil &&
		strings.HasPrefix(u.Path, base.Path+"/")
}

// requestBody returns the body to send (nil for none) and puts the fields
// in target's query when they do not go in the body.
func (o *apiOptions) requestBody(target *url.URL) ([]byte, error) {
	var body []byte
	if o.Input != "" {
		var err error
		if body, err = o.readInput(); err != nil {
			return nil, err
		}
	}
	if len(o.fields) == 0 {
		return body, nil
	}
	if o.Method == http.MethodGet || o.Method == http.MethodHead || o.Input != "" {
		q := target.Query()
		for _, f := range o.fields {
			q.Add(f.key, queryText(f.value))
		}
		target.RawQuery = q.Encode()
		return body, nil
	}
	obj := map[string]any{}
	for _, f := range o.fields {
		obj[f.key] = f.value
	}
	return json.Marshal(obj)
}

// readInput reads --input: a file, or stdin for "-".
func (o *apiOptions) readInput() ([]byte, error) {
	var r io.Reader = o.IO.In
	name := "standard input"
	if o.Input != "-" {
		f, err := os.Open(o.Input)
		if err != nil {
			return nil, withHint(&usageError{wrapf(err, "cannot read --input")}, "Pass a readable file, or - for standard input.")
		}
		defer f.Close()
		r, name = f, o.Input
	}
	data, err := io.ReadAll(io.LimitReader(r, maxAPIBody+1))
	if err == nil && len(data) > maxAPIBody {
		err = fmt.Errorf("larger than %d MiB", maxAPIBody>>20)
	}
	if err != nil {
		return nil, withHint(&usageError{wrapf(err, "cannot read --input %s", name)}, "Pass a readable file, or - for standard input.")
	}
	return data, nil
}

// apiCaller sends the requests of one spotauth api run with the profile's
// user token.
type apiCaller struct {
	opts      *apiOptions
	s         *settings
	st        spotauth.TokenStore
	tok       *spotauth.Token
	base      *url.URL
	cfg       *spotauth.Config
	refreshed bool // the token was refreshed in this run: a 401 is final
}

// apiResponse is a complete answer.
type apiResponse struct {
	status int
	body   []byte
}

// refresh refreshes the user token as spotauth token does (the library's
// refresh protocol, which saves a rotated refresh token), unless it stays
// valid for minValid; a negative minValid forces it.
func (c *apiCaller) refresh(ctx context.Context, minValid time.Duration) error {
	if c.cfg == nil {
		cfg, err := newConfig(c.s, c.opts.HTTPClient, c.opts.Now)
		if err != nil {
			return err
		}
		c.cfg = cfg
	}
	t, err := refreshUser(ctx, c.s, c.cfg, c.st, c.tok, minValid)
	if err != nil {
		return err
	}
	c.tok, c.refreshed = t, true
	return nil
}

// do sends one request: on a 401 it refreshes the token and sends it once
// more, unless the token was refreshed already in this run; a 429 it waits
// out when its Retry-After is short. An error answer is an error, as is an
// answer cut short or not JSON.
func (c *apiCaller) do(ctx context.Context, method string, u *url.URL, body []byte) (*apiResponse, error) {
	what := method + " " + u.RequestURI()
	for waits := 0; ; {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, wrapf(err, "%s", what)
		}
		if body == nil {
			req.Body = http.NoBody
		}
		req.Header = c.opts.header.Clone()
		if body != nil && req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.tok.AccessToken)
		resp, err := c.opts.HTTPClient.Do(req)
		if err != nil {
			return nil, withHint(wrapf(err, "%s", what), "Check the network and --api-url (%s), then try again.", redactURL(c.s.APIURL))
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody+1))
		resp.Body.Close()
		if err == nil && len(data) > maxAPIBody {
			err = fmt.Errorf("larger than %d MiB", maxAPIBody>>20)
		}
		if err != nil {
			return nil, c.badAnswer(&badAnswerError{what, resp.StatusCode, resp.Header.Get("Content-Type"), fmt.Errorf("cut short: %w", err)})
		}
		if c.opts.Include {
			c.printHead(resp)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !c.refreshed:
			if err := c.refresh(ctx, -1); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			wait := wire.ParseRetryAfter(resp.Header.Get("Retry-After"), c.opts.Now())
			if wait == 0 {
				wait = defaultRetryAfter
			}
			if wait > maxAPIRetryAfter || waits >= maxAPIWaits {
				return nil, withHint(wrapf(newAPIError(resp, data), "%s, Spotify asks to wait %v", what, wait),
					"Try again in %v.", wait)
			}
			waits++
			c.opts.IO.Printf("spotauth: rate limited by the Web API; waiting %v as it asks.\n", wait)
			if err := c.opts.Sleep(ctx, wait); err != nil {
				return nil, wrapf(err, "%s: waiting out a 429", what)
			}
			continue
		case resp.StatusCode >= 400:
			return nil, c.failure(what, newAPIError(resp, data))
		}
		if len(bytes.TrimSpace(data)) > 0 && !json.Valid(data) {
			return nil, c.badAnswer(&badAnswerError{what, resp.StatusCode, resp.Header.Get("Content-Type"), errors.New("not JSON")})
		}
		return &apiResponse{status: resp.StatusCode, body: data}, nil
	}
}

// failure is the error of an error answer, with what to do about it.
func (c *apiCaller) failure(what string, ae *apiError) error {
	err := wrapf(ae, "%s", what)
	switch {
	case ae.Status == http.StatusUnauthorized:
		return withHint(err, "The Web API refused the token after a refresh; log in again: %s", loginLine(c.s, c.tok.Scope))
	case ae.Status == http.StatusForbidden:
		return withHint(err, "If the endpoint needs a scope the token lacks (spotauth status lists them), log in again adding it: %s", loginLine(c.s, c.tok.Scope))
	case ae.Status == http.StatusNotFound:
		return withHint(err, "Check the endpoint and the IDs in it (a path under %s/v1, such as /me); player commands also need an active device.", c.base.Redacted())
	case ae.Status < 500:
		return withHint(err, "Check the method, fields and body against Spotify's Web API reference.")
	}
	return withHint(err, "The Web API failed; try again later.")
}

// newAPIError reads a Web API error answer: Spotify's message (and reason,
// if any) from {"error":{"status":...,"message":...}}, else the status
// text and what the body was.
func newAPIError(resp *http.Response, body []byte) *apiError {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Reason  string `json:"reason"`
		} `json:"error"`
	}
	msg := http.StatusText(resp.StatusCode)
	switch {
	case json.Unmarshal(body, &e) == nil && e.Error.Message != "":
		msg = e.Error.Message
		if e.Error.Reason != "" {
			msg += " (" + e.Error.Reason + ")"
		}
	case len(bytes.TrimSpace(body)) > 0:
		msg += " (not a Web API error: " + wire.SanitizeField(resp.Header.Get("Content-Type"), nil) + " body)"
	}
	return &apiError{Status: resp.StatusCode, Message: msg}
}

// badAnswerError is a successful Web API answer spotauth cannot use: one
// that is not JSON (an HTML page from a proxy) or was cut short. It
// matches [spotauth.ErrBadResponse].
type badAnswerError struct {
	Request     string // "GET /v1/me"
	Status      int
	ContentType string
	Err         error // what is wrong with it
}

func (e *badAnswerError) Error() string {
	return fmt.Sprintf("spotauth: %s: unusable answer from the Web API (HTTP %d, %s): %v",
		e.Request, e.Status, cmp.Or(wire.SanitizeField(e.ContentType, nil), "no Content-Type"), e.Err)
}

func (e *badAnswerError) Unwrap() []error { return []error{spotauth.ErrBadResponse, e.Err} }

// badAnswer attaches what to do to e.
func (c *apiCaller) badAnswer(e *badAnswerError) error {
	return withHint(e, "The Web API, or a proxy before it, did not answer as the Web API does; try again later, and check --api-url (%s).", c.base.Redacted())
}

// printHead prints the status line and headers of resp (for -i).
func (c *apiCaller) printHead(resp *http.Response) {
	out := c.opts.IO.Out
	fmt.Fprintf(out, "%s %s\n", resp.Proto, resp.Status)
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(out, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(out)
}

// paginate GETs target and the pages its next links lead to, and prints
// their items as one array. An answer that is not a paging object is
// printed as it is.
func (c *apiCaller) paginate(ctx context.Context, target *url.URL) error {
	items := []json.RawMessage{}
	for u, first := target, true; u != nil; first = false {
		resp, err := c.do(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		page, next, ok := pagingOf(resp.body)
		bad := func(format string, args ...any) error {
			return c.badAnswer(&badAnswerError{"GET " + u.RequestURI(), resp.status, "application/json", fmt.Errorf(format, args...)})
		}
		switch {
		case !ok && first:
			return c.print(ctx, resp.body)
		case !ok:
			return bad("a next link led to an answer without items")
		}
		items = append(items, page...)
		var nu *url.URL
		if next != "" {
			if nu, err = url.Parse(next); err != nil || !onAPIHost(c.base, nu) {
				return bad("refusing to follow a next link off the Web API: %s", redactURL(next))
			}
		}
		u = nu
	}
	all, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return c.print(ctx, append(all, '\n'))
}

// pagingOf returns the items and next link of a paging object, or of an
// object holding one under a single key ({"playlists":{...}}).
func pagingOf(body []byte) (items []json.RawMessage, next string, ok bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil, "", false
	}
	if _, has := obj["items"]; !has && len(obj) == 1 {
		for _, v := range obj {
			var inner map[string]json.RawMessage
			if json.Unmarshal(v, &inner) == nil {
				obj = inner
			}
		}
	}
	rawItems, hasItems := obj["items"]
	rawNext, hasNext := obj["next"]
	var n *string
	if !hasItems || !hasNext || json.Unmarshal(rawItems, &items) != nil || items == nil || json.Unmarshal(rawNext, &n) != nil {
		return nil, "", false
	}
	if n != nil {
		next = *n
	}
	return items, next, true
}

// print writes a JSON answer: through --jq if set; indented on a
// terminal; else as received. An empty answer (a 204) prints nothing.
func (c *apiCaller) print(ctx context.Context, data []byte) error {
	out := c.opts.IO.Out
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if c.opts.jq != nil {
		return c.filter(ctx, data)
	}
	if !c.opts.IO.OutTerminal {
		_, err := out.Write(data)
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := out.Write(b.Bytes())
	return err
}

// filter runs --jq on data and prints each result on a line: strings
// as they are, other values as JSON (indented on a terminal).
func (c *apiCaller) filter(ctx context.Context, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	iter := c.opts.jq.RunWithContext(ctx, v)
	for {
		x, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, isErr := x.(error); isErr {
			var he *gojq.HaltError
			if errors.As(err, &he) && he.Value() == nil {
				return nil // halt
			}
			return withHint(wrapf(err, "--jq"), "Check the --jq expression against the answer (run without --jq to see it).")
		}
		var line []byte
		if s, isStr := x.(string); isStr {
			line = []byte(s)
		} else {
			b, err := gojq.Marshal(x)
			if err != nil {
				return wrapf(err, "--jq")
			}
			line = b
			if c.opts.IO.OutTerminal {
				var ib bytes.Buffer
				if json.Indent(&ib, b, "", "  ") == nil {
					line = ib.Bytes()
				}
			}
		}
		if _, err := fmt.Fprintf(c.opts.IO.Out, "%s\n", line); err != nil {
			return err
		}
	}
}
