package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/vega-host/vega-host/host/config"
)

// defaultPluginsDir is the folder that generate creates listener packages
// in, the one scripts/build-plugins.sh builds from.
const defaultPluginsDir = "plugins"

//go:embed templates/*.tmpl
var templateFiles embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{"hclString": hclString}).ParseFS(templateFiles, "templates/*.tmpl"))

// goFiles maps each generated Go file to its template.
var goFiles = []struct {
	name     string
	template string
}{
	{"main.go", "main.go.tmpl"},
	{"listener.go", "listener.go.tmpl"},
	{"listener_test.go", "listener_test.go.tmpl"},
}

// generateRequest is a parsed "generate listener" command line.
type generateRequest struct {
	name              listenerName
	queue             string
	workers           int
	autoAck           bool
	visibilityTimeout time.Duration
	retryOnError      bool
	maxRetries        int
	// dir is the folder, relative to the working directory or absolute,
	// in which the listener's package folder is created.
	dir string
	// configPath is the config file to append the block to; empty prints
	// the block to stdout.
	configPath string
}

// templateData holds the values that the templates render.
type templateData struct {
	Name              string
	TypeName          string
	Queue             string
	Workers           int
	AutoAck           bool
	VisibilityTimeout int64
	RetryOnError      bool
	MaxRetries        int
	// PackageDir is the package folder relative to the module root, with
	// forward slashes.
	PackageDir string
	// BuildScript reports whether scripts/build-plugins.sh builds the
	// package, which it does for folders under plugins/.
	BuildScript bool
}

const generateSynopsis = `generate listener [flags] NAME

Creates the package of a new listener in DIR/NAME: main.go, which calls
pluginapi.Serve, listener.go, with Handle and the optional hooks, and
listener_test.go, a test that uses testing/listenertest. Then prints the
listener block for listeners.hcl, or appends it to the -config file.

NAME may be CamelCase (SendEmail), kebab-case (send-email) or snake_case
(send_email). The folder, binary and listener are named in kebab-case and
the Go type in CamelCase. The module is the one whose go.mod is in the
current folder or above it. Existing files and listener names are never
overwritten.`

// generateCommand runs "vega-host generate listener".
func generateCommand(args []string, stdout, stderr io.Writer) error {
	workDir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("get the current folder: %w", err)
	}
	return runGenerate(args, workDir, stdout, stderr)
}

// runGenerate runs "generate" with args as if workDir were the current
// folder.
func runGenerate(args []string, workDir string, stdout, stderr io.Writer) error {
	request, err := parseGenerateArgs(args, stderr)
	if err != nil {
		return err
	}
	return generateListener(request, workDir, stdout, stderr)
}

// parseGenerateArgs parses the kind, the flags and NAME. Flags may come
// before or after NAME.
func parseGenerateArgs(args []string, stderr io.Writer) (generateRequest, error) {
	flags := newFlagSet("generate", generateSynopsis, stderr)
	queue := flags.String("queue", "", "`name` of the queue the listener consumes (default: the listener name in kebab-case)")
	workers := flags.Int("workers", config.DefaultWorkers, fmt.Sprintf("concurrent handlers, 1 to %d", config.MaxWorkers))
	retry := flags.Bool("retry", config.DefaultRetryOnError, "set retry_on_error = true, so failed messages are retried with backoff")
	maxRetries := flags.Int("max-retries", config.DefaultMaxRetries, fmt.Sprintf("retries after the first attempt, 0 to %d; used with -retry", config.MaxMaxRetries))
	autoAck := flags.Bool("auto-ack", config.DefaultAutoAck, "let the host ack handled messages; -auto-ack=false makes Handle ack or reject each message")
	visibility := secondsFlag{value: config.DefaultVisibilityTimeout}
	flags.Var(&visibility, "visibility-timeout", "how long a received message stays hidden, as seconds (30) or a `duration` (5m), whole seconds from 1s to 12h")
	dir := flags.String("dir", defaultPluginsDir, "`folder` in which to create the listener's package folder")
	configPath := flags.String("config", "", "config `file` to append the listener block to, created when missing; without it the block is printed")

	if len(args) > 0 && isHelpFlag(args[0]) {
		flags.Usage()
		return generateRequest{}, flag.ErrHelp
	}
	if len(args) == 0 {
		return generateRequest{}, &exitError{code: exitUsage, message: "name what to generate, as in: vega-host generate listener SendEmail"}
	}
	if args[0] != "listener" {
		return generateRequest{}, &exitError{code: exitUsage, message: fmt.Sprintf("cannot generate %q: the only kind is listener, as in: vega-host generate listener SendEmail", args[0])}
	}

	name, err := parseNameAndFlags(flags, args[1:])
	if err != nil {
		return generateRequest{}, err
	}

	request := generateRequest{
		name:              name,
		queue:             *queue,
		workers:           *workers,
		autoAck:           *autoAck,
		visibilityTimeout: visibility.value,
		retryOnError:      *retry,
		maxRetries:        *maxRetries,
		dir:               *dir,
		configPath:        *configPath,
	}
	if request.queue == "" {
		request.queue = name.Kebab
	}
	if err := request.validate(); err != nil {
		return generateRequest{}, &exitError{code: exitUsage, message: err.Error()}
	}

	if isFlagSet(flags, "max-retries") && !request.retryOnError {
		fmt.Fprintln(stderr, "warning: -max-retries has no effect without -retry, because failed messages are not retried")
	}
	return request, nil
}

