package pipeline

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigLine returns the line of key ("output.width", "outputs[1].name")
// in the YAML configuration file at path, 0 if it is not there.
func ConfigLine(path, key string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n := doc.Content[0]
	line := 0
	for _, part := range strings.Split(key, ".") {
		name, index := part, -1
		if i := strings.IndexByte(part, '['); i > 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			index, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		k, v := lookup(n, name)
		if k == nil {
			return line // the nearest key given: the whole section comes from defaults
		}
		line, n = k.Line, v
		if index >= 0 {
			if v.Kind != yaml.SequenceNode || index >= len(v.Content) {
				return line
			}
			n = v.Content[index]
			line = n.Line
		}
	}
	return line
}

// lookup finds key in a mapping node, looking into inline merges too.
func lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// unknownField matches yaml's message for a key no struct field takes.
var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// explainYAML turns yaml's "line 3: field qualty not found in type
// stages.Output" into "line 3: unknown key output.qualty; did you mean
// quality?". Other errors are returned as they are.
func explainYAML(data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = e
		m := unknownField.FindStringSubmatch(e)
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[1])
		path, ok := keyPath(doc.Content[0], line, m[2], nil)
		if !ok {
			continue
		}
		msgs[i] = fmt.Sprintf("line %d: unknown key %s", line, strings.Join(path, "."))
		if t := typeAt(reflect.TypeFor[Config](), path[:len(path)-1]); t != nil {
			if best := closest(m[2], yamlKeys(t)); best != "" {
				msgs[i] += "; did you mean " + best + "?"
			}
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

// keyPath finds the key named name on line in n and returns its path of
// keys ("outputs[1]" for a sequence's entries).
func keyPath(n *yaml.Node, line int, name string, path []string) ([]string, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(append([]string(nil), path...), k.Value)
			if k.Line == line && k.Value == name {
				return p, true
			}
			if r, ok := keyPath(v, line, name, p); ok {
				return r, true
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := append([]string(nil), path...)
			if len(p) > 0 {
				p[len(p)-1] += "[" + strconv.Itoa(i) + "]"
			}
			if r, ok := keyPath(v, line, name, p); ok {
				return r, true
			}
		}
	}
	return nil, false
}

// typeAt follows path (yaml keys, "outputs[1]" for an entry) from the
// struct type t to the struct type it names; nil if it does not.
func typeAt(t reflect.Type, path []string) reflect.Type {
	for _, key := range path {
		key, _, _ = strings.Cut(key, "[")
		f, ok := fieldByKey(t, key)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			if g, ok := fieldByKey(f.Type, key); ok {
				return g, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys lists the keys a struct type takes, inline structs included.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case opts == "inline":
			keys = append(keys, yamlKeys(f.Type)...)
		case name != "" && name != "-" && f.IsExported():
			keys = append(keys, name)
		}
	}
	return keys
}

// closest returns the key nearest to s by edit distance, if it is near
// enough to be a typo (at most a third of its letters, and at least 1).
func closest(s string, keys []string) string {
	best, bestD := "", max(1, len(s)/3)+1
	for _, k := range keys {
		if d := editDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b, with a swap of
// two neighbours counted as one edit (qaulity).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
