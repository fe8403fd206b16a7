package main

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/spf13/pflag"

	"github.com/imgpipe/imgpipe/pipeline"
)

// keyFlags maps the configuration keys that have a flag to it.
var keyFlags = map[string]string{
	"out_dir": "out", "force": "force", "dry_run": "dry-run", "fail_fast": "fail-fast", "max_memory": "max-memory",
	"output.width": "width", "output.height": "height", "output.fit": "fit", "output.anchor": "anchor",
	"output.enlarge": "enlarge", "output.filter": "filter", "output.format": "format", "output.quality": "quality",
	"output.progressive": "progressive", "output.lossless": "lossless", "output.background": "background",
	"output.name": "name", "output.sharpen": "sharpen", "output.linear": "linear", "output.keep_metadata": "keep-metadata", "output.colorspace": "colorspace",
	"output.focal": "focal", "output.trim": "trim", "output.placeholder": "placeholder", "output.max_bytes": "max-bytes",
	"decode.frames": "frames", "decode.max_pixels": "max-pixels", "decode.max_file_size": "max-file-size",
	"decode.full_decode": "full-decode", "watch.settle": "settle",
}

// settingKey matches the key that starts a Validate error.
var settingKey = regexp.MustCompile(`^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*): `)

// explain names where a bad setting came from: the flag when one was
// given ("--width: must be >= 0, got -5"), else the config file's line
// ("config.yaml line 3: output.width: ..."). Renditions made by --sizes
// are blamed on --sizes, or on --name for their names.
func explain(err error, flags *pflag.FlagSet, o *options) error {
	if err == nil {
		return nil
	}
	m := settingKey.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	key, rest := m[1], err.Error()[len(m[0]):]
	flag := keyFlags[key]
	if len(o.sizes) > 0 && regexp.MustCompile(`^outputs\[\d+\]\.`).MatchString(key) {
		flag = "sizes"
		if regexp.MustCompile(`\.name$`).MatchString(key) && flags.Changed("name") {
			flag = "name"
		}
	}
	if flag != "" && (flag == "sizes" || flags.Changed(flag)) {
		return errors.New("--" + flag + ": " + rest)
	}
	if o.configFile != "" {
		if line := pipeline.ConfigLine(o.configFile, key); line > 0 {
			return fmt.Errorf("%s line %d: %w", o.configFile, line, err)
		}
		return fmt.Errorf("%s: %w", o.configFile, err)
	}
	return err
}
