package api

// These tests keep docs/openapi.yaml and the server from drifting apart: the
// routes registered in server.go against the documented operations (both
// ways, with their API-key scopes), every $ref, the documented schemas
// against the Go types the handlers decode and encode, the documented limits
// and enums against the code's, the rule environment against fraud.Env, and
// every example against the server's own decoder and validation.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/docs"
	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// scopeIdents maps the identifiers routes() uses to the scopes' values.
var scopeIdents = map[string]apikey.Scope{
	"ScopeEventsWrite":   apikey.ScopeEventsWrite,
	"ScopeEventsRead":    apikey.ScopeEventsRead,
	"ScopeFeedbackWrite": apikey.ScopeFeedbackWrite,
	"ScopeRulesRead":     apikey.ScopeRulesRead,
	"ScopeRulesWrite":    apikey.ScopeRulesWrite,
}

// schemaTypes maps documented object schemas to the Go types whose JSON
// they describe; their property names must equal the types' JSON fields.
var schemaTypes = map[string]reflect.Type{
	"OutboundInput":       reflect.TypeFor[assistant.OutboundInput](),
	"Outbound":            reflect.TypeFor[outboundJSON](),
	"ConversationStart":   reflect.TypeFor[assistant.StartInput](),
	"ConversationCreated": reflect.TypeFor[conversationJSON](),
	"Conversation":        reflect.TypeFor[assistant.Conversation](),
	"ConversationTurn":    reflect.TypeFor[assistant.Turn](),
	"PendingStepUp":       reflect.TypeFor[assistant.Pending](),
	"AssistantMessage":    reflect.TypeFor[assistant.MessageInput](),
	"AssistantReply":      reflect.TypeFor[assistant.Reply](),
	"AssistantAction":     reflect.TypeFor[assistant.Action](),
	"AssistantChoice":     reflect.TypeFor[assistant.Choice](),
	"Transaction":         reflect.TypeFor[fraud.Transaction](),
	"Login":               reflect.TypeFor[account.Login](),
	"Keystrokes":          reflect.TypeFor[account.Keystrokes](),
	"PasswordRange":       reflect.TypeFor[passwordRange](),
	"Signup":              reflect.TypeFor[account.Signup](),
	"SessionCheck":        reflect.TypeFor[account.SessionCheck](),
	"TransactionUser":     reflect.TypeFor[fraud.User](),
	"Payment":             reflect.TypeFor[fraud.Payment](),
	"Address":             reflect.TypeFor[fraud.Address](),
	"Item":                reflect.TypeFor[fraud.Item](),
	"Decision":            reflect.TypeFor[decisionResponse](),
	"Reason":              reflect.TypeFor[risk.Reason](),
	"Assessment":          reflect.TypeFor[risk.Assessment](),
	"Event":               reflect.TypeFor[storage.Event](),
	"Feedback":            reflect.TypeFor[engine.Feedback](),
	"Label":               reflect.TypeFor[storage.Label](),
	"RuleFields":          reflect.TypeFor[rules.Rule](),
	"Rule":                reflect.TypeFor[rules.Rule](),
	"RuleReplacement":     reflect.TypeFor[rules.Rule](),
	"BacktestRule":        reflect.TypeFor[rules.Rule](),
	"RuleSet":             reflect.TypeFor[engine.RuleSet](),
	"RuleVersion":         reflect.TypeFor[ruleResponse](),
	"RulesRequest":        reflect.TypeFor[rulesBody](),
	"BacktestRequest":     reflect.TypeFor[backtestBody](),
	"BacktestReport":      reflect.TypeFor[engine.BacktestReport](),
	"LabelCounts":         reflect.TypeFor[engine.LabelCounts](),
	"RuleReport":          reflect.TypeFor[engine.RuleReport](),
	"List":                reflect.TypeFor[engine.ListInfo](),
	"ListWithValues":      reflect.TypeFor[listResponse](),
	"NewList":             reflect.TypeFor[listBody](),
	"ListPatch":           reflect.TypeFor[listPatch](),
	"ListValues":          reflect.TypeFor[valuesBody](),
	"Error":               reflect.TypeFor[errorBody](),
	"ErrorObject":         reflect.TypeFor[apiError](),
	"ErrorDetail":         reflect.TypeFor[detail](),
	"RuleEnvironment":     reflect.TypeFor[fraud.Env](),
	"EnvUser":             reflect.TypeFor[fraud.UserEnv](),
	"EnvPayment":          reflect.TypeFor[fraud.PayEnv](),
	"EnvAddress":          reflect.TypeFor[fraud.AddrEnv](),
	"EnvItems":            reflect.TypeFor[fraud.ItemsEnv](),
	"EnvFeatures":         reflect.TypeFor[fraud.FeatEnv](),
	"EnvEntity":           reflect.TypeFor[fraud.Entity](),
	"EnvSignals":          reflect.TypeFor[fraud.Signals](),
	"EnvModel":            reflect.TypeFor[fraud.ModelEnv](),
	"Promotion":           reflect.TypeFor[Promotion](),
	"Champion":            reflect.TypeFor[Champion](),
	"Webhook":             reflect.TypeFor[webhookJSON](),
	"WebhookInput":        reflect.TypeFor[notify.WebhookInput](),
	"WebhookPatch":        reflect.TypeFor[notify.WebhookPatch](),
	"WebhookType":         reflect.TypeFor[notify.TypeInfo](),
	"Delivery":            reflect.TypeFor[deliveryJSON](),
	"Notification":        reflect.TypeFor[client.Notification](),
	"LoginNotice":         reflect.TypeFor[client.LoginNotice](),
	"Factors":             reflect.TypeFor[authn.Factors](),
	"EnrolInput":          reflect.TypeFor[authn.EnrolInput](),
	"TOTPEnrolment":       reflect.TypeFor[enrolmentJSON](),
	"TOTPCode":            reflect.TypeFor[codeBody](),
	"RecoveryCode":        reflect.TypeFor[codeBody](),
	"Verified":            reflect.TypeFor[verifiedJSON](),
	"RecoveryCodes":       reflect.TypeFor[recoveryJSON](),
	// step-up challenges
	"ChallengeAction":  reflect.TypeFor[authn.Action](),
	"ChallengeInput":   reflect.TypeFor[authn.ChallengeInput](),
	"Challenge":        reflect.TypeFor[challengeJSON](),
	"ChallengeAnswer":  reflect.TypeFor[authn.AnswerInput](),
	"ChallengeOutcome": reflect.TypeFor[answerJSON](),
	"ApprovalClaims":   reflect.TypeFor[authn.TokenClaims](),
	"VerifyApproval":   reflect.TypeFor[authn.VerifyInput](),
	"Verification":     reflect.TypeFor[authn.Verification](),
	"JWK":              reflect.TypeFor[authn.JWK](),
	// passkeys
	"RelyingParty":             reflect.TypeFor[relyingPartyJSON](),
	"RelyingPartyInput":        reflect.TypeFor[authn.RelyingPartyInput](),
	"PasskeyRegistrationInput": reflect.TypeFor[authn.RegistrationInput](),
	"CeremonyStart":            reflect.TypeFor[authn.CeremonyStart](),
	"PasskeyFinish":            reflect.TypeFor[finishBody](),
	"Passkey":                  reflect.TypeFor[passkeyJSON](),
	"PasskeyFlags":             reflect.TypeFor[passkeyFlagsJSON](),
	"Passkeys":                 reflect.TypeFor[passkeysJSON](),
	"PasskeyRename":            reflect.TypeFor[renameBody](),
	"EnrolmentLinkInput":       reflect.TypeFor[enrolmentLinkBody](),
	"EnrolmentLink":            reflect.TypeFor[enrolmentLinkJSON](),
	// phishing
	"URLCheckInput": reflect.TypeFor[urlCheckBody](),
	"URLCheck":      reflect.TypeFor[urlCheckJSON](),
	"URLResult":     reflect.TypeFor[phishing.Result](),
	"URLReason":     reflect.TypeFor[phishing.Reason](),
	"URLFeatures":   reflect.TypeFor[phishing.Features](),
	"Lookalike":     reflect.TypeFor[phishing.Lookalike](),
	// messages
	"MessageCheckInput": reflect.TypeFor[messageCheckBody](),
	"MessageResult":     reflect.TypeFor[phishing.MessageResult](),
	"MessageCue":        reflect.TypeFor[phishing.Cue](),
	"MessageLink":       reflect.TypeFor[phishing.MessageLink](),
	"EmailSummary":      reflect.TypeFor[phishing.EmailSummary](),
	"EmailAddress":      reflect.TypeFor[phishing.Address](),
	"AuthResults":       reflect.TypeFor[phishing.AuthResults](),
	"AuthResult":        reflect.TypeFor[phishing.AuthResult](),
	"ModelWord":         reflect.TypeFor[text.Weighed](),
	// phishing profiles and reports
	"PhishingProfileInput": reflect.TypeFor[phishingProfileBody](),
	"PhishingProfile":      reflect.TypeFor[phishingProfileJSON](),
	"PhishingReportInput":  reflect.TypeFor[phishingReportBody](),
	"PhishingReport":       reflect.TypeFor[phishingReportJSON](),
	"PhishingReports":      reflect.TypeFor[phishingReportsJSON](),
	"PhishingReview":       reflect.TypeFor[reviewBody](),
	// content
	"ContentPost":     reflect.TypeFor[content.Post](),
	"PostAuthor":      reflect.TypeFor[content.Author](),
	"ContentDecision": reflect.TypeFor[contentResponse](),
	"ContentReason":   reflect.TypeFor[contentReason](),
	"ContentScores":   reflect.TypeFor[content.Scores](),
	"ContentFinding":  reflect.TypeFor[content.Finding](),
	"PostLink":        reflect.TypeFor[content.LinkVerdict](),
	// the Perspective-compatible endpoint
	"PerspectiveRequest":        reflect.TypeFor[perspectiveRequest](),
	"PerspectiveText":           reflect.TypeFor[perspectiveText](),
	"PerspectiveContext":        reflect.TypeFor[perspectiveContext](),
	"PerspectiveAttributeSpec":  reflect.TypeFor[perspectiveAttrSpec](),
	"PerspectiveResponse":       reflect.TypeFor[perspectiveResponse](),
	"PerspectiveAttributeScore": reflect.TypeFor[perspectiveAttrScore](),
	"PerspectiveSpanScore":      reflect.TypeFor[perspectiveSpan](),
	"PerspectiveScore":          reflect.TypeFor[perspectiveScore](),
}

