package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	"sigs.k8s.io/yaml"
)

// The test files of Argo CD's resource_customizations tree.
type healthTests struct {
	Tests []struct {
		InputPath    string  `json:"inputPath"`
		HealthStatus *Health `json:"healthStatus"`
	} `json:"tests"`
}

type actionTests struct {
	DiscoveryTests []struct {
		InputPath string   `json:"inputPath"`
		Result    []Action `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action             string `json:"action"`
		InputPath          string `json:"inputPath"`
		ExpectedOutputPath string `json:"expectedOutputPath"`
	} `json:"actionTests"`
}

// Result is one test's outcome, printed as a JSON line.
type Result struct {
	Test  string `json:"test"`
	OK    bool   `json:"ok"`
	Want  any    `json:"want,omitempty"`
	Got   any    `json:"got,omitempty"`
	Error string `json:"error,omitempty"`
}

// runTests runs every health_test.yaml (beside a health.lua) and actions/action_test.yaml under
// root, as Argo CD's TestLuaHealthScript and TestLuaResourceActionsScript do, and reports whether
// all passed. Discovery must offer exactly the listed actions (Argo CD checks only a subset).
func runTests(vm *VM, root string, out io.Writer) bool {
	ok := true
	report := func(r Result) {
		ok = ok && r.OK
		if r.OK {
			r.Want, r.Got = nil, nil
		}
		line, _ := json.Marshal(r)
		fmt.Fprintln(out, string(line))
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		var results []Result
		switch d.Name() {
		case "health.lua":
			results, err = healthDir(vm, dir)
		case "action_test.yaml":
			results, err = actionDir(vm, dir)
		}
		if err != nil { // the directory's own files: its cases did not run
			results = []Result{{Test: dir, Error: err.Error()}}
		}
		for _, r := range results {
			report(r)
		}
		return nil
	})
	if err != nil {
		report(Result{Test: root, Error: err.Error()})
	}
	return ok
}

// healthDir runs a directory's health_test.yaml: one result per case (none count if err is set).
func healthDir(vm *VM, dir string) ([]Result, error) {
	var spec healthTests
	script, err := readTestFiles(dir, "health_test.yaml", &spec, "health.lua")
	results := []Result{}
	for _, t := range spec.Tests {
		results = append(results, compare(dir, "health", t.InputPath, t.HealthStatus, func(obj object) (*Health, error) {
			return vm.Health(obj, script)
		}))
	}
	return results, err
}

// actionDir runs a directory's action_test.yaml: its discovery cases, then each action's.
func actionDir(vm *VM, dir string) ([]Result, error) {
	var spec actionTests
	discovery, err := readTestFiles(dir, "action_test.yaml", &spec, "discovery.lua")
	results := []Result{}
	for _, t := range spec.DiscoveryTests {
		results = append(results, compare(dir, "discovery", t.InputPath, byName(t.Result), func(obj object) ([]Action, error) {
			got, err := vm.Discovery(obj, discovery)
			return byName(got), err
		}))
	}
	for _, t := range spec.ActionTests {
		results = append(results, actionTest(vm, dir, t.Action, t.InputPath, t.ExpectedOutputPath))
	}
	return results, err
}

// compare runs a script on the object at input and compares what it returns with want.
func compare[T any](dir, what, input string, want T, run func(object) (T, error)) Result {
	r := Result{Test: dir + ": " + what + " of " + input, Want: want}
	obj, err := readObject(filepath.Join(dir, input))
	if err == nil {
		var got T
		got, err = run(obj)
		r.Got, r.OK = got, err == nil && reflect.DeepEqual(got, want)
	}
	return withError(r, err)
}

func actionTest(vm *VM, dir, action, input, expected string) Result {
	r := Result{Test: dir + ": " + action + " of " + input}
	script, err := os.ReadFile(filepath.Join(dir, action, "action.lua"))
	if err != nil {
		return withError(r, err)
	}
	obj, err := readObject(filepath.Join(dir, input))
	if err != nil {
		return withError(r, err)
	}
	want, err := readObject(filepath.Join(dir, expected))
	if err != nil {
		return withError(r, err)
	}
	impacted, err := vm.Action(obj, string(script))
	if err != nil {
		return withError(r, err)
	}
	if len(impacted) != 1 {
		return withError(r, fmt.Errorf("the action changed %d objects, not one", len(impacted)))
	}
	// Through JSON, as Argo CD's diff compares them: 1 and 1.0 are the same number.
	got := normalize(impacted[0].Resource)
	r.Want, r.Got, r.OK = normalize(want), got, reflect.DeepEqual(normalize(want), got)
	return r
}

func readTestFiles(dir, testFile string, spec any, scriptFile string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, testFile))
	if err != nil {
		return "", err
	}
	if err := yaml.UnmarshalStrict(raw, spec); err != nil {
		return "", fmt.Errorf("%s: %w", testFile, err)
	}
	script, err := os.ReadFile(filepath.Join(dir, scriptFile))
	return string(script), err
}

func readObject(path string) (object, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseObject(raw)
}

func byName(actions []Action) []Action {
	sorted := append([]Action{}, actions...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	return sorted
}

func normalize(obj object) any {
	raw, _ := json.Marshal(obj)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

func withError(r Result, err error) Result {
	if err != nil {
		r.OK, r.Error = false, err.Error()
	}
	return r
}
