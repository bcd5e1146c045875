package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// loadFile applies the config file at path. A missing file is an error
// only when it was named explicitly (by from, or by LoadOptions.Path).
func (l *loader) loadFile(path string, from Source, explicit bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return
		}
		reason := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			reason = pe.Err
		}
		l.errs = append(l.errs, &Error{Source: from, Err: err,
			msg: fmt.Sprintf("cannot read config file %s: %v", path, reason)})
		return
	}
	l.cfg.Path = path

	var doc map[string]any
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		src, msg := Source{File: path}, err.Error()
		var de *toml.DecodeError
		if errors.As(err, &de) {
			src.Line, _ = de.Position()
			msg = strings.TrimPrefix(de.Error(), "toml: ")
		}
		l.errs = append(l.errs, &Error{Source: src, Err: ErrSyntax, msg: "invalid TOML: " + msg})
		return
	}

	lines := keyLines(data)
	at := func(key string) Source { return Source{File: path, Line: lines[key]} }
	for _, top := range sortedKeys(doc) {
		v := doc[top]
		table, isTable := v.(map[string]any)
		switch {
		case top == keysSection && !isTable:
			l.errs = append(l.errs, valueError(at(top), top, ErrType,
				fmt.Sprintf("expected a table ([keys] followed by lines such as answer = \"f2\"), got %s", describe(v))))
		case top == keysSection:
			l.loadKeys(table, at)
		case isSection(top) && !isTable:
			l.errs = append(l.errs, valueError(at(top), top, ErrType,
				fmt.Sprintf("expected a table ([%s] followed by its keys), got %s", top, describe(v))))
		case !isSection(top) && isTable:
			l.errs = append(l.errs, &Error{Source: at(top), Key: top, Err: ErrUnknownKey,
				msg: fmt.Sprintf("unknown section %q%s", top, didYouMean(suggest(top, sectionNames()), strconv.Quote))})
		case !isSection(top):
			l.unknownFileKey(at(top), top)
		default:
			for _, name := range sortedKeys(table) {
				key := top + "." + name
				f := lookupKey(key)
				if f == nil {
					l.unknownFileKey(at(key), key)
					continue
				}
				if msg := f.setTOML(&l.cfg, table[name]); msg != "" {
					l.errs = append(l.errs, valueError(at(key), key, ErrType, msg))
					continue
				}
				l.src[key] = at(key)
			}
		}
	}

	for _, pw := range []struct {
		key string
		v   Secret
	}{{"sip.password", l.cfg.SIP.Password}, {"crm.password", l.cfg.CRM.Password}} {
		if pw.v == "" || l.src[pw.key].File != path {
			continue
		}
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&^0o600 != 0 {
			l.warnings = append(l.warnings, fmt.Sprintf(
				"%s: holds %s but has mode %04o; run chmod 600 %s, or move the password to %s",
				path, pw.key, info.Mode().Perm(), path, envName(pw.key)))
		}
	}
}

// loadKeys reads the [keys] section: action = key(s), and [keys.CONTEXT]
// tables of the same. Actions for every context come first, so a
// context's own line wins over them whatever the order in the file.
func (l *loader) loadKeys(table map[string]any, at func(string) Source) {
	var general, perContext []KeyOverride
	for _, name := range sortedKeys(table) {
		key := keysSection + "." + name
		if ctx, ok := table[name].(map[string]any); ok {
			for _, action := range sortedKeys(ctx) {
				ckey := key + "." + action
				keys, msg := keyList(ctx[action])
				if msg != "" {
					l.errs = append(l.errs, valueError(at(ckey), ckey, ErrType, msg))
					continue
				}
				perContext = append(perContext, KeyOverride{Action: action, Context: name, Keys: keys, Source: at(ckey).String()})
			}
			continue
		}
		keys, msg := keyList(table[name])
		if msg != "" {
			l.errs = append(l.errs, valueError(at(key), key, ErrType, msg))
			continue
		}
		general = append(general, KeyOverride{Action: name, Keys: keys, Source: at(key).String()})
	}
	l.cfg.Keys = append(append(l.cfg.Keys, general...), perContext...)
}

func (l *loader) unknownFileKey(src Source, key string) {
	l.errs = append(l.errs, &Error{Source: src, Key: key, Err: ErrUnknownKey,
		msg: fmt.Sprintf("unknown key %q%s", key, didYouMean(suggest(key, keyNames()), strconv.Quote))})
}

// didYouMean renders a suggestion, if any, as " (did you mean X?)".
func didYouMean(s string, render func(string) string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + render(s) + "?)"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keyLines maps every key of a valid TOML document, and every table, to the
// line where it first appears: "sip" to the line of [sip], "sip.expires" to
// the line of "expires = ...". It understands table headers, dotted keys and
// inline tables. See the package documentation for why it exists.
func keyLines(data []byte) map[string]int {
	lines := make(map[string]int)
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = recordKey(&p, lines, nil, e.Key())
		case unstable.KeyValue:
			recordKeyValue(&p, lines, table, e)
		}
	}
	return lines
}

// recordKeyValue records the key of a key/value node under prefix, and the
// keys of an inline table value.
func recordKeyValue(p *unstable.Parser, lines map[string]int, prefix []string, kv *unstable.Node) {
	key := recordKey(p, lines, prefix, kv.Key())
	if v := kv.Value(); v.Kind == unstable.InlineTable {
		for it := v.Children(); it.Next(); {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				recordKeyValue(p, lines, key, n)
			}
		}
	}
}

// recordKey records prefix + each part of a dotted key, and returns the
// full key.
func recordKey(p *unstable.Parser, lines map[string]int, prefix []string, it unstable.Iterator) []string {
	key := append([]string(nil), prefix...)
	for it.Next() {
		n := it.Node()
		key = append(key, string(n.Data))
		name := strings.Join(key, ".")
		if _, seen := lines[name]; !seen {
			lines[name] = p.Shape(n.Raw).Start.Line
		}
	}
	return key
}