// untypedSchemas are object schemas of answers the handlers build from maps
// (and TestNotice, the data of webhook.test, an unexported type of notify).
var untypedSchemas = []string{"Valid", "RuleSetVersionNumber", "Lists", "EntriesAdded", "EntriesRemoved", "Health", "Readiness", "MoneyByCurrency",
	"Webhooks", "WebhookTypes", "Deliveries", "TestNotice", "ChallengeKeys"}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadSpec parses the embedded docs/openapi.yaml.
func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml does not parse: %v", err)
	}
	m, ok := normalize(doc).(map[string]any)
	if !ok {
		t.Fatal("docs/openapi.yaml is not a mapping")
	}
	if v, _ := m["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", v)
	}
	return m
}

// normalize turns the map[any]any YAML gives for non-string keys into map[string]any.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
		return v
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[fmt.Sprint(k)] = normalize(x)
		}
		return out
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
	}
	return v
}

// pointer resolves a JSON pointer ("/components/schemas/Rule") in doc.
func pointer(doc any, p string) (any, bool) {
	if p == "" {
		return doc, true
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func mapAt(doc any, p string) map[string]any {
	v, _ := pointer(doc, p)
	m, _ := v.(map[string]any)
	return m
}

// deref follows $ref until it reaches a value that is not a reference.
func deref(doc map[string]any, v any) any {
	for range 20 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		v, _ = pointer(doc, strings.TrimPrefix(ref, "#"))
	}
	return v
}

// route is one route the server registers.
type route struct {
	scope string // "" for unauthenticated routes
	// queryKey: the handler is wrapped with keyParam, which takes the
	// API key from the query parameter key too.
	queryKey bool
}

// serverRoutes reads server.go's routes() and returns its routes by
// "METHOD /path". A method of the package that routes() hands its route
// helper to (s.phishingRoutes(v1)) is read too, wherever it is declared.
func serverRoutes(t *testing.T) map[string]route {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]*ast.FuncDecl{} // the package's methods by name
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Body != nil {
				methods[fd.Name.Name] = fd
			}
		}
	}
	routes := methods["routes"]
	if routes == nil || fset.Position(routes.Pos()).Filename != "server.go" {
		t.Fatal("server.go has no method routes()")
	}
	out := map[string]route{}
	add := func(pos token.Pos, lit ast.Expr, r route) {
		bl, ok := lit.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			t.Errorf("%s: route pattern is not a string literal; this test cannot read it", fset.Position(pos))
			return
		}
		pattern, _ := strconv.Unquote(bl.Value)
		key, err := routeKey(pattern)
		if err != nil {
			t.Errorf("%s: %v", fset.Position(pos), err)
			return
		}
		if _, dup := out[key]; dup {
			t.Errorf("%s: route %s registered twice", fset.Position(pos), key)
		}
		out[key] = r
	}
	visited := map[string]bool{"routes": true}
	// read reads one method's body; helpers are the names of route
	// helpers like v1 in it, helperParams their pattern parameters.
	var read func(body *ast.BlockStmt, helpers map[string]bool)
	read = func(body *ast.BlockStmt, helpers map[string]bool) {
		helperParams := map[string]bool{}
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) != 1 || len(n.Rhs) != 1 {
					return true
				}
				id, ok1 := n.Lhs[0].(*ast.Ident)
				fl, ok2 := n.Rhs[0].(*ast.FuncLit)
				if !ok1 || !ok2 || len(fl.Type.Params.List) < 2 || len(fl.Type.Params.List[0].Names) == 0 {
					return true
				}
				if !callsAuthenticated(fl.Body) {
					t.Errorf("%s: route helper %s does not wrap its handler with s.authenticated", fset.Position(n.Pos()), id.Name)
				}
				helpers[id.Name] = true
				helperParams[fl.Type.Params.List[0].Names[0].Name] = true
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok {
					if helpers[id.Name] && len(n.Args) >= 2 {
						sel, ok := n.Args[1].(*ast.SelectorExpr)
						x, _ := sel.X.(*ast.Ident)
						if !ok || x == nil || x.Name != "apikey" {
							t.Errorf("%s: scope of %s(...) is not an apikey.Scope constant", fset.Position(n.Pos()), id.Name)
							return true
						}
						scope, known := scopeIdents[sel.Sel.Name]
						if !known {
							t.Errorf("%s: unknown scope apikey.%s: add it to scopeIdents", fset.Position(n.Pos()), sel.Sel.Name)
							return true
						}
						add(n.Pos(), n.Args[0], route{scope: string(scope)})
					}
					return true
				}
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				// A method handed route helpers registers routes with them.
				if m := methods[sel.Sel.Name]; m != nil && !visited[sel.Sel.Name] {
					inner := map[string]bool{}
					var params []*ast.Ident
					for _, f := range m.Type.Params.List {
						params = append(params, f.Names...)
					}
					for i, a := range n.Args {
						if id, ok := a.(*ast.Ident); ok && helpers[id.Name] && i < len(params) {
							inner[params[i].Name] = true
						}
					}
					if len(inner) > 0 {
						visited[sel.Sel.Name] = true
						read(m.Body, inner)
						return true
					}
				}
				if (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(n.Args) == 0 {
					return true
				}
				if mux, ok := sel.X.(*ast.SelectorExpr); !ok || mux.Sel.Name != "mux" {
					return true
				}
				if id, ok := n.Args[0].(*ast.Ident); ok && helperParams[id.Name] {
					return true // the helper's own registration of its parameter
				}
				// A handler wrapped by hand (keyParam(s.authenticated(scope, h)))
				// is authenticated with that scope.
				r := route{}
				for _, a := range n.Args[1:] {
					r.queryKey = r.queryKey || callsFunc(a, "keyParam")
					if scope, pos, ok := authenticatedScope(a); ok {
						if scope == "" {
							t.Errorf("%s: scope of s.authenticated(...) is not an apikey.Scope constant of scopeIdents", fset.Position(pos))
							return true
						}
						r.scope = scope
					}
				}
				add(n.Pos(), n.Args[0], r)
			}
			return true
		})
	}
	read(routes.Body, map[string]bool{})
	if len(out) == 0 {
		t.Fatal("found no routes in server.go")
	}
	return out
}