// parseNameAndFlags parses flags, takes the one NAME argument, and parses
// the flags that follow it.
func parseNameAndFlags(flags *flag.FlagSet, args []string) (listenerName, error) {
	if err := parseFlags(flags, args); err != nil {
		return listenerName{}, err
	}
	if flags.NArg() == 0 {
		return listenerName{}, &exitError{code: exitUsage, message: "the listener NAME is missing, as in: vega-host generate listener SendEmail"}
	}

	raw := flags.Arg(0)
	if err := parseFlags(flags, flags.Args()[1:]); err != nil {
		return listenerName{}, err
	}
	if flags.NArg() > 0 {
		return listenerName{}, &exitError{code: exitUsage, message: fmt.Sprintf("expected one NAME, got %q and %q; a listener name has no spaces", raw, strings.Join(flags.Args(), " "))}
	}

	name, err := parseListenerName(raw)
	if err != nil {
		return listenerName{}, &exitError{code: exitUsage, message: err.Error()}
	}
	return name, nil
}

// validate checks the values against the limits that config validation
// applies to the listener block.
func (r generateRequest) validate() error {
	switch {
	case r.workers < 1 || r.workers > config.MaxWorkers:
		return fmt.Errorf("-workers %d is out of range: use 1 to %d", r.workers, config.MaxWorkers)
	case r.maxRetries < 0 || r.maxRetries > config.MaxMaxRetries:
		return fmt.Errorf("-max-retries %d is out of range: use 0 to %d", r.maxRetries, config.MaxMaxRetries)
	case r.visibilityTimeout < config.MinVisibilityTimeout || r.visibilityTimeout > config.MaxVisibilityTimeout:
		return fmt.Errorf("-visibility-timeout %s is out of range: use %s to %s", r.visibilityTimeout, config.MinVisibilityTimeout, config.MaxVisibilityTimeout)
	case r.visibilityTimeout%time.Second != 0:
		return fmt.Errorf("-visibility-timeout %s is invalid: use whole seconds", r.visibilityTimeout)
	case strings.TrimSpace(r.queue) == "":
		return errors.New("-queue is empty: name the queue, or leave the flag out to use the listener name")
	case strings.ContainsFunc(r.queue, unicode.IsControl):
		return fmt.Errorf("-queue %q is invalid: it contains a control character", r.queue)
	case r.dir == "":
		return errors.New("-dir is empty: name the folder for the listener's package, such as plugins")
	}
	return nil
}

// generateListener writes the listener's package and its listener block.
// It checks everything before it writes, so a refused run changes nothing.
func generateListener(r generateRequest, workDir string, stdout, stderr io.Writer) error {
	module, err := findModule(workDir)
	if err != nil {
		return err
	}
	if !module.requiresVegaHost() {
		fmt.Fprintf(stderr, "warning: %s does not require %s, which the listener imports; run: go get %s\n",
			module.file, vegaHostModule, vegaHostModule)
	}

	packageDir := filepath.Join(resolvePath(workDir, r.dir), r.name.Kebab)
	relative, err := filepath.Rel(module.root, packageDir)
	if err != nil || relative == ".." || strings.HasPrefix(relative, ".."+string(filepath.Separator)) {
		return fmt.Errorf("folder %s is outside the module in %s, so go build could not find it; choose a -dir inside the module", packageDir, module.root)
	}

	data := templateData{
		Name:              r.name.Kebab,
		TypeName:          r.name.TypeName,
		Queue:             r.queue,
		Workers:           r.workers,
		AutoAck:           r.autoAck,
		VisibilityTimeout: int64(r.visibilityTimeout / time.Second),
		RetryOnError:      r.retryOnError,
		MaxRetries:        r.maxRetries,
		PackageDir:        filepath.ToSlash(relative),
		BuildScript:       filepath.ToSlash(filepath.Dir(relative)) == defaultPluginsDir,
	}
	files, err := renderGoFiles(data)
	if err != nil {
		return err
	}
	block, err := renderBlock(data)
	if err != nil {
		return err
	}

	if err := checkFilesAbsent(packageDir, files); err != nil {
		return err
	}
	configPath := ""
	if r.configPath != "" {
		configPath = resolvePath(workDir, r.configPath)
		if err := checkListenerAbsent(configPath, r.name.Kebab); err != nil {
			return err
		}
	}

	if err := writeNewFiles(packageDir, files); err != nil {
		return err
	}
	if configPath != "" {
		if err := appendBlock(configPath, block); err != nil {
			return err
		}
	}

	report := generateReport{workDir: workDir, packageDir: packageDir, files: files, name: r.name.Kebab, configPath: configPath, block: block}
	if configPath == "" {
		report.print(stderr, stdout)
	} else {
		report.print(stdout, nil)
	}
	return nil
}

