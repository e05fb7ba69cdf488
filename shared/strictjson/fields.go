package strictjson

import (
	"reflect"
	"strings"
	"sync"
)

// field is a JSON member a struct type decodes.
type field struct {
	name   string
	typ    reflect.Type
	tagged bool // the name comes from a json tag
	depth  int  // how deeply embedded (0: the struct's own field)
	quoted bool // `json:",string"`
}

// fields are the members of a struct type, by exact name.
type fields struct {
	exact map[string]field
}

// fold returns the field name that name matches only up to case, or ""
// (the least such name when there are several).
func (fs fields) fold(name string) string {
	best := ""
	for n := range fs.exact {
		if strings.EqualFold(n, name) && (best == "" || n < best) {
			best = n
		}
	}
	return best
}

var fieldCache sync.Map // reflect.Type → fields

// fieldsOf returns the members of struct type t by encoding/json's rules:
// exported fields under their tag name or Go name, "-" skipped, the fields
// of embedded structs without a tag name promoted, and among fields of the
// same name the least embedded wins, a tagged one before an untagged one at
// the same depth; names still ambiguous belong to no field.
func fieldsOf(t reflect.Type) fields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(fields)
	}
	var all []field
	collect(t, 0, map[reflect.Type]bool{}, &all)
	byName := map[string][]field{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	fs := fields{exact: map[string]field{}}
	for name, cands := range byName {
		if f, ok := dominant(cands); ok {
			fs.exact[name] = f
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

func collect(t reflect.Type, depth int, onPath map[reflect.Type]bool, out *[]field) {
	if onPath[t] {
		return
	}
	onPath[t] = true
	defer delete(onPath, t)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		ft := sf.Type
		if ft.Name() == "" && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous {
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
			collect(ft, depth+1, onPath, out)
			continue
		}
		f := field{name: name, typ: sf.Type, tagged: name != "", depth: depth, quoted: hasOption(opts, "string")}
		if f.name == "" {
			f.name = sf.Name
		}
		*out = append(*out, f)
	}
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// dominant picks the field a name belongs to among candidates of that name.
func dominant(cands []field) (field, bool) {
	min := cands[0].depth
	for _, f := range cands[1:] {
		if f.depth < min {
			min = f.depth
		}
	}
	var top []field
	for _, f := range cands {
		if f.depth == min {
			top = append(top, f)
		}
	}
	if len(top) == 1 {
		return top[0], true
	}
	var tagged []field
	for _, f := range top {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return field{}, false
}