// authenticatedScope finds a call s.authenticated(apikey.ScopeX, ...) in
// e and returns the scope's value ("" when the argument is not a known
// apikey.Scope constant) and the call's position.
func authenticatedScope(e ast.Expr) (scope string, pos token.Pos, found bool) {
	ast.Inspect(e, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		sel, ok := c.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "authenticated" || len(c.Args) == 0 {
			return true
		}
		found, pos = true, c.Pos()
		if arg, ok := c.Args[0].(*ast.SelectorExpr); ok {
			if x, ok := arg.X.(*ast.Ident); ok && x.Name == "apikey" {
				if v, known := scopeIdents[arg.Sel.Name]; known {
					scope = string(v)
				}
			}
		}
		return false
	})
	return scope, pos, found
}

// callsFunc reports whether e calls the package function name.
func callsFunc(e ast.Expr, name string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == name {
				found = true
			}
		}
		return !found
	})
	return found
}

// callsAuthenticated reports whether body calls s.authenticated.
func callsAuthenticated(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "authenticated" {
				found = true
			}
		}
		return !found
	})
	return found
}

// routeKey turns a ServeMux pattern into "METHOD /path" with OpenAPI path
// templates ("{name...}" becomes "{name}").
func routeKey(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || method != strings.ToUpper(method) {
		return "", fmt.Errorf("route %q has no method; OpenAPI cannot describe it", pattern)
	}
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("route %q has a host; OpenAPI paths cannot say that", pattern)
	}
	if strings.Contains(path, "{$}") {
		return "", fmt.Errorf("route %q uses {$}; describe it and teach this test", pattern)
	}
	path = strings.ReplaceAll(path, "...}", "}")
	return method + " " + path, nil
}

// operation is one documented operation.
type operation struct {
	key  string // "METHOD /path"
	path string
	item map[string]any // the path item
	op   map[string]any
}

func specOperations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	paths := mapAt(doc, "/paths")
	if paths == nil {
		t.Fatal("openapi.yaml has no paths")
	}
	var ops []operation
	for path, v := range paths {
		item, _ := v.(map[string]any)
		for _, m := range httpMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops = append(ops, operation{key: strings.ToUpper(m) + " " + path, path: path, item: item, op: op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key < ops[j].key })
	return ops
}

func TestOpenAPIRoutesMatchServer(t *testing.T) {
	doc := loadSpec(t)
	served := serverRoutes(t)
	documented := map[string]operation{}
	for _, op := range specOperations(t, doc) {
		documented[op.key] = op
	}
	for _, key := range sortedKeysOf(served) {
		if _, ok := documented[key]; !ok {
			t.Errorf("route %s is served but not in openapi.yaml", key)
		}
	}
	for _, key := range sortedKeysOf(documented) {
		if _, ok := served[key]; !ok {
			t.Errorf("openapi.yaml documents %s but no route serves it", key)
		}
	}
	for _, key := range sortedKeysOf(documented) {
		r, ok := served[key]
		if !ok {
			continue
		}
		op := documented[key].op
		got, _ := op["x-required-scope"].(string)
		sec, hasSec := op["security"].([]any)
		// The query key is documented exactly where keyParam takes it.
		queryKey := false
		for _, req := range sec {
			if m, _ := req.(map[string]any); m != nil {
				_, ok := m["queryKey"]
				queryKey = queryKey || ok
			}
		}
		if queryKey != r.queryKey {
			t.Errorf("%s: security lists queryKey: %v; the route takes ?key= (keyParam): %v", key, queryKey, r.queryKey)
		}
		switch {
		case r.scope == "":
			if got != "" {
				t.Errorf("%s: x-required-scope is %q but the route is unauthenticated", key, got)
			}
			if !hasSec || len(sec) != 0 {
				t.Errorf("%s: the route is unauthenticated; document it with security: []", key)
			}
		case got != r.scope:
			t.Errorf("%s: x-required-scope is %q, routes() requires %q", key, got, r.scope)
		default:
			if hasSec && len(sec) == 0 {
				t.Errorf("%s: needs an API key but is documented with security: []", key)
			}
			if desc, _ := op["description"].(string); !strings.Contains(desc, "`"+r.scope+"`") {
				t.Errorf("%s: description does not name the required scope `%s`", key, r.scope)
			}
		}
	}
}

