package terraform

// A small evaluator of this folder's Terraform configuration: enough of the
// language (variables with defaults, locals, for_each, dynamic blocks, a few
// functions) to expand every resource instance with the values validate
// never looks at. References to attributes Azure computes (ids, hostnames)
// become placeholders: ids are "<type>.<name>[<key>]" so references between
// resources can be followed; everything else is unknown.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// block is an evaluated block: attributes and nested blocks, with dynamic
// blocks expanded.
type block struct {
	Type   string
	Attrs  map[string]cty.Value
	Blocks []*block
}

// children returns the nested blocks of type typ.
func (b *block) children(typ string) []*block {
	var out []*block
	for _, c := range b.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

// child returns the only nested block of type typ, or nil.
func (b *block) child(typ string) *block {
	if c := b.children(typ); len(c) == 1 {
		return c[0]
	}
	return nil
}

// str returns a known string attribute, or "" and false.
func (b *block) str(name string) (string, bool) {
	if b == nil {
		return "", false
	}
	v, ok := b.Attrs[name]
	if !ok || v.IsNull() || !v.IsWhollyKnown() {
		return "", false
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return v.AsString(), true
}

// strings returns a known list/set attribute of strings.
func (b *block) strings(name string) ([]string, bool) {
	v, ok := b.Attrs[name]
	if !ok || v.IsNull() || !v.IsWhollyKnown() || !v.CanIterateElements() {
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		s, err := convert.Convert(e, cty.String)
		if err != nil {
			return nil, false
		}
		out = append(out, s.AsString())
	}
	return out, true
}

// stringMap returns a known map/object attribute of strings; unknown values
// are left out.
func (b *block) stringMap(name string) map[string]string {
	out := map[string]string{}
	v, ok := b.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || !v.CanIterateElements() {
		return out
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if !e.IsKnown() || e.IsNull() {
			continue
		}
		if s, err := convert.Convert(e, cty.String); err == nil {
			out[k.AsString()] = s.AsString()
		}
	}
	return out
}

// instance is one expanded resource instance.
type instance struct {
	Type, Name, Key string
	Body            *block
}

// Addr is the instance's address, also used as its placeholder id.
func (i instance) Addr() string {
	if i.Key == "" {
		return i.Type + "." + i.Name
	}
	return fmt.Sprintf("%s.%s[%q]", i.Type, i.Name, i.Key)
}

// config is the expanded configuration.
type config struct {
	Instances []instance
	// Traversals are the root.attr... references found anywhere, as text
	// ("azurerm_servicebus_namespace.this.default_primary_connection_string").
	Traversals []string
	// Locals are the evaluated locals.
	Locals map[string]cty.Value
	// Outputs maps each output's name to the references in its value, as
	// text (outputs are not evaluated: most name values Azure computes).
	Outputs map[string][]string
}

// of returns the instances of a resource type.
func (c *config) of(typ string) []instance {
	var out []instance
	for _, i := range c.Instances {
		if i.Type == typ {
			out = append(out, i)
		}
	}
	return out
}

// readDir reads the *.tf files of dir.
func readDir(dir string) (map[string][]byte, error) {
	return readFiles(dir, "*.tf", "")
}

// readFiles reads the files of dir that match pattern, keyed by prefix
// followed by the file's name.
func readFiles(dir, pattern, prefix string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files[prefix+filepath.Base(p)] = b
	}
	return files, nil
}

type resourceBlock struct {
	typ, name string
	block     *hclsyntax.Block
}

// load parses and expands the configuration made of files (name -> text),
// its variables at their defaults but for those in set (name -> value), as
// -var flags would give them.
func load(files map[string][]byte, set ...map[string]cty.Value) (*config, error) {
	var (
		variables = map[string]cty.Value{}
		localExpr = map[string]hclsyntax.Expression{}
		resources []resourceBlock
		all       []*hclsyntax.Body
		outputs   = map[string][]string{}
	)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, diags := hclsyntax.ParseConfig(files[n], n, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, diags
		}
		body := f.Body.(*hclsyntax.Body)
		all = append(all, body)
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				v := cty.DynamicVal // no default: the caller must pass it
				if d, ok := b.Body.Attributes["default"]; ok {
					val, diags := d.Expr.Value(nil)
					if diags.HasErrors() {
						return nil, diags
					}
					v = val
				}
				for _, s := range set {
					if given, ok := s[b.Labels[0]]; ok {
						v = given
					}
				}
				variables[b.Labels[0]] = v
			case "locals":
				for name, a := range b.Body.Attributes {
					localExpr[name] = a.Expr
				}
			case "resource":
				resources = append(resources, resourceBlock{b.Labels[0], b.Labels[1], b})
			case "output":
				refs := []string{}
				if v, ok := b.Body.Attributes["value"]; ok {
					for _, t := range v.Expr.Variables() {
						refs = append(refs, traversalString(t))
					}
				}
				outputs[b.Labels[0]] = refs
			case "data", "module":
				return nil, fmt.Errorf("%s: %s blocks are not supported by this test's evaluator", n, b.Type)
			}
		}
	}

	// Which attributes of which resources are referenced, to give the
	// placeholders those attributes.
	referenced := map[string]map[string]bool{} // "type.name" -> attrs
	var traversals []string
	for _, body := range all {
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			e, ok := n.(hclsyntax.Expression)
			if !ok {
				return nil
			}
			for _, t := range e.Variables() {
				traversals = append(traversals, traversalString(t))
				if len(t) < 3 {
					continue
				}
				root := t.RootName()
				if root == "var" || root == "local" || root == "each" {
					continue
				}
				name, ok1 := t[1].(hcl.TraverseAttr)
				if !ok1 {
					continue
				}
				for _, step := range t[2:] {
					if a, ok := step.(hcl.TraverseAttr); ok {
						key := root + "." + name.Name
						if referenced[key] == nil {
							referenced[key] = map[string]bool{}
						}
						referenced[key][a.Name] = true
						break
					}
				}
			}
			return nil
		})
	}

	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(variables)},
		Functions: functions(),
	}
	// Pass 1: resources unknown; evaluate locals as far as they go.
	for _, r := range resources {
		setResource(ctx, r, cty.DynamicVal)
	}
	locals, err := evalLocals(ctx, localExpr)
	if err != nil {
		return nil, err
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)

	// Pass 2: placeholders for every resource instance, then locals again
	// (some refer to resources) and the instances themselves.
	keys := map[string][]string{}
	for _, r := range resources {
		ks, err := instanceKeys(ctx, r)
		if err != nil {
			return nil, err
		}
		keys[r.typ+"."+r.name] = ks
		attrs := referenced[r.typ+"."+r.name]
		placeholder := func(key string) cty.Value {
			obj := map[string]cty.Value{}
			for a := range attrs {
				obj[a] = cty.DynamicVal
			}
			obj["id"] = cty.StringVal(instance{Type: r.typ, Name: r.name, Key: key}.Addr())
			return cty.ObjectVal(obj)
		}
		if _, ok := r.block.Body.Attributes["for_each"]; ok {
			m := map[string]cty.Value{}
			for _, k := range ks {
				m[k] = placeholder(k)
			}
			setResource(ctx, r, cty.ObjectVal(m))
		} else {
			setResource(ctx, r, placeholder(""))
		}
	}
	locals, err = evalLocals(ctx, localExpr)
	if err != nil {
		return nil, err
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)

	cfg := &config{Traversals: traversals, Locals: locals, Outputs: outputs}
	for _, r := range resources {
		_, forEach := r.block.Body.Attributes["for_each"]
		var each map[string]cty.Value
		if forEach {
			v, diags := r.block.Body.Attributes["for_each"].Expr.Value(ctx)
			if diags.HasErrors() {
				return nil, diags
			}
			each = map[string]cty.Value{}
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				if v.Type().IsSetType() {
					k = e
				}
				each[k.AsString()] = e
			}
		}
		for _, k := range keys[r.typ+"."+r.name] {
			ictx := ctx
			if forEach {
				ictx = ctx.NewChild()
				ictx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
					"key": cty.StringVal(k), "value": each[k],
				})}
			}
			b, err := evalBody(ictx, r.typ, r.block.Body)
			if err != nil {
				return nil, fmt.Errorf("%s.%s[%q]: %w", r.typ, r.name, k, err)
			}
			cfg.Instances = append(cfg.Instances, instance{Type: r.typ, Name: r.name, Key: k, Body: b})
		}
	}
	return cfg, nil
}

