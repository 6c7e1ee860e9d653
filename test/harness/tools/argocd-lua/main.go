// argocd-lua runs Argo CD resource customizations (health.lua, actions/discovery.lua,
// actions/<name>/action.lua) on gopher-lua the way Argo CD does (util/lua in argoproj/argo-cd):
// the object is the global `obj`, `actionParams` is a table, the script's last value is its
// answer, encoded with layeh.com/gopher-json; a script gets 1 s. Scripts installed through
// argocd-cm run without Lua's standard libraries (only package, base, table and a safe os with
// time and date), so that is how they run here too, stricter than Argo CD's own test runner.
//
//	argocd-lua [-now RFC3339] test DIR          every health_test.yaml and action_test.yaml under DIR
//	argocd-lua [-now RFC3339] health SCRIPT     the health of the object on stdin (JSON or YAML)
//	argocd-lua [-now RFC3339] discovery SCRIPT  the actions SCRIPT offers for the object on stdin
//	argocd-lua [-now RFC3339] action SCRIPT     what Argo CD would do: a JSON merge patch of the object
//
// -now fixes the clock of os.time/os.date; `test` uses 0001-01-01T00:00:00Z, the value Argo CD's
// own action tests normalise timestamps to.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	jsonpatch "github.com/evanphx/json-patch"
	"sigs.k8s.io/yaml"
)

type object = map[string]any

func main() {
	now := flag.String("now", "", "RFC 3339 time for os.time and os.date (default: the wall clock)")
	flag.Parse()
	if flag.NArg() != 2 {
		fail(errors.New("usage: argocd-lua [-now RFC3339] test DIR | health|discovery|action SCRIPT < object"))
	}
	cmd, arg := flag.Arg(0), flag.Arg(1)
	clock := time.Now
	if *now != "" || cmd == "test" {
		at := "0001-01-01T00:00:00Z"
		if *now != "" {
			at = *now
		}
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			fail(err)
		}
		clock = func() time.Time { return t }
	}
	vm := &VM{now: clock}
	if cmd == "test" {
		if !runTests(vm, arg, os.Stdout) {
			os.Exit(1)
		}
		return
	}
	script, err := os.ReadFile(arg)
	if err != nil {
		fail(err)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	obj, err := parseObject(input)
	if err != nil {
		fail(err)
	}
	out, err := runCommand(vm, cmd, string(script), obj)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func runCommand(vm *VM, cmd, script string, obj object) ([]byte, error) {
	switch cmd {
	case "health":
		h, err := vm.Health(obj, script)
		if err != nil {
			return nil, err
		}
		return json.Marshal(h)
	case "discovery":
		actions, err := vm.Discovery(obj, script)
		if err != nil {
			return nil, err
		}
		return json.Marshal(actions)
	case "action":
		return actionPatches(vm, obj, script)
	}
	return nil, fmt.Errorf("unknown command %q", cmd)
}

// Argo CD's server turns a patch operation into a JSON merge patch between the live object and
// the script's answer (and sends nothing when it is empty); create operations are created as given.
func actionPatches(vm *VM, obj object, script string) ([]byte, error) {
	impacted, err := vm.Action(obj, script)
	if err != nil {
		return nil, err
	}
	live, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, r := range impacted {
		changed, err := json.Marshal(r.Resource)
		if err != nil {
			return nil, err
		}
		if r.Operation == "create" {
			out = append(out, object{"operation": "create", "resource": r.Resource})
			continue
		}
		patch, err := jsonpatch.CreateMergePatch(live, changed)
		if err != nil {
			return nil, err
		}
		out = append(out, object{"operation": "patch", "patch": json.RawMessage(patch)})
	}
	return json.Marshal(out)
}

// parseObject reads YAML or JSON as Argo CD's tests do (sigs.k8s.io/yaml: numbers become float64).
func parseObject(data []byte) (object, error) {
	obj := object{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "argocd-lua:", err)
	os.Exit(2)
}