func TestOpenAPIScopesComplete(t *testing.T) {
	known := map[apikey.Scope]bool{}
	for _, v := range scopeIdents {
		known[v] = true
	}
	for _, s := range apikey.AllScopes {
		if !known[s] {
			t.Errorf("scope %s is missing from scopeIdents", s)
		}
	}
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIOperations(t *testing.T) {
	doc := loadSpec(t)
	if servers, _ := doc["servers"].([]any); len(servers) == 0 {
		t.Error("openapi.yaml has no servers")
	}
	if mapAt(doc, "/components/securitySchemes/bearerAuth") == nil {
		t.Error("openapi.yaml has no bearerAuth security scheme")
	}
	ids := map[string]string{}
	for _, o := range specOperations(t, doc) {
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", o.key)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q is also used by %s", o.key, id, prev)
		}
		ids[id] = o.key
		for _, f := range []string{"summary", "description"} {
			if s, _ := o.op[f].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s", o.key, f)
			}
		}
		if rs := mapAt(o.op, "/responses"); len(rs) == 0 {
			t.Errorf("%s: no responses", o.key)
		}
		// Every {param} of the path is declared as a required path parameter, and nothing else is.
		want := map[string]bool{}
		for _, part := range strings.Split(o.path, "/") {
			if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
				want[part[1:len(part)-1]] = true
			}
		}
		got := map[string]bool{}
		for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm, _ := deref(doc, p).(map[string]any)
				if pm["in"] != "path" {
					continue
				}
				name, _ := pm["name"].(string)
				got[name] = true
				if pm["required"] != true {
					t.Errorf("%s: path parameter %s is not required: true", o.key, name)
				}
				if !want[name] {
					t.Errorf("%s: declares path parameter %s that the path does not have", o.key, name)
				}
			}
		}
		for name := range want {
			if !got[name] {
				t.Errorf("%s: path parameter {%s} is not declared", o.key, name)
			}
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadSpec(t)
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if !strings.HasPrefix(ref, "#/") {
					t.Errorf("%s: $ref %q is not local to openapi.yaml", at, ref)
				} else if target, ok := pointer(doc, ref[1:]); !ok || target == nil {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for _, k := range sortedKeysOf(v) {
				walk(v[k], at+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "")
	if n == 0 {
		t.Error("openapi.yaml has no $ref at all")
	}
}

// schemaProperties returns the property names of schema s, following $ref
// and merging allOf members.
func schemaProperties(doc map[string]any, s any) map[string]bool {
	out := map[string]bool{}
	m, _ := deref(doc, s).(map[string]any)
	for k := range mapAt(m, "/properties") {
		out[k] = true
	}
	all, _ := m["allOf"].([]any)
	for _, sub := range all {
		for k := range schemaProperties(doc, sub) {
			out[k] = true
		}
	}
	return out
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadSpec(t)
	schemas := mapAt(doc, "/components/schemas")
	for _, name := range sortedKeysOf(schemas) {
		s, _ := schemas[name].(map[string]any)
		typ, typed := schemaTypes[name]
		if !typed {
			if _, hasProps := s["properties"]; hasProps && !slices.Contains(untypedSchemas, name) {
				t.Errorf("schema %s has properties but no Go type in schemaTypes (or untypedSchemas) to check them against", name)
			}
			continue
		}
		props := schemaProperties(doc, s)
		fields := fieldsOf(typ)
		for _, f := range sortedKeysOf(fields) {
			if !props[f] {
				t.Errorf("schema %s lacks property %q of %v", name, f, typ)
			}
		}
		for _, p := range sortedKeysOf(props) {
			if _, ok := fields[p]; !ok {
				t.Errorf("schema %s documents property %q that %v does not have", name, p, typ)
			}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if !props[fmt.Sprint(r)] {
				t.Errorf("schema %s requires %q, which is not one of its properties", name, r)
			}
		}
	}
	for name := range schemaTypes {
		if schemas[name] == nil {
			t.Errorf("schemaTypes names %s, which openapi.yaml does not have", name)
		}
	}
}

// TestOpenAPIRequestsClosed checks that every object schema a request body
// can reach says additionalProperties: false, as the decoder rejects
// unknown fields.
func TestOpenAPIRequestsClosed(t *testing.T) {
	doc := loadSpec(t)
	seen := map[string]bool{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			if seen[ref] {
				return
			}
			seen[ref] = true
			target, _ := pointer(doc, strings.TrimPrefix(ref, "#"))
			walk(target, ref)
			return
		}
		if _, hasProps := m["properties"]; hasProps && m["additionalProperties"] != false {
			t.Errorf("%s: request schema has properties but not additionalProperties: false", at)
		}
		for name, p := range mapAt(m, "/properties") {
			walk(p, at+"/properties/"+name)
		}
		walk(m["items"], at+"/items")
		for _, k := range []string{"allOf", "oneOf", "anyOf"} {
			list, _ := m[k].([]any)
			for i, x := range list {
				walk(x, fmt.Sprintf("%s/%s/%d", at, k, i))
			}
		}
	}
	n := 0
	for _, o := range specOperations(t, doc) {
		body, _ := deref(doc, o.op["requestBody"]).(map[string]any)
		for ct, media := range mapAt(body, "/content") {
			n++
			walk(mapAt(media, "/schema"), o.key+" "+ct)
		}
	}
	if n == 0 {
		t.Error("no request bodies documented")
	}
}

// TestOpenAPILimitsAndEnums checks documented limits and enums against the code's.
func TestOpenAPILimitsAndEnums(t *testing.T) {
	doc := loadSpec(t)
	const s = "/components/schemas/"
	for _, c := range []struct {
		at   string
		want any
	}{
		{s + "Transaction/properties/items/maxItems", fraud.MaxItems},
		{s + "Transaction/properties/amount_minor/maximum", fraud.MaxAmountMinor},
		{s + "Item/properties/price_minor/maximum", fraud.MaxAmountMinor},
		{s + "Item/properties/quantity/maximum", fraud.MaxQuantity},
		{s + "RuleFields/properties/expression/maxLength", rules.MaxExpressionLen},
		{s + "RuleFields/properties/description/maxLength", rules.MaxDescriptionLen},
		{s + "RuleFields/properties/score/maximum", rules.MaxScore},
		{s + "RuleFields/properties/score/minimum", -rules.MaxScore},
		{s + "NewList/properties/description/maxLength", rules.MaxDescriptionLen},
		{s + "NewList/properties/values/maxItems", maxValues},
		{s + "ListValues/properties/values/maxItems", maxValues},
		{s + "BacktestRequest/properties/rules/maxItems", engine.MaxBacktestRules},
		{s + "BacktestRequest/properties/limit/maximum", 10 * engine.DefaultBacktestLimit},
		{s + "URLCheckInput/properties/urls/maxItems", maxURLsPerCheck},
		{s + "URLCheckInput/properties/protected_domains/maxItems", maxProtectedPerCheck},
		{s + "URLCheckInput/properties/urls/items/maxLength", phishing.MaxURLLength},
		{s + "MessageCheckInput/properties/text/maxLength", phishing.MaxMessageText},
		{s + "MessageCheckInput/properties/raw/maxLength", phishing.MaxEmailSize},
		{s + "MessageCheckInput/properties/sender/maxLength", maxSenderLength},
		{s + "MessageCheckInput/properties/subject/maxLength", 4 * maxSenderLength},
		{s + "MessageCheckInput/properties/protected_domains/maxItems", maxProtectedPerCheck},
		{s + "PhishingProfileInput/properties/protected_domains/maxItems", storage.MaxProtectedDomains},
		{s + "PhishingProfileInput/properties/sender_names/maxItems", storage.MaxSenderNames},
		{s + "PhishingProfileInput/properties/sender_names/items/maxLength", storage.MaxSenderNameLen},
		{s + "PhishingProfileInput/properties/sending_domains/maxItems", storage.MaxSendingDomains},
		{s + "PhishingReportInput/properties/url/maxLength", phishing.MaxURLLength},
		{s + "PhishingReportInput/properties/message/maxLength", storage.MaxReportMessage},
		{s + "PhishingReportInput/properties/sender/maxLength", storage.MaxReportSender},
		{s + "PhishingReportInput/properties/reporter_id/maxLength", storage.MaxReportReporterID},
		{s + "PhishingReportInput/properties/note/maxLength", storage.MaxReportNote},
		{"/components/parameters/ReportLimit/schema/maximum", maxReportPage},
		{"/components/parameters/ReportLimit/schema/default", defaultReportPage},
		{s + "ContentPost/properties/text/maxLength", content.MaxTextBytes},
		{s + "ContentPost/properties/title/maxLength", content.MaxTitleBytes},
		{s + "PerspectiveText/properties/text/maxLength", maxPerspectiveText},
		{s + "PerspectiveRequest/properties/clientToken/maxLength", maxClientToken},
		{s + "PerspectiveAttributeSpec/properties/scoreThreshold/minimum", 0},
		{s + "PerspectiveAttributeSpec/properties/scoreThreshold/maximum", 1},
	} {
		got, ok := pointer(doc, c.at)
		if !ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, the code says %v", c.at, got, c.want)
		}
	}

	strs := func(v any) []string {
		var out []string
		list, _ := v.([]any)
		for _, x := range list {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	enum := func(at string) []string {
		v, ok := pointer(doc, at+"/enum")
		if !ok {
			t.Errorf("%s has no enum", at)
		}
		return strs(v)
	}
	same := func(at string, want []string) {
		if got := enum(at); !slices.Equal(got, want) {
			t.Errorf("%s enum = %v, the code has %v", at, got, want)
		}
	}
	toStrings := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	same(s+"Action", toStrings(len(risk.Actions), func(i int) string { return string(risk.Actions[i]) }))
	same(s+"EventKind", toStrings(len(risk.EventKinds), func(i int) string { return string(risk.EventKinds[i]) }))
	same(s+"LabelValue", toStrings(len(risk.Labels), func(i int) string { return string(risk.Labels[i]) }))
	same(s+"Payment/properties/method", fraud.PaymentMethods)
	same(s+"ChallengeAction/properties/type", authn.ActionTypes)
	same(s+"ChallengeAnswer/properties/method", []string{authn.MethodPasskey, authn.MethodTOTP, authn.MethodRecovery})
	same(s+"URLResult/properties/verdict", phishing.Verdicts)
	same(s+"Lookalike/properties/kind", phishing.LookalikeKinds)
	same(s+"MessageCheckInput/properties/channel", phishing.Channels)
	same(s+"MessageResult/properties/verdict", phishing.Verdicts)
	same(s+"MessageCue/properties/kind", phishing.CueKinds)
	same(s+"MessageLink/properties/kind", []string{phishing.LinkText, phishing.LinkHTMLText, phishing.LinkAnchor, phishing.LinkArea, phishing.LinkForm})
	same(s+"PhishingReportInput/properties/channel", storage.ReportChannels)
	same(s+"PhishingReportInput/properties/reporter", storage.Reporters)
	same(s+"PhishingReport/properties/kind", storage.ReportKinds)
	same(s+"PhishingReport/properties/channel", storage.ReportChannels)
	same(s+"PhishingReport/properties/reporter", storage.Reporters)
	same(s+"PhishingReport/properties/status", storage.ReportStatuses)
	same(s+"PhishingReview/properties/status", []string{storage.ReportConfirmedPhishing, storage.ReportLegitimate})
	same("/components/parameters/ReportStatus/schema", storage.ReportStatuses)
	same(s+"Challenge/properties/status", []string{authn.StatusPending, authn.StatusPassed, authn.StatusFailed, authn.StatusExpired})
	same(s+"ContentPost/properties/kind", content.Kinds)
	same(s+"ContentDecision/properties/moderation", []string{ModerationPublish, ModerationHold, ModerationReject})
	same(s+"ContentFinding/properties/code", findingCodes(t))
	same(s+"PostLink/properties/verdict", phishing.Verdicts)
	same(s+"PerspectiveRequest/properties/requestedAttributes/propertyNames", perspectiveAttributes)
	same(s+"PerspectiveResponse/properties/attributeScores/propertyNames", perspectiveAttributes)
	same(s+"PerspectiveAttributeSpec/properties/scoreType", []string{perspectiveProbType})
	same(s+"PerspectiveScore/properties/type", []string{perspectiveProbType})
	for _, a := range risk.Actions {
		if m := moderation(a); !slices.Contains(enum(s+"ContentDecision/properties/moderation"), m) {
			t.Errorf("moderation(%s) = %q, which the moderation enum lacks", a, m)
		}
	}
	// The fields findings and links are in: each one Analyze names is documented.
	post := content.Post{Title: "Call me on 07911 123456, see www.n0rthwind.shop", Text: "idiot seller, details at https://n0rthwind.shop/pay"}
	an := content.NewAnalyzer(nil).Analyze("t1", &post, phishing.ParseProtected([]string{"northwind.shop"}))
	fields := map[string]bool{}
	for _, f := range an.Findings {
		fields[f.Field] = true
		if !slices.Contains(enum(s+"ContentFinding/properties/field"), f.Field) {
			t.Errorf("a finding is in field %q, which the ContentFinding field enum lacks", f.Field)
		}
	}
	for _, l := range an.Links {
		if !slices.Contains(enum(s+"PostLink/properties/field"), l.Field) {
			t.Errorf("a link is in field %q, which the PostLink field enum lacks", l.Field)
		}
	}
	if len(fields) != 2 || len(an.Links) != 2 {
		t.Errorf("the post with findings and links in its title and text gave findings in %v and %d links", sortedKeysOf(fields), len(an.Links))
	}
	// comment.type: every documented type is accepted, and nothing else.
	for _, typ := range append(enum(s+"PerspectiveText/properties/type"), "MARKDOWN") {
		req := perspectiveRequest{Comment: perspectiveText{Text: "fine", Type: typ},
			RequestedAttributes: map[string]perspectiveAttrSpec{attrToxicity: {}}}
		documented := typ != "MARKDOWN"
		if err := validatePerspective(&req); (err == nil) != documented {
			t.Errorf("comment.type %q: documented %v, validatePerspective says %v", typ, documented, err)
		}
	}
	ruleKinds := []string{string(fraud.Kind{}.Kind())}
	same(s+"RuleFields/properties/kind", ruleKinds)
	same(s+"BacktestRequest/properties/kind", ruleKinds)
	for _, v := range enum(s + "ListKind") {
		if !rules.ListKind(v).Valid() {
			t.Errorf("ListKind enum has %q, which rules.ListKind does not accept", v)
		}
	}
	if n := len(enum(s + "ListKind")); n != 10 {
		t.Errorf("ListKind enum has %d kinds; rules has 10", n)
	}
	for _, v := range enum(s + "Effect") {
		if !rules.Effect(v).Valid() {
			t.Errorf("Effect enum has %q, which rules.Effect does not accept", v)
		}
	}
	for _, v := range enum(s + "RuleFields/properties/mode") {
		if !rules.Mode(v).Valid() {
			t.Errorf("mode enum has %q, which rules.Mode does not accept", v)
		}
	}
}

// exprLeaves collects the names (by expr tag) and JSON-schema types of the
// leaf fields of a rule environment struct.
func exprLeaves(t reflect.Type, prefix string, out map[string]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		if name == "" || !f.IsExported() {
			continue
		}
		switch k := f.Type.Kind(); {
		case k == reflect.Struct:
			exprLeaves(f.Type, prefix+name+".", out)
		case k == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			exprLeaves(f.Type.Elem(), prefix+name+".", out)
		case k == reflect.String:
			out[prefix+name] = "string"
		case k == reflect.Bool:
			out[prefix+name] = "boolean"
		case f.Type.ConvertibleTo(reflect.TypeFor[int64]()) && k != reflect.Float32 && k != reflect.Float64:
			out[prefix+name] = "integer"
		case k == reflect.Float32 || k == reflect.Float64:
			out[prefix+name] = "number"
		default:
			out[prefix+name] = "unsupported " + f.Type.String()
		}
	}
}

func TestOpenAPIRuleEnvironment(t *testing.T) {
	doc := loadSpec(t)
	const at = "/components/schemas/RuleFields/properties/expression"
	env := mapAt(doc, at+"/x-rule-environment/transaction")
	if env == nil {
		t.Fatalf("%s/x-rule-environment/transaction is missing", at)
	}
	desc, _ := pointer(doc, at+"/description")
	description, _ := desc.(string)

	documented := map[string]string{}
	var names []string
	entries := func(v any) []map[string]any {
		var out []map[string]any
		list, _ := v.([]any)
		for _, x := range list {
			m, _ := x.(map[string]any)
			out = append(out, m)
		}
		return out
	}
	for _, f := range entries(env["fields"]) {
		name, _ := f["name"].(string)
		documented[name], _ = f["type"].(string)
		names = append(names, name)
	}
	entities := mapAt(env, "/entities/names")
	metrics := entries(mapAt(env, "/entities")["metrics"])
	for _, e := range sortedKeysOf(entities) {
		names = append(names, e)
		for _, m := range metrics {
			name, _ := m["name"].(string)
			documented["features."+e+"."+name], _ = m["type"].(string)
		}
	}
	for _, m := range metrics {
		name, _ := m["name"].(string)
		names = append(names, name)
	}

	want := map[string]string{}
	exprLeaves(reflect.TypeFor[fraud.Env](), "", want)
	for _, name := range sortedKeysOf(want) {
		switch got, ok := documented[name]; {
		case !ok:
			t.Errorf("rule field %s (fraud.Env) is not in x-rule-environment", name)
		case got != want[name]:
			t.Errorf("rule field %s is documented as %s but is %s", name, got, want[name])
		}
	}
	for _, name := range sortedKeysOf(documented) {
		if _, ok := want[name]; !ok {
			t.Errorf("x-rule-environment documents %s, which fraud.Env does not have", name)
		}
	}
	for _, name := range names {
		if !strings.Contains(description, "`"+name+"`") {
			t.Errorf("the expression description does not mention `%s`", name)
		}
	}

	// The login and signup rule environments: documented fields, entities
	// and metrics equal the Go types'.
	for kind, typ := range map[string]reflect.Type{"login": reflect.TypeFor[account.Env](), "signup": reflect.TypeFor[account.SignupEnv]()} {
		kenv := mapAt(doc, at+"/x-rule-environment/"+kind)
		if kenv == nil {
			t.Errorf("%s/x-rule-environment/%s is missing", at, kind)
			continue
		}
		got := map[string]string{}
		for _, f := range entries(kenv["fields"]) {
			name, _ := f["name"].(string)
			got[name], _ = f["type"].(string)
		}
		for _, e := range sortedKeysOf(mapAt(kenv, "/entities/names")) {
			for _, m := range entries(mapAt(kenv, "/entities")["metrics"]) {
				name, _ := m["name"].(string)
				got["features."+e+"."+name], _ = m["type"].(string)
			}
		}
		want := map[string]string{}
		exprLeaves(typ, "", want)
		for _, name := range sortedKeysOf(want) {
			if g, ok := got[name]; !ok || g != want[name] {
				t.Errorf("%s rule field %s (%s) is documented as %q", kind, name, want[name], g)
			}
		}
		for _, name := range sortedKeysOf(got) {
			if _, ok := want[name]; !ok {
				t.Errorf("x-rule-environment/%s documents %s, which %v does not have", kind, name, typ)
			}
		}
	}

	builtin := entries(env["builtin_lists"])
	if len(builtin) != 1 || builtin[0]["name"] != reference.DisposableDomainsListName || builtin[0]["kind"] != string(rules.ListEmailDomain) {
		t.Errorf("builtin_lists = %v, want the %s list of kind %s", builtin, reference.DisposableDomainsListName, rules.ListEmailDomain)
	}
	fns := entries(env["functions"])
	if len(fns) != 1 || fns[0]["name"] != "in_list" {
		t.Errorf("functions = %v, want in_list", fns)
	}
	for _, s := range []string{"in_list(\"name\", value)", reference.DisposableDomainsListName} {
		if !strings.Contains(description, s) {
			t.Errorf("the expression description does not mention %s", s)
		}
	}
}

// exampleValues returns the examples of a media type object.
func exampleValues(doc map[string]any, media map[string]any) map[string]any {
	out := map[string]any{}
	if ex, ok := media["example"]; ok {
		out["example"] = ex
	}
	for name, e := range mapAt(media, "/examples") {
		if em, ok := deref(doc, e).(map[string]any); ok {
			out[name] = em["value"]
		}
	}
	return out
}

// schemaName returns the component name a media type's schema refers to.
func schemaName(media map[string]any) string {
	ref, _ := mapAt(media, "/schema")["$ref"].(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

// TestOpenAPIExamples decodes every JSON example with the server's own
// strict decoder into the Go type of its schema, validates example
// transactions, compiles example rules and checks that example decisions
// cite default rules as they are.
func TestOpenAPIExamples(t *testing.T) {
	doc := loadSpec(t)
	lists, err := rules.NewLists([]rules.ListEntries{{List: rules.List{
		Name: reference.DisposableDomainsListName, Kind: rules.ListEmailDomain, Effect: rules.EffectNone}}})
	if err != nil {
		t.Fatal(err)
	}
	schemas := rules.Schemas{fraud.Kind{}.Kind(): fraud.Kind{}.NewEnv(), account.LoginKind{}.Kind(): account.LoginKind{}.NewEnv(),
		account.SignupKind{}.Kind(): account.SignupKind{}.NewEnv()}
	defaults := map[string]rules.Rule{}
	for _, r := range slices.Concat((fraud.Kind{}).DefaultRules(), account.LoginKind{}.DefaultRules(), account.SignupKind{}.DefaultRules(),
		content.Kind{}.DefaultRules()) {
		defaults[r.Name] = r
	}
	compile := func(where string, rs []rules.Rule) {
		for i := range rs {
			if rs[i].Name == "" {
				rs[i].Name = "example"
			}
			if rs[i].Kind == "" {
				rs[i].Kind = fraud.Kind{}.Kind()
			}
		}
		if _, err := rules.Compile(1, rs, schemas, lists); err != nil {
			t.Errorf("%s: example rules do not compile: %v", where, err)
		}
	}
	// check checks the examples of media; those named in refused are
	// requests documented as refused (an error example of the same name),
	// which only have to decode.
	check := func(where string, media map[string]any, refused map[string]bool) int {
		typ, ok := schemaTypes[schemaName(media)]
		if !ok {
			return 0
		}
		n := 0
		for name, ex := range exampleValues(doc, media) {
			n++
			where := where + " example " + name
			body, err := json.Marshal(ex)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			v := reflect.New(typ).Interface()
			if err := decodeBytes(body, v); err != nil {
				t.Errorf("%s does not decode into %v: %v", where, typ, err)
				continue
			}
			if refused[name] {
				continue
			}
			switch v := v.(type) {
			case *fraud.Transaction:
				if err := v.Validate(time.Now()); err != nil {
					t.Errorf("%s is not a valid transaction: %v", where, err)
				}
			case *account.Login:
				if err := v.Validate(time.Now()); err != nil {
					t.Errorf("%s is not a valid login: %v", where, err)
				}
			case *account.SessionCheck:
				if err := v.Login().Validate(time.Now()); err != nil {
					t.Errorf("%s is not a valid session check: %v", where, err)
				}
			case *account.Signup:
				if err := v.Validate(time.Now()); err != nil {
					t.Errorf("%s is not a valid sign-up: %v", where, err)
				}
			case *content.Post:
				if err := v.Validate(time.Now()); err != nil {
					t.Errorf("%s is not a valid post: %v", where, err)
				}
			case *contentResponse:
				checkContentDecision(t, where, v, defaults)
			case *rules.Rule:
				compile(where, []rules.Rule{*v})
			case *rulesBody:
				compile(where, v.Rules)
			case *backtestBody:
				compile(where, v.Rules)
			case *phishingProfileBody:
				if _, err := validateProfile(*v); err != nil {
					t.Errorf("%s is not a valid phishing profile: %v", where, err)
				}
			case *phishingReportBody:
				if _, err := validateReport(*v); err != nil {
					t.Errorf("%s is not a valid phishing report: %v", where, err)
				}
			case *reviewBody:
				if err := validateReview(*v); err != nil {
					t.Errorf("%s is not a valid review: %v", where, err)
				}
			case *listBody:
				for i, e := range v.Values {
					if _, err := rules.NormalizeEntry(v.Kind, e); err != nil {
						t.Errorf("%s: entries[%d]: %v", where, i, err)
					}
				}
			case *decisionResponse:
				for _, r := range v.Reasons {
					name, isRule := strings.CutPrefix(r.Code, "rule:")
					d, ok := defaults[name]
					switch {
					case !isRule:
					case !ok:
						t.Errorf("%s cites rule %s, which is not a default rule", where, name)
					case r.Action != d.Action || r.Weight != float64(d.Score):
						t.Errorf("%s: reason %s has action %q and weight %v; the default rule has %q and %d", where, r.Code, r.Action, r.Weight, d.Action, d.Score)
					}
				}
			}
		}
		return n
	}
	n := 0
	for _, o := range specOperations(t, doc) {
		refused := map[string]bool{}
		for status, resp := range mapAt(o.op, "/responses") {
			rm, _ := deref(doc, resp).(map[string]any)
			if media := mapAt(rm, "/content/application~1json"); media != nil {
				n += check(o.key+" "+status, media, nil)
				if strings.HasPrefix(status, "4") {
					for name := range exampleValues(doc, media) {
						refused[name] = true
					}
				}
			}
		}
		body, _ := deref(doc, o.op["requestBody"]).(map[string]any)
		if media := mapAt(body, "/content/application~1json"); media != nil {
			n += check(o.key+" request", media, refused)
		}
	}
	for name, resp := range mapAt(doc, "/components/responses") {
		if media := mapAt(resp, "/content/application~1json"); media != nil {
			n += check("response "+name, media, nil)
		}
	}
	if n == 0 {
		t.Error("no examples were checked")
	}
}

// TestOpenAPIMessageExamples checks that the answers documented for POST
// /v1/messages/check are the checker's: each request example is judged
// as the server judges it with no model or list loaded and the passkey
// domain northwind.shop the examples assume, and the answer must equal
// the response example of the same name. Every request example must have
// one (a response example without a request, such as one made with
// models loaded, is checked only by TestOpenAPIExamples).
func TestOpenAPIMessageExamples(t *testing.T) {
	doc := loadSpec(t)
	op := mapAt(doc, "/paths/~1v1~1messages~1check/post")
	requests := exampleValues(doc, mapAt(op, "/requestBody/content/application~1json"))
	answers := exampleValues(doc, mapAt(op, "/responses/200/content/application~1json"))
	if len(requests) == 0 {
		t.Fatal("POST /v1/messages/check has no request examples")
	}
	// canonical re-encodes a value as JSON decodes it (numbers as float64).
	canonical := func(v any) (any, string) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out, string(b)
	}
	checker := phishing.NewChecker(nil)
	for _, name := range sortedKeysOf(requests) {
		raw, err := json.Marshal(requests[name])
		if err != nil {
			t.Fatal(err)
		}
		var body messageCheckBody
		if err := decodeBytes(raw, &body); err != nil {
			t.Errorf("request example %s does not decode: %v", name, err)
			continue
		}
		var protected []string
		for _, d := range append(slices.Clone(body.ProtectedDomains), "northwind.shop") {
			u, err := phishing.Parse(d)
			if err != nil || u.RegisteredDomain == "" {
				t.Errorf("request example %s: protected domain %q is not a domain name", name, d)
				continue
			}
			protected = append(protected, u.RegisteredDomain)
		}
		res, err := checker.CheckMessage("t", phishing.Message{Channel: body.Channel, Raw: []byte(body.Raw), Text: body.Text,
			Sender: body.Sender, Subject: body.Subject}, phishing.Shop{Protected: protected, Sender: phishing.Sender{Domains: protected}})
		if err != nil {
			t.Errorf("request example %s is refused: %v", name, err)
			continue
		}
		want, ok := answers[name]
		if !ok {
			t.Errorf("request example %s has no response example of the same name", name)
			continue
		}
		got, gotJSON := canonical(res)
		if w, wantJSON := canonical(want); !reflect.DeepEqual(got, w) {
			t.Errorf("response example %s is not what the checker answers.\ndocumented: %s\nchecker: %s", name, wantJSON, gotJSON)
		}
	}
}

// findingCodes returns the values of the content package's Code*
// constants, in the order findings.go declares them.
func findingCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "content", "findings.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("content.%s is not a string literal", name.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("content/findings.go declares no Code* constants")
	}
	return out
}

