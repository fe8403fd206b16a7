package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imgpipe/imgpipe/stages"
)

// WatchBatch is the batch a watch puts the files that land on day t into:
// the watched folders and settings (as BatchID) and the UTC date, as in
// "3f9c0a2b71de-20261202". One batch per day, not per watch session, so
// `imgpipe status` answers "what came in today" and a watch restarted
// during the day goes on with the same batch (its catch-up jobs are the
// same jobs, deduplicated). A watch batch has no total: it is never
// complete.
func WatchBatch(s Settings, dirs []string, t time.Time) string {
	return BatchID(s, dirs) + "-" + t.UTC().Format("20060102")
}

// watchPublishWait bounds one publish: long enough to ride out a restart
// of the server (the client buffers while it reconnects), short enough
// that a watch with no server says so.
const watchPublishWait = 30 * time.Second

// Publish puts one job for file f, with settings s, on batch and waits for
// the server to store it. Its ID includes f's size and modification time,
// so the same file published again (a second event, a restarted watch's
// catch-up) within DuplicateWindow is stored once, and duplicate reports
// that; a file rewritten since is a new job.
func Publish(ctx context.Context, js jetstream.JetStream, batch string, s Settings, f stages.File) (duplicate bool, err error) {
	abs, err := absolute(f.Path)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", f.Path, err)
	}
	j := Job{Batch: batch, Input: abs, Rel: f.Rel, Settings: s, Hash: s.Hash(),
		Version: strconv.FormatInt(f.Size, 10) + "-" + strconv.FormatInt(f.ModTime.UnixNano(), 10)}
	msg, err := jobMsg(j)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", f.Path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, watchPublishWait)
	defer cancel()
	ack, err := js.PublishMsg(ctx, msg)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", f.Path, err)
	}
	return ack.Duplicate, nil
}

// jobMsg is the message that carries j, with its deduplication ID.
func jobMsg(j Job) (*nats.Msg, error) {
	data, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(JobSubject(j.Batch))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, j.ID())
	return msg, nil
}
