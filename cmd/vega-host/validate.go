package main

import (
	"fmt"
	"io"
)

func validateCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("validate", "validate [-config FILE]\n\nChecks the config file and reports every problem with its file, line and column.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` to check")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	cfg, err := loadConfig(*configPath, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is valid: %d listener(s)\n", *configPath, len(cfg.Listeners))
	return nil
}