// checkContentDecision checks a documented answer of POST /v1/content:
// its moderation follows its action, the rules it cites are default rules
// as they are, and its spans are findings of the answer.
func checkContentDecision(t *testing.T, where string, d *contentResponse, defaults map[string]rules.Rule) {
	t.Helper()
	if m := moderation(d.Action); d.Moderation != m {
		t.Errorf("%s: action %s moderates as %q, not %q", where, d.Action, m, d.Moderation)
	}
	for _, r := range d.Reasons {
		name, isRule := strings.CutPrefix(r.Code, "rule:")
		rule, ok := defaults[name]
		switch {
		case !isRule:
		case !ok || rule.Kind != risk.EventContent:
			t.Errorf("%s cites rule %s, which is not a default content rule", where, name)
		case r.Action != rule.Action || r.Weight != float64(rule.Score):
			t.Errorf("%s: reason %s has action %q and weight %v; the default rule has %q and %d", where, r.Code, r.Action, r.Weight, rule.Action, rule.Score)
		}
		codes := content.RuleFindings(r.Code)
		for _, sp := range r.Spans {
			if !slices.Contains(codes, sp.Code) || !slices.Contains(d.Findings, sp) {
				t.Errorf("%s: reason %s has span %+v, which is not one of its findings", where, r.Code, sp)
			}
		}
	}
}

