package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// Synth synthesizes app into its output directory. A failure (a cdk-nag
// finding without a suppression fails the construct-annotations validation)
// comes back as an error listing each violation and where it is, instead of
// the jsii runtime's panic.
func Synth(app awscdk.App) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
			if v := validationViolations(*app.Outdir()); v != "" {
				err = fmt.Errorf("%w\n%s", err, v)
			}
		}
	}()
	app.Synth(nil)
	return nil
}

// validationViolations summarizes the validation report in outdir, one
// line per violating construct.
func validationViolations(outdir string) string {
	b, err := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
	if err != nil {
		return ""
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				Description         string `json:"description"`
				ViolatingConstructs []struct {
					ConstructPath string `json:"constructPath"`
				} `json:"violatingConstructs"`
			} `json:"violations"`
		} `json:"pluginReports"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		return ""
	}
	var lines []string
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			what, _, _ := strings.Cut(strings.TrimSpace(v.Description), "\n")
			for _, c := range v.ViolatingConstructs {
				lines = append(lines, "  "+c.ConstructPath+": "+what)
			}
		}
	}
	return strings.Join(lines, "\n")
}