// setResource makes ctx resolve type.name to v.
func setResource(ctx *hcl.EvalContext, r resourceBlock, v cty.Value) {
	byName := map[string]cty.Value{}
	if old, ok := ctx.Variables[r.typ]; ok {
		byName = old.AsValueMap()
	}
	byName[r.name] = v
	ctx.Variables[r.typ] = cty.ObjectVal(byName)
}

// instanceKeys evaluates for_each (keys, sorted) or returns [""].
func instanceKeys(ctx *hcl.EvalContext, r resourceBlock) ([]string, error) {
	if _, ok := r.block.Body.Attributes["count"]; ok {
		// count is used only for optional resources here; an unset
		// optional variable means none.
		v, diags := r.block.Body.Attributes["count"].Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		if !v.IsKnown() {
			return nil, fmt.Errorf("%s.%s: count is unknown", r.typ, r.name)
		}
		n, _ := v.AsBigFloat().Int64()
		var ks []string
		for i := range n {
			ks = append(ks, fmt.Sprint(i))
		}
		return ks, nil
	}
	a, ok := r.block.Body.Attributes["for_each"]
	if !ok {
		return []string{""}, nil
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsWhollyKnown() {
		return nil, fmt.Errorf("%s.%s: for_each is not known before apply", r.typ, r.name)
	}
	var ks []string
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if v.Type().IsSetType() {
			k = e
		}
		ks = append(ks, k.AsString())
	}
	sort.Strings(ks)
	return ks, nil
}