// exampleServer is a server as shopguard runs it by default, for one
// tenant whose protected domain is northwind.shop: a real engine with the
// content kind and its default rules over memory storage, and one API key
// with the scope events:write.
type exampleServer struct {
	srv *Server
	key string
}

func newExampleServer(t *testing.T, now time.Time) exampleServer {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	secret, rec, err := apikey.New("t1", "docs", []apikey.Scope{apikey.ScopeEventsWrite}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := store.PutPhishingProfile(ctx, storage.PhishingProfile{Tenant: "t1", ProtectedDomains: []string{"northwind.shop"}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return now }, Logger: log},
		store, features.NewMemory(features.MemoryConfig{}), content.Kind{})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{MaxBodyBytes: 1 << 20}, eng, apikey.NewAuthenticator(store, 0), nil, store, log)
	srv.now = func() time.Time { return now }
	srv.SetPhishing(store)
	return exampleServer{srv: srv, key: secret}
}

// post sends body to path with the key in the Authorization header
// (bearer) or in the query parameter key, and returns the status and the
// answer as JSON decodes it.
func (e exampleServer) post(t *testing.T, path string, bearer bool, body any) (int, any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	target := path
	if !bearer {
		target += "?" + url.Values{"key": {e.key}}.Encode()
	}
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if bearer {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	var out any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s answered %d with %q: %v", path, rec.Code, rec.Body.String(), err)
	}
	return rec.Code, out
}

