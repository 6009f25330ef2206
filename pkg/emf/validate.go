package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Units are the units the specification allows (MetricDatum's
// StandardUnit).
var units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Validate checks one line against the specification's required
// structure: a JSON object with an _aws object holding an integer
// Timestamp and a CloudWatchMetrics array of directives, each with a
// Namespace (1 to 255 characters), at least one dimension set of at most 9
// keys whose members are strings, and at most 100 metric definitions whose
// Name members are a number or 1 to 100 numbers, with a valid Unit; no
// object the specification defines holds other members.
func Validate(line []byte) error {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return fmt.Errorf("emf: not a JSON object: %w", err)
	}
	raw, ok := root["_aws"]
	if !ok {
		return errors.New("emf: no _aws member")
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("emf: _aws is not an object: %w", err)
	}
	if err := only(meta, "_aws", []string{"Timestamp", "CloudWatchMetrics"}, nil); err != nil {
		return fmt.Errorf("emf: %w", err)
	}
	ts, ok := number(meta["Timestamp"])
	if _, err := ts.Int64(); !ok || err != nil {
		return fmt.Errorf("emf: _aws.Timestamp %s is not an integer", meta["Timestamp"])
	}
	var dirs []map[string]json.RawMessage
	if err := json.Unmarshal(meta["CloudWatchMetrics"], &dirs); err != nil || meta["CloudWatchMetrics"] == nil {
		return fmt.Errorf("emf: _aws.CloudWatchMetrics is not an array of objects (%v)", err)
	}
	for i, dir := range dirs {
		if err := directive(root, dir); err != nil {
			return fmt.Errorf("emf: CloudWatchMetrics[%d]: %w", i, err)
		}
	}
	return nil
}

func directive(root, dir map[string]json.RawMessage) error {
	if err := only(dir, "directive", []string{"Namespace", "Dimensions", "Metrics"}, nil); err != nil {
		return err
	}
	var ns string
	if err := json.Unmarshal(dir["Namespace"], &ns); err != nil || len(ns) < 1 || len(ns) > 255 {
		return fmt.Errorf("the Namespace %s is not a string of 1 to 255 characters", dir["Namespace"])
	}
	var dims [][]string
	if err := json.Unmarshal(dir["Dimensions"], &dims); err != nil || len(dims) == 0 {
		return fmt.Errorf("the Dimensions %s are not a non-empty array of string arrays", dir["Dimensions"])
	}
	for _, set := range dims {
		if len(set) > 9 {
			return fmt.Errorf("dimension set %v has more than 9 keys", set)
		}
		for _, k := range set {
			var v string
			if err := json.Unmarshal(root[k], &v); err != nil {
				return fmt.Errorf("dimension %s: the root member %s is not a string", k, root[k])
			}
		}
	}
	var defs []map[string]json.RawMessage
	if err := json.Unmarshal(dir["Metrics"], &defs); err != nil || dir["Metrics"] == nil {
		return fmt.Errorf("the Metrics %s are not an array of objects", dir["Metrics"])
	}
	if len(defs) > MaxMetrics {
		return fmt.Errorf("%d metric definitions, more than %d", len(defs), MaxMetrics)
	}
	for _, def := range defs {
		if err := definition(root, def); err != nil {
			return err
		}
	}
	return nil
}

func definition(root, def map[string]json.RawMessage) error {
	if err := only(def, "metric definition", []string{"Name"}, []string{"Unit"}); err != nil {
		return err
	}
	var name string
	if err := json.Unmarshal(def["Name"], &name); err != nil || len(name) < 1 || len(name) > 255 {
		return fmt.Errorf("metric Name %s is not a string of 1 to 255 characters", def["Name"])
	}
	if u, ok := def["Unit"]; ok {
		var unit string
		if err := json.Unmarshal(u, &unit); err != nil || !slices.Contains(units, unit) {
			return fmt.Errorf("metric %s: Unit %s is not a CloudWatch unit", name, u)
		}
	}
	v, ok := root[name]
	if !ok {
		return fmt.Errorf("metric %s: no root member", name)
	}
	if _, ok := number(v); ok {
		return nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(v, &arr); err != nil || len(arr) == 0 || len(arr) > MaxValues {
		return fmt.Errorf("metric %s: %s is neither a number nor an array of 1 to %d numbers", name, v, MaxValues)
	}
	for _, e := range arr {
		if _, ok := number(e); !ok {
			return fmt.Errorf("metric %s: %s is not a number", name, e)
		}
	}
	return nil
}

// only checks that obj has the required members, and no others than
// those and the optional ones.
func only(obj map[string]json.RawMessage, what string, required, optional []string) error {
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return fmt.Errorf("%s has a member %q the specification does not define", what, k)
		}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			return fmt.Errorf("%s has no %s", what, k)
		}
	}
	return nil
}

// number decodes a JSON number, and nothing else.
func number(raw json.RawMessage) (json.Number, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", false
	}
	n, ok := v.(json.Number)
	return n, ok
}
