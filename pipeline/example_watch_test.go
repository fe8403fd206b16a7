package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// Resize each photo that lands in a folder, as `imgpipe watch` does. The
// watch runs until its context is cancelled: here, after the first result.
func ExamplePipeline_Watch() {
	inbox, _ := os.MkdirTemp("", "inbox")
	defer os.RemoveAll(inbox)
	web := filepath.Join(inbox, "web") // inside the watched folder: never taken for an input

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := pipeline.New(pipeline.Config{
		OutDir: web,
		Output: stages.Output{Width: 64},
		// A file counts as complete once left alone this long (default 1s).
		Watch: pipeline.WatchConfig{WatchOptions: pipeline.WatchOptions{Settle: 100 * time.Millisecond}},
	}, pipeline.OnResult(func(r pipeline.Result) {
		defer cancel() // one photo is all this example waits for
		if r.Status != pipeline.StatusOK {
			fmt.Println(r.Status, r.Err)
			return
		}
		out, _ := filepath.Rel(inbox, r.Outputs[0].Path)
		fmt.Printf("%s %s: %s %dx%d\n", filepath.Base(r.Input), r.Status, out, r.Outputs[0].Width, r.Outputs[0].Height)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}

	// A photo lands: written beside the folder, then moved in whole. (One
	// already there when the watch starts is processed too.)
	go func() {
		data, _ := os.ReadFile("../testdata/edge/IMG_0001.JPG")
		tmp := inbox + ".part"
		os.WriteFile(tmp, data, 0o644)
		os.Rename(tmp, filepath.Join(inbox, "IMG_0001.JPG"))
	}()

	sum, err := p.Run(ctx, p.Watch([]string{inbox}))
	fmt.Println(sum.OK, "processed; stopped:", errors.Is(err, context.Canceled))
	// Output:
	// IMG_0001.JPG ok: web/IMG_0001.JPG 64x40
	// 1 processed; stopped: true
}