// canonicalJSON re-encodes a value as JSON decodes it and indents it.
func canonicalJSON(t *testing.T, v any) (any, string) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out, string(b)
}

// checkAnswerExamples sends each request example of POST path, each to
// a fresh exampleServer, and checks that the answer is
// the response example of the same name under the status the server
// answered. keep names the fields whose documented values stand for the
// server's (ids, latencies, request ids). Response examples without a
// request (answers that need history, such as a campaign) are checked
// only by TestOpenAPIExamples.
func checkAnswerExamples(t *testing.T, doc map[string]any, path string, now time.Time, keep func(status int, got, want map[string]any)) {
	t.Helper()
	op := mapAt(doc, "/paths/"+strings.ReplaceAll(path, "/", "~1")+"/post")
	requests := exampleValues(doc, mapAt(op, "/requestBody/content/application~1json"))
	if len(requests) == 0 {
		t.Fatalf("POST %s has no request examples", path)
	}
	for i, name := range sortedKeysOf(requests) {
		e := newExampleServer(t, now)
		// Every other example authenticates with ?key=, as Perspective's clients do.
		bearer := !strings.HasPrefix(path, "/v1alpha1/") || i%2 == 0
		status, got := e.post(t, path, bearer, requests[name])
		resp, _ := deref(doc, mapAt(op, "/responses")[strconv.Itoa(status)]).(map[string]any)
		answers := exampleValues(doc, mapAt(resp, "/content/application~1json"))
		want, ok := answers[name]
		if !ok {
			_, gotJSON := canonicalJSON(t, got)
			t.Errorf("request example %s: the server answers %d, which has no response example of that name:\n%s", name, status, gotJSON)
			continue
		}
		g, gotJSON := canonicalJSON(t, got)
		w, wantJSON := canonicalJSON(t, want)
		gm, _ := g.(map[string]any)
		wm, _ := w.(map[string]any)
		if gm != nil && wm != nil {
			keep(status, gm, wm)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("response example %s (%d) is not what the server answers.\ndocumented: %s\nserver: %s", name, status, wantJSON, gotJSON)
		}
	}
}

