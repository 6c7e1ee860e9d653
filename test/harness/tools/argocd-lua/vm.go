package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

// VM runs one script per call in a fresh Lua state, as Argo CD does.
type VM struct {
	now func() time.Time
}

// Health is gitops-engine's HealthStatus.
type Health struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Action is Argo CD's ResourceAction (what a discovery script offers).
type Action struct {
	Name        string `json:"name,omitempty"`
	Params      []any  `json:"params,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
	IconClass   string `json:"iconClass,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Impacted is what an action does to one object: "patch" it to Resource, or "create" Resource.
type Impacted struct {
	Resource  object `json:"resource"`
	Operation string `json:"operation"`
}

var healthCodes = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

// run executes script with obj as the global `obj` and returns the script's last value, a table, as
// JSON; nil for no value where nilOK (a health script may return nothing).
func (vm *VM) run(obj object, script string, nilOK bool) ([]byte, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
		lua.OsLibName:   vm.openSafeOs,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return nil, err
		}
	}
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), vm.osFuncs()))
		return 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.NewTable())
	l.SetGlobal("obj", toLua(l, obj))
	fn, err := l.LoadString(script)
	if err != nil {
		return nil, err
	}
	l.Push(fn)
	if err := l.PCall(0, lua.MultRet, nil); err != nil {
		return nil, err
	}
	switch value := l.Get(-1); {
	case value.Type() == lua.LTTable:
		return luajson.Encode(value)
	case value.Type() == lua.LTNil && nilOK:
		return nil, nil
	default:
		return nil, fmt.Errorf("expect table output from Lua script, not %s", value.Type())
	}
}

// Health runs a health.lua: nil when the script returns nothing (Argo CD then has no health for it).
func (vm *VM) Health(obj object, script string) (*Health, error) {
	encoded, err := vm.run(obj, script, true)
	if err != nil || encoded == nil {
		return nil, err
	}
	h := &Health{}
	if err := json.Unmarshal(encoded, h); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Value == "array" { // an empty table
			return &Health{}, nil
		}
		return nil, err
	}
	if !healthCodes[h.Status] {
		return &Health{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return h, nil
}

// Discovery runs a discovery.lua: a table of action name → {disabled, iconClass, displayName}.
func (vm *VM) Discovery(obj object, script string) ([]Action, error) {
	encoded, err := vm.run(obj, script, false)
	if err != nil {
		return nil, err
	}
	actions := []Action{}
	if string(encoded) == "[]" {
		return actions, nil
	}
	offered := map[string]any{}
	if err := json.Unmarshal(encoded, &offered); err != nil {
		return nil, err
	}
	for name, value := range offered {
		action := Action{Name: name}
		if fields, ok := value.(map[string]any); ok {
			raw, _ := json.Marshal(fields)
			if err := json.Unmarshal(raw, &action); err != nil {
				return nil, err
			}
			disabled, _ := fields["disabled"].(bool)
			action.Disabled = disabled
		}
		actions = append(actions, action)
	}
	return actions, nil
}

// Action runs an action.lua. The old style returns the changed object (a patch); the new style a
// list of {resource, operation}.
func (vm *VM) Action(obj object, script string) ([]Impacted, error) {
	encoded, err := vm.run(obj, script, false)
	if err != nil {
		return nil, err
	}
	if len(encoded) < 2 {
		return nil, errors.New("Lua output was not a valid json object or array")
	}
	var impacted []Impacted
	if encoded[0] == '[' {
		if err := json.Unmarshal(encoded, &impacted); err != nil {
			return nil, err
		}
	} else {
		changed := object{}
		if err := json.Unmarshal(encoded, &changed); err != nil {
			return nil, err
		}
		impacted = []Impacted{{Resource: changed, Operation: "patch"}}
	}
	for i, r := range impacted {
		switch r.Operation {
		case "patch":
			impacted[i].Resource = restoreEmptyMaps(r.Resource, obj)
		case "create":
		default:
			return nil, fmt.Errorf("unsupported operation: %q", r.Operation)
		}
	}
	return impacted, nil
}

// restoreEmptyMaps undoes what the Lua round trip does to empty objects: an empty table encodes as
// [], so where the original had a map and the answer has an empty list, the map comes back.
func restoreEmptyMaps(changed, original object) object {
	for key, was := range original {
		switch now := changed[key].(type) {
		case map[string]any:
			if wasMap, ok := was.(map[string]any); ok {
				changed[key] = restoreEmptyMaps(now, wasMap)
			}
		case []any:
			if _, ok := was.(map[string]any); ok && len(now) == 0 {
				changed[key] = map[string]any{}
			} else if wasList, ok := was.([]any); ok {
				changed[key] = restoreEmptyInList(now, wasList)
			}
		}
	}
	return changed
}

func restoreEmptyInList(changed, original []any) []any {
	for i := 0; i < len(changed) && i < len(original); i++ {
		switch now := changed[i].(type) {
		case map[string]any:
			if was, ok := original[i].(map[string]any); ok {
				changed[i] = restoreEmptyMaps(now, was)
			}
		case []any:
			if was, ok := original[i].([]any); ok {
				changed[i] = restoreEmptyInList(now, was)
			}
		}
	}
	return changed
}

// toLua converts a decoded object as Argo CD does: maps and lists become tables, json.Number a
// string, anything unknown nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// The os library Argo CD gives scripts: time() and date(format) only, on vm.now's clock.
func (vm *VM) openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.OsLibName, vm.osFuncs()))
	return 1
}

func (vm *VM) osFuncs() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"time": func(l *lua.LState) int {
			if l.GetTop() > 0 {
				l.RaiseError("os.time with a table is not supported here")
			}
			l.Push(lua.LNumber(vm.now().Unix()))
			return 1
		},
		"date": func(l *lua.LState) int {
			format := l.OptString(1, "%c")
			t := vm.now().Local()
			if strings.HasPrefix(format, "!") {
				t, format = t.UTC(), format[1:]
			}
			if l.GetTop() >= 2 {
				t = time.Unix(l.CheckInt64(2), 0)
			}
			l.Push(lua.LString(strftime(t, format)))
			return 1
		},
	}
}

var strftimeLayouts = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04", 'S': "05",
	'p': "PM", 'F': "2006-01-02", 'X': "15:04:05", 'z': "-0700", 'Z': "MST", 'b': "Jan", 'a': "Mon",
	'c': "02 Jan 06 15:04 MST",
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		if layout, ok := strftimeLayouts[format[i]]; ok {
			b.WriteString(t.Format(layout))
		} else if format[i] == '%' {
			b.WriteByte('%')
		} else {
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
