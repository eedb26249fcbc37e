package rules

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/shopguard/shopguard/internal/risk"
)

// inListName is the name of the list-membership function rules may call.
const inListName = "in_list"

// ListSource gives a rule set the tenant's current lists. Compile reads it
// once to check list names; every in_list call reads it again at evaluation
// time, so list edits take effect without recompiling. Implementations must
// be safe for concurrent use; *Lists (a fixed snapshot) and *AtomicLists
// implement it.
type ListSource interface {
	// Lists returns the current snapshot; nil behaves as no lists.
	Lists() *Lists
}

// CompileError is one problem found by Compile.
type CompileError struct {
	// Rule is the rule's name as given (possibly empty or invalid).
	Rule string `json:"rule"`
	// Index is the rule's position in the slice given to Compile.
	Index int `json:"index"`
	// Field is the rule field at fault: "expression", "description",
	// "name", "kind", "action", "score" or "mode".
	Field string `json:"field"`
	// Line and Column locate the problem in the field's text, both 1-based;
	// they are 0 when the problem has no position.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// Error returns e.g. `rule "big_amount" expression 1:14: unknown name amount`.
func (e CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rule %q %s", e.Rule, e.Field)
	if e.Line > 0 {
		fmt.Fprintf(&b, " %d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// CompileErrors is every problem Compile found, in rule order. It wraps
// ErrInvalid.
type CompileErrors []CompileError

// Error returns one line per problem after a "rules: " summary.
func (es CompileErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rules: %d problem(s) in rule set", len(es))
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalid.
func (es CompileErrors) Unwrap() error { return ErrInvalid }

// Compile validates and compiles rs against schemas and returns an
// immutable Set tagged with version, or every problem at once as
// CompileErrors (never both). Each expression is type-checked against its
// kind's prototype environment and must be boolean; each {{ expr }}
// placeholder in a description is compiled the same way but may be of any
// type; in_list calls must name, with a string literal, a list that exists
// in lists.Lists() (lists may be nil: then in_list cannot be used). Rule
// names must be unique. Disabled rules are checked and kept but never
// evaluated. Compile does not keep rs.
func Compile(version int64, rs []Rule, schemas Schemas, lists ListSource) (*Set, error) {
	c := &compiler{source: lists}
	if lists != nil {
		c.snapshot = lists.Lists()
	}
	s := &Set{
		version: version,
		rules:   make([]Rule, len(rs)),
		kinds:   make(map[risk.EventKind]*kindRules),
	}
	copy(s.rules, rs)
	seen := make(map[string]int, len(rs))
	for i := range s.rules {
		r := &s.rules[i]
		r.Mode = r.EffectiveMode()
		c.rule, c.index = r.Name, i
		var bad map[string]bool
		if err := r.Validate(schemas); err != nil {
			bad = c.addFieldErrors(err)
		}
		if first, dup := seen[r.Name]; dup && r.Name != "" {
			c.add("name", 0, 0, fmt.Sprintf("duplicate rule name (also used by rule #%d)", first))
		} else {
			seen[r.Name] = i
		}
		proto, ok := schemas[r.Kind]
		if !ok || proto == nil {
			continue // reported by Validate; nothing to type-check against
		}
		proto = usableProto(proto)
		// Programs run on what Evaluate hands them: for environments run
		// by value, the struct itself. Compiled against it, a name such as
		// features.ip.accounts_1h is one indexed field path; compiled
		// against the pointer, expr looks each root name up at run time.
		src := proto
		if byValue(reflect.TypeOf(proto)) {
			src = reflect.ValueOf(proto).Elem().Interface()
		}
		cr := &compiledRule{rule: r}
		if !bad["expression"] {
			cr.program = c.compileText("expression", r.Expression, r.Expression, 0, src, true)
		}
		if !bad["description"] {
			cr.message = c.compileDescription(r, src)
		}
		if r.Mode == ModeDisabled {
			continue
		}
		kr := s.kinds[r.Kind]
		if kr == nil {
			kr = newKindRules(proto)
			s.kinds[r.Kind] = kr
		}
		kr.rules = append(kr.rules, cr)
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	s.lists = make([]string, 0, len(c.used))
	for name := range c.used {
		s.lists = append(s.lists, name)
	}
	sort.Strings(s.lists)
	s.vms.New = func() any { return &vm.VM{MemoryBudget: memoryBudget} }
	return s, nil
}

// usableProto returns proto, or a pointer to a new zero struct when proto
// is a nil struct pointer (which expr cannot inspect).
func usableProto(proto any) any {
	v := reflect.ValueOf(proto)
	if v.Kind() == reflect.Pointer && v.IsNil() && v.Type().Elem().Kind() == reflect.Struct {
		return reflect.New(v.Type().Elem()).Interface()
	}
	return proto
}

// compiler carries the state of one Compile call.
type compiler struct {
	snapshot *Lists     // lists at compile time, for name checks
	source   ListSource // lists at evaluation time, bound into in_list
	used     map[string]struct{}
	errs     CompileErrors
	rule     string // current rule's name and index, for errors
	index    int
}

// add records a problem of the current rule.
func (c *compiler) add(field string, line, col int, msg string) {
	c.errs = append(c.errs, CompileError{Rule: c.rule, Index: c.index, Field: field, Line: line, Column: col, Message: msg})
}

// addFieldErrors records the *FieldErrors inside err (as joined by
// Validate) and returns the set of fields at fault.
func (c *compiler) addFieldErrors(err error) map[string]bool {
	bad := make(map[string]bool)
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) {
			c.add(fe.Field, 0, 0, fe.Message)
			bad[fe.Field] = true
		} else {
			c.add("rule", 0, 0, e.Error())
		}
	}
	return bad
}

// compileText compiles src, which starts at rune offset base of text (the
// whole value of the rule field named field), against proto,
// records its problems and returns the program, or nil on problems.
func (c *compiler) compileText(field, text, src string, base int, proto any, asBool bool) *vm.Program {
	prog, probs := c.compileSource(src, proto, asBool)
	for _, p := range probs {
		line, col := 0, 0
		if p.located {
			line, col = position(text, base+p.loc.From)
		}
		c.add(field, line, col, p.msg)
	}
	return prog
}

// problem is one error in one compiled source, located by rune offset.
type problem struct {
	loc     file.Location
	located bool
	msg     string
}

// compileSource runs expr.Compile with the rule environment and the
// in_list binder. It never panics: a panic inside expr becomes a problem.
func (c *compiler) compileSource(src string, proto any, asBool bool) (prog *vm.Program, probs []problem) {
	b := &listBinder{c: c}
	defer func() {
		if r := recover(); r != nil {
			prog, probs = nil, append(b.problems, problem{msg: fmt.Sprintf("cannot compile: %v", r)})
		}
	}()
	opts := []expr.Option{
		expr.Env(proto),
		// in_list is declared so that the first type-check pass knows it;
		// the binder replaces every valid call before compilation.
		expr.Function(inListName, unboundInList, new(func(string, any) bool)),
		expr.Patch(b),
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	probs = b.finish()
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			probs = append(probs, problem{loc: fe.Location, located: true, msg: fe.Message})
		} else {
			probs = append(probs, problem{msg: err.Error()})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return prog, nil
}

// unboundInList is the implementation of in_list that the binder failed to
// replace; it is never part of a returned Set.
func unboundInList(...any) (any, error) {
	return false, fmt.Errorf("%w: in_list was not bound to a list", ErrInvalid)
}

// listBinder is the ast.Visitor that checks and binds in_list calls: the
// list name must be a string literal naming an existing list; the call
// in_list("name", v) is replaced by a call of a func(any) bool constant that
// looks the value up in the ListSource's current snapshot, which the VM
// calls without reflection or allocation.
type listBinder struct {
	c        *compiler
	bare     map[*ast.IdentifierNode]struct{} // in_list not (yet) seen as a callee
	problems []problem
}

// Visit implements ast.Visitor. ast.Walk visits children first, so a
// callee identifier is seen before its call.
func (b *listBinder) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == inListName {
			if b.bare == nil {
				b.bare = make(map[*ast.IdentifierNode]struct{})
			}
			b.bare[n] = struct{}{}
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != inListName {
			return
		}
		delete(b.bare, id)
		ast.Patch(node, b.bind(n))
	}
}

// bind returns the node that replaces the in_list call n: the bound call,
// or the constant false after recording a problem (so that the type checker
// does not report the same call again).
func (b *listBinder) bind(n *ast.CallNode) ast.Node {
	fail := func(at ast.Node, format string, args ...any) ast.Node {
		b.problems = append(b.problems, problem{loc: startOf(at), located: true, msg: fmt.Sprintf(format, args...)})
		return &ast.BoolNode{Value: false}
	}
	if len(n.Arguments) != 2 {
		return fail(n, `in_list takes two arguments, a list name and a value, e.g. in_list("blocked-ips", ip)`)
	}
	lit, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		return fail(n.Arguments[0], `in_list: the list name must be a string literal, e.g. in_list("blocked-ips", ip)`)
	}
	name := lit.Value
	if b.c.snapshot == nil || len(b.c.snapshot.byName) == 0 {
		return fail(lit, "in_list: unknown list %q (no lists are defined)", name)
	}
	if _, ok := b.c.snapshot.Get(name); !ok {
		return fail(lit, "in_list: unknown list %q", name)
	}
	value := n.Arguments[1]
	if t := value.Type(); t != nil && !listValueKind(t.Kind()) {
		return fail(value, "in_list: the value must be a string or an integer, not %s", t)
	}
	if b.c.used == nil {
		b.c.used = make(map[string]struct{})
	}
	b.c.used[name] = struct{}{}
	callee := &ast.ConstantNode{Value: boundInList(b.c.source, name)}
	callee.SetLocation(n.Callee.Location())
	return &ast.CallNode{Callee: callee, Arguments: []ast.Node{value}}
}

// startOf returns the location of the leftmost node of the tree at n, so
// that an error about `"a" + "b"` points at its start, not at the +.
func startOf(n ast.Node) file.Location {
	f := &leftmost{loc: n.Location()}
	ast.Walk(&n, f)
	return f.loc
}

// leftmost is the ast.Visitor behind startOf.
type leftmost struct{ loc file.Location }

func (f *leftmost) Visit(node *ast.Node) {
	if l := (*node).Location(); l.From < f.loc.From {
		f.loc = l
	}
}

// finish returns the problems, including in_list used other than as a call.
func (b *listBinder) finish() []problem {
	for id := range b.bare {
		b.problems = append(b.problems, problem{loc: id.Location(), located: true,
			msg: `in_list can only be called, e.g. in_list("blocked-ips", ip)`})
	}
	return b.problems
}

// listValueKind reports whether values of kind k can be looked up in a list.
func listValueKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Interface,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// boundInList returns the function an in_list("name", v) call runs: it
// reads src's current snapshot on every call. Integers are looked up in
// decimal; any other value is not in the list.
func boundInList(src ListSource, name string) func(any) bool {
	return func(v any) bool {
		if src == nil {
			return false
		}
		switch v := v.(type) {
		case string:
			return src.Lists().Contains(name, v)
		case int:
			return src.Lists().Contains(name, strconv.Itoa(v))
		case int64:
			return src.Lists().Contains(name, strconv.FormatInt(v, 10))
		case nil:
			return false
		}
		rv := reflect.ValueOf(v)
		switch {
		case rv.Kind() == reflect.String:
			return src.Lists().Contains(name, rv.String())
		case rv.CanInt():
			return src.Lists().Contains(name, strconv.FormatInt(rv.Int(), 10))
		case rv.CanUint():
			return src.Lists().Contains(name, strconv.FormatUint(rv.Uint(), 10))
		}
		return false
	}
}

// compileDescription splits r.Description into literal text and compiled
// {{ expr }} placeholders.
func (c *compiler) compileDescription(r *Rule, proto any) []segment {
	d := r.Description
	if d == "" {
		return []segment{{text: "rule " + r.Name + " matched"}}
	}
	var segs []segment
	for rest, off := d, 0; rest != ""; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			segs = append(segs, segment{text: rest})
			break
		}
		if i > 0 {
			segs = append(segs, segment{text: rest[:i]})
		}
		start := off + i + 2 // byte offset of the placeholder's source in d
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			line, col := position(d, runeOffset(d, off+i))
			c.add("description", line, col, `unclosed placeholder: "{{" without "}}"`)
			break
		}
		src := rest[i+2 : i+2+j]
		if strings.TrimSpace(src) == "" {
			line, col := position(d, runeOffset(d, off+i))
			c.add("description", line, col, "empty placeholder {{ }}")
		} else {
			segs = append(segs, segment{program: c.compileText("description", d, src, runeOffset(d, start), proto, false)})
		}
		rest = rest[i+2+j+2:]
		off = start + j + 2
	}
	return segs
}

// runeOffset converts the byte offset off in s to a rune offset.
func runeOffset(s string, off int) int {
	return len([]rune(s[:off]))
}

// position returns the 1-based line and column of rune offset off in s.
func position(s string, off int) (line, col int) {
	line, col = 1, 1
	n := 0
	for _, r := range s {
		if n == off {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		n++
	}
	return line, col
}