// keepRequestID keeps the documented request id of an error answer.
func keepRequestID(status int, got, want map[string]any) {
	ge, _ := got["error"].(map[string]any)
	we, _ := want["error"].(map[string]any)
	if status >= 400 && ge != nil && we != nil {
		ge["request_id"] = we["request_id"]
	}
}

// contentExampleTime is when the examples of POST /v1/content are sent.
var contentExampleTime = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)

// TestOpenAPIContentExamples checks that the answers documented for POST
// /v1/content are the server's: each request example is judged, by a
// server with the default rules and the protected domain northwind.shop,
// as the response example of the same name says (its id and latency
// aside).
func TestOpenAPIContentExamples(t *testing.T) {
	doc := loadSpec(t)
	checkAnswerExamples(t, doc, "/v1/content", contentExampleTime, func(status int, got, want map[string]any) {
		keepRequestID(status, got, want)
		if status != http.StatusOK {
			return
		}
		if id, _ := want["id"].(string); !strings.HasPrefix(id, "ev_") {
			t.Errorf("documented id %q is not an event id (ev_...)", id)
		}
		for _, k := range []string{"id", "latency_us"} {
			got[k] = want[k]
		}
	})
	// The tag says what is judged: every default content rule is named.
	var desc string
	tags, _ := doc["tags"].([]any)
	for _, tag := range tags {
		if m, _ := tag.(map[string]any); m["name"] == "content" {
			desc, _ = m["description"].(string)
		}
	}
	if desc == "" {
		t.Fatal("openapi.yaml has no content tag with a description")
	}
	for _, r := range (content.Kind{}).DefaultRules() {
		if !strings.Contains(desc, "`"+r.Name+"`") {
			t.Errorf("the content tag's description does not name the default rule `%s`", r.Name)
		}
	}
}

// TestOpenAPIPerspectiveExamples checks that the answers documented for
// POST /v1alpha1/comments:analyze are the server's, authenticating in
// turn with the Authorization header and with ?key=, and that the
// description names every Perspective attribute it refuses.
func TestOpenAPIPerspectiveExamples(t *testing.T) {
	doc := loadSpec(t)
	checkAnswerExamples(t, doc, "/v1alpha1/comments:analyze", contentExampleTime, keepRequestID)
	desc, _ := mapAt(doc, "/paths/~1v1alpha1~1comments:analyze/post")["description"].(string)
	for _, a := range perspectiveUnsupported {
		if !strings.Contains(desc, "`"+a+"`") {
			t.Errorf("the description of comments:analyze does not name the refused attribute `%s`", a)
		}
	}
}

// TestOpenAPIContentLimits checks the documented bounds of the request
// bodies of POST /v1/content and comments:analyze against the
// validation: a value at each documented bound is accepted, one past it
// refused, naming the field.
func TestOpenAPIContentLimits(t *testing.T) {
	doc := loadSpec(t)
	post := func(at string) map[string]any {
		t.Helper()
		ex, ok := exampleValues(doc, mapAt(doc, "/paths/~1v1~1content/post/requestBody/content/application~1json"))[at]
		if !ok {
			t.Fatalf("POST /v1/content has no request example %s", at)
		}
		_, js := canonicalJSON(t, ex)
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// set sets the field at a dotted path of a JSON object.
	set := func(m map[string]any, field string, v any) {
		parts := strings.Split(field, ".")
		for _, p := range parts[:len(parts)-1] {
			next, _ := m[p].(map[string]any)
			if next == nil {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	validPost := func(m map[string]any) error {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var p content.Post
		if err := decodeBytes(raw, &p); err != nil {
			return err
		}
		return p.Validate(contentExampleTime)
	}
	validComment := func(m map[string]any) error {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var req perspectiveRequest
		if err := decodeBytes(raw, &req); err != nil {
			return err
		}
		return validatePerspective(&req)
	}
	names := func(err error) string {
		var b strings.Builder
		var walk func(error)
		walk = func(err error) {
			var fe *risk.FieldError
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range joined.Unwrap() {
					walk(e)
				}
			} else if errors.As(err, &fe) {
				b.WriteString(fe.Field + " ")
			}
		}
		walk(err)
		return b.String()
	}
	type bound struct {
		schema, prop, field string // field: the request path of the property
		valid               func(map[string]any) error
		base                func() map[string]any
	}
	review := func() map[string]any { return post("genuineReview") }
	comment := func() map[string]any {
		return map[string]any{"comment": map[string]any{"text": "fine"}, "requestedAttributes": map[string]any{attrToxicity: map[string]any{}}}
	}
	bounds := []bound{
		{"ContentPost", "id", "id", validPost, review},
		{"ContentPost", "title", "title", validPost, review},
		{"ContentPost", "text", "text", validPost, review},
		{"ContentPost", "language", "language", validPost, review},
		{"ContentPost", "target_id", "target_id", validPost, review},
		{"ContentPost", "parent_id", "parent_id", validPost, review},
		{"PostAuthor", "user_id", "author.user_id", validPost, review},
		{"PostAuthor", "device_id", "author.device_id", validPost, review},
		{"PerspectiveText", "text", "comment.text", validComment, comment},
		{"PerspectiveRequest", "clientToken", "clientToken", validComment, comment},
	}
	for _, b := range bounds {
		at := "/components/schemas/" + b.schema + "/properties/" + b.prop
		n, ok := mapAt(doc, at)["maxLength"].(int)
		if !ok {
			t.Errorf("%s has no maxLength", at)
			continue
		}
		m := b.base()
		set(m, b.field, strings.Repeat("a", n))
		if err := b.valid(m); err != nil {
			t.Errorf("%s: %d bytes, the documented maximum, are refused: %v", b.field, n, err)
		}
		set(m, b.field, strings.Repeat("a", n+1))
		if err := b.valid(m); !strings.Contains(names(err), b.field+" ") {
			t.Errorf("%s: %d bytes, one past the documented maximum, are not refused naming the field (%v)", b.field, n+1, err)
		}
	}
	// rating: a review's stars, from minimum to maximum.
	at := "/components/schemas/ContentPost/properties/rating"
	lo, ok1 := mapAt(doc, at)["minimum"].(int)
	hi, ok2 := mapAt(doc, at)["maximum"].(int)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no minimum and maximum", at)
	}
	for r := lo - 1; r <= hi+1; r++ {
		if r == 0 {
			continue // no rating
		}
		m := review()
		set(m, "rating", r)
		err := validPost(m)
		if inRange := r >= lo && r <= hi; inRange != (err == nil) {
			t.Errorf("rating %d: documented %d to %d, validation says %v", r, lo, hi, err)
		}
	}
	// scoreThreshold: from minimum to maximum, nothing outside.
	at = "/components/schemas/PerspectiveAttributeSpec/properties/scoreThreshold"
	for _, th := range []float64{-0.01, 0, 0.5, 1, 1.01} {
		m := comment()
		set(m, "requestedAttributes."+attrToxicity+".scoreThreshold", th)
		err := validComment(m)
		if inRange := th >= 0 && th <= 1; inRange != (err == nil) {
			t.Errorf("scoreThreshold %v: documented 0 to 1, validation says %v", th, err)
		}
	}
}