// evalLocals evaluates locals in dependency order, by rounds.
func evalLocals(ctx *hcl.EvalContext, exprs map[string]hclsyntax.Expression) (map[string]cty.Value, error) {
	done := map[string]cty.Value{}
	for len(done) < len(exprs) {
		progress := false
		for name, e := range exprs {
			if _, ok := done[name]; ok {
				continue
			}
			ready := true
			for _, t := range e.Variables() {
				if t.RootName() != "local" || len(t) < 2 {
					continue
				}
				if a, ok := t[1].(hcl.TraverseAttr); ok {
					if _, ok := done[a.Name]; !ok {
						ready = false
					}
				}
			}
			if !ready {
				continue
			}
			lctx := ctx.NewChild()
			lctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(done)}
			v, diags := e.Value(lctx)
			if diags.HasErrors() {
				return nil, fmt.Errorf("local.%s: %w", name, diags)
			}
			done[name] = v
			progress = true
		}
		if !progress {
			return nil, fmt.Errorf("locals refer to each other in a cycle or to locals that do not exist")
		}
	}
	return done, nil
}

// evalBody evaluates a block body, expanding dynamic blocks.
func evalBody(ctx *hcl.EvalContext, typ string, body *hclsyntax.Body) (*block, error) {
	b := &block{Type: typ, Attrs: map[string]cty.Value{}}
	for name, a := range body.Attributes {
		if name == "for_each" || name == "depends_on" || name == "count" {
			continue
		}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		b.Attrs[name] = v
	}
	for _, nb := range body.Blocks {
		switch nb.Type {
		case "lifecycle", "timeouts":
			continue
		case "dynamic":
			expanded, err := evalDynamic(ctx, nb)
			if err != nil {
				return nil, err
			}
			b.Blocks = append(b.Blocks, expanded...)
		default:
			c, err := evalBody(ctx, nb.Type, nb.Body)
			if err != nil {
				return nil, err
			}
			b.Blocks = append(b.Blocks, c)
		}
	}
	return b, nil
}

func evalDynamic(ctx *hcl.EvalContext, d *hclsyntax.Block) ([]*block, error) {
	typ := d.Labels[0]
	iterator := typ
	if a, ok := d.Body.Attributes["iterator"]; ok {
		iterator = hcl.ExprAsKeyword(a.Expr)
	}
	fe, ok := d.Body.Attributes["for_each"]
	if !ok {
		return nil, fmt.Errorf("dynamic %q without for_each", typ)
	}
	v, diags := fe.Expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsKnown() || v.IsNull() {
		// Terraform needs the keys, not the values, before apply.
		return nil, fmt.Errorf("dynamic %q: for_each is not known before apply", typ)
	}
	var content *hclsyntax.Body
	for _, c := range d.Body.Blocks {
		if c.Type == "content" {
			content = c.Body
		}
	}
	if content == nil {
		return nil, fmt.Errorf("dynamic %q without content", typ)
	}
	var out []*block
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if v.Type().IsSetType() {
			k = e
		}
		c := ctx.NewChild()
		c.Variables = map[string]cty.Value{iterator: cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})}
		b, err := evalBody(c, typ, content)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func traversalString(t hcl.Traversal) string {
	var sb strings.Builder
	for i, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			sb.WriteString("[...]")
		default:
			if i > 0 {
				sb.WriteString(".?")
			}
		}
	}
	return sb.String()
}

// functions are the Terraform functions this configuration may use. Using
// another one makes the test fail with "call to unknown function", on
// purpose: add it here.
func functions() map[string]function.Function {
	conv := func(ty cty.Type) function.Function {
		return function.New(&function.Spec{
			Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowNull: true}},
			Type: func(args []cty.Value) (cty.Type, error) {
				v, err := convert.Convert(args[0], ty)
				if err != nil {
					return cty.NilType, err
				}
				return v.Type(), nil
			},
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return convert.Convert(args[0], ty)
			},
		})
	}
	return map[string]function.Function{
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"flatten":    stdlib.FlattenFunc,
		"format":     stdlib.FormatFunc,
		"keys":       stdlib.KeysFunc,
		"length":     stdlib.LengthFunc,
		"lower":      stdlib.LowerFunc,
		"join":       stdlib.JoinFunc,
		"max":        stdlib.MaxFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"merge":      stdlib.MergeFunc,
		"values":     stdlib.ValuesFunc,
		"tostring":   conv(cty.String),
		"tonumber":   conv(cty.Number),
		"toset":      conv(cty.Set(cty.DynamicPseudoType)),
		"tolist":     conv(cty.List(cty.DynamicPseudoType)),
	}
}
