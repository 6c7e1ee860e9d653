// kstatus prints what sigs.k8s.io/cli-utils/pkg/kstatus/status (the library behind Flux's
// `wait: true` and health checks, and cli-utils' `kubectl apply --wait`-style tools) computes for
// each object it reads on stdin: one object or a v1 List, in JSON or YAML (`kubectl get -o json`).
// One JSON line per object: {"name", "status", "message"}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(input, &obj); err != nil {
		fail(err)
	}
	items := []any{obj}
	if obj["kind"] == "List" {
		items, _ = obj["items"].([]any)
	}
	for _, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			fail(fmt.Errorf("not an object: %v", item))
		}
		// Numbers as the API machinery decodes them (int64), not float64.
		u := &unstructured.Unstructured{}
		raw, _ := json.Marshal(m)
		if err := u.UnmarshalJSON(raw); err != nil {
			fail(err)
		}
		res, err := status.Compute(u)
		if err != nil {
			fail(err)
		}
		line, _ := json.Marshal(map[string]string{
			"name": u.GetName(), "status": res.Status.String(), "message": res.Message,
		})
		fmt.Println(string(line))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(2)
}
