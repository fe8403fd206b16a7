package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/pipeline"
	"github.com/imgpipe/imgpipe/stages"
)

// BatchID names a batch after what it does: the same inputs, output folder
// and settings give the same id, so enqueueing a command twice makes one
// batch (and, within DuplicateWindow, one set of jobs).
func BatchID(s Settings, inputs []string) string {
	abs := make([]string, len(inputs))
	for i, in := range inputs {
		a, err := absolute(in)
		if err != nil {
			a = in
		}
		abs[i] = a
	}
	slices.Sort(abs)
	sum := sha256.Sum256([]byte(s.Hash() + "\x00" + strings.Join(abs, "\x00")))
	return hex.EncodeToString(sum[:6])
}

// asyncWindow is how many publishes may await their acknowledgement at
// once: enough to hide a round trip to a distant server, few enough that a
// failure is noticed soon.
const asyncWindow = 256

// Enqueue publishes one job per input src finds, with settings s, as batch,
// and then the batch record. Inputs src cannot read, and inputs inside the
// output folder, are not jobs: unreadable ones are handed to failed as
// failed results (the report's rows), the others left out as resize leaves
// them. It returns how many jobs the batch holds.
func Enqueue(ctx context.Context, js jetstream.JetStream, batch string, s Settings, src pipeline.Source, failed func(pipeline.Result)) (int, error) {
	hash := s.Hash()
	out := s.OutDir + string(filepath.Separator)
	var pending []jetstream.PubAckFuture
	wait := func() error {
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, f := range pending {
			select {
			case err := <-f.Err():
				return fmt.Errorf("publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
			default:
			}
		}
		pending = pending[:0]
		return nil
	}
	n := 0
	err := src(ctx, func(f stages.File, err error) error {
		if err != nil {
			failed(pipeline.Result{Input: f.Path, Status: pipeline.StatusFailed, Stage: "scan",
				Err: &pipeline.Error{Stage: "scan", Path: f.Path, Err: err}})
			return ctx.Err()
		}
		abs, err := absolute(f.Path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(abs, out) {
			return nil // an output is never an input
		}
		j := Job{Batch: batch, Input: abs, Rel: f.Rel, Settings: s, Hash: hash}
		msg, err := jobMsg(j)
		if err != nil {
			return err
		}
		fut, err := js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("publish %s: %w", abs, err)
		}
		pending = append(pending, fut)
		n++
		if len(pending) >= asyncWindow {
			return wait()
		}
		return nil
	})
	if err == nil {
		err = wait()
	}
	if err != nil {
		return n, err
	}
	rec, _ := json.Marshal(batchRecord{Batch: batch, Total: n, OutDir: s.OutDir})
	_, err = js.Publish(ctx, totalSubject(batch), rec, jetstream.WithMsgID(batch+"-total"))
	return n, err
}

// batchRecord is published after a batch's jobs: a batch is complete when
// Total jobs have a result.
type batchRecord struct {
	Batch  string `json:"batch"`
	Total  int    `json:"total"`
	OutDir string `json:"out_dir"`
}
