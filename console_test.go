package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/imgpipe/imgpipe/pipeline"
)

// File names reach the terminal without the escape sequences they may
// carry (issue #18.9): failures, notes and dry-run lines.
func TestConsoleEscapesNames(t *testing.T) {
	evil := "photos/\x1b]0;pwned\x07\x1b[2J\u202egpj.exe.jpg"
	var buf bytes.Buffer
	c := newConsole(&buf, &buf, options{})
	c.result(pipeline.Result{Input: evil, Status: pipeline.StatusFailed, Stage: "decode",
		Err: &pipeline.Error{Stage: "decode", Path: evil, Err: errors.New("not an image")}})
	c.result(pipeline.Result{Input: evil, Status: pipeline.StatusOK, Notes: []string{"a note"}})
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("raw control characters reach the terminal: %q", out)
	}
	if !strings.Contains(out, `\x1b]0;pwned\a`) || !strings.Contains(out, `"photos/\x1b`) {
		t.Errorf("the name is not shown escaped: %q", out)
	}
	if got := quoteName("IMG_0001.jpg"); got != "IMG_0001.jpg" {
		t.Errorf("a plain name is quoted: %s", got)
	}
}