// renderedFile is a generated file's name and contents.
type renderedFile struct {
	name    string
	content []byte
}

// renderGoFiles renders the Go files and formats them with gofmt's rules.
func renderGoFiles(data templateData) ([]renderedFile, error) {
	files := make([]renderedFile, 0, len(goFiles))
	for _, file := range goFiles {
		var out bytes.Buffer
		if err := templates.ExecuteTemplate(&out, file.template, data); err != nil {
			return nil, fmt.Errorf("render %s: %w", file.name, err)
		}
		formatted, err := format.Source(out.Bytes())
		if err != nil {
			return nil, fmt.Errorf("format generated %s: %w", file.name, err)
		}
		files = append(files, renderedFile{name: file.name, content: formatted})
	}
	return files, nil
}

// renderBlock renders the listener block. The template aligns the
// attributes as HCL's formatter does, which it can because the keys are
// fixed.
func renderBlock(data templateData) ([]byte, error) {
	var out bytes.Buffer
	if err := templates.ExecuteTemplate(&out, "listener.hcl.tmpl", data); err != nil {
		return nil, fmt.Errorf("render the listener block: %w", err)
	}
	return out.Bytes(), nil
}

// checkFilesAbsent returns an error naming the first file that exists.
func checkFilesAbsent(dir string, files []renderedFile) error {
	for _, file := range files {
		path := filepath.Join(dir, file.name)
		_, err := os.Lstat(path)
		switch {
		case err == nil:
			return fmt.Errorf("%s exists already, and generate never overwrites a file; remove it or pick another listener name", path)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("check %s: %w", path, err)
		}
	}
	return nil
}

// writeNewFiles creates dir and the files in it. It never replaces a file,
// and it removes the files it created when a later one fails.
func writeNewFiles(dir string, files []renderedFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder %s: %w", dir, err)
	}

	var created []string
	for _, file := range files {
		path := filepath.Join(dir, file.name)
		if err := writeNewFile(path, file.content); err != nil {
			for _, done := range created {
				_ = os.Remove(done)
			}
			return err
		}
		created = append(created, path)
	}
	return nil
}

// writeNewFile writes content to path, which must not exist.
func writeNewFile(path string, content []byte) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := file.Write(content); err != nil {
		_ = file.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := file.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// resolvePath returns path made absolute against dir.
func resolvePath(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

// generateReport prints what generate did and what to run next.
type generateReport struct {
	workDir    string
	packageDir string
	files      []renderedFile
	name       string
	configPath string
	block      []byte
}

// print writes the summary to out. When blockOut is not nil, the listener
// block goes there alone, so that it can be redirected into a file.
func (g generateReport) print(out, blockOut io.Writer) {
	for _, file := range g.files {
		fmt.Fprintf(out, "created %s\n", g.relative(filepath.Join(g.packageDir, file.name)))
	}

	binary := filepath.Join("bin", g.name)
	configArg := defaultConfigFile
	if g.configPath != "" {
		fmt.Fprintf(out, "added listener %q to %s\n", g.name, g.relative(g.configPath))
		binary = g.relative(filepath.Join(filepath.Dir(g.configPath), "bin", g.name))
		configArg = g.relative(g.configPath)
	} else {
		fmt.Fprintf(out, "add the listener block printed on standard output to %s, or run again with -config\n", defaultConfigFile)
		_, _ = blockOut.Write(g.block)
	}

	pkg := "./" + filepath.ToSlash(g.relative(g.packageDir))
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Next:")
	fmt.Fprintf(out, "  go test %s\n", pkg)
	fmt.Fprintf(out, "  go build -o %s %s\n", binary, pkg)
	fmt.Fprintf(out, "  bin/vega-host run -config %s\n", configArg)
}

// relative returns path relative to the working directory when it is
// inside it, and absolute otherwise.
func (g generateReport) relative(path string) string {
	relative, err := filepath.Rel(g.workDir, path)
	if err != nil || strings.HasPrefix(relative, "..") {
		return path
	}
	return relative
}

// secondsFlag is a flag.Value for a duration given as whole seconds ("30")
// or as a Go duration ("5m").
type secondsFlag struct {
	value time.Duration
}

func (f *secondsFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value.String()
}

func (f *secondsFlag) Set(text string) error {
	if seconds, err := strconv.ParseInt(text, 10, 64); err == nil {
		f.value = time.Duration(seconds) * time.Second
		return nil
	}
	duration, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("%q is neither a number of seconds nor a duration such as 5m", text)
	}
	f.value = duration
	return nil
}

// hclString returns s as a quoted HCL string. Besides Go's escapes it
// doubles the "${" and "%{" that would start an HCL template sequence.
func hclString(s string) string {
	quoted := strconv.Quote(s)
	quoted = strings.ReplaceAll(quoted, "${", "$${")
	return strings.ReplaceAll(quoted, "%{", "%%{")
}

// isFlagSet reports whether the command line set the named flag.
func isFlagSet(flags *flag.FlagSet, name string) bool {
	set := false
	flags.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}
