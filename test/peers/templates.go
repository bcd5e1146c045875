package peers

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path"
	"text/template"
)

// testdata holds the peer configuration templates and sipp scenarios. It is
// embedded so tests in other packages get them without knowing this
// package's directory.
//
//go:embed testdata
var testdata embed.FS

// render executes testdata/name with data and writes the result to dest.
func render(name, dest string, data any) error {
	src, err := testdata.ReadFile(path.Join("testdata", name))
	if err != nil {
		return err
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return fmt.Errorf("parse template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("render template %s: %w", name, err)
	}
	return os.WriteFile(dest, buf.Bytes(), 0o644)
}
