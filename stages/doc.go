// Package stages holds the per-item steps of an imgpipe pipeline: scan (and
// watch) find files, decode reads them, resize makes every requested size,
// encode turns pixels into bytes and save writes them atomically.
//
// Each stage is a plain function of one item: func(ctx, In) (Out, error).
// None of them starts goroutines of its own or touches channels; the
// pipeline package runs them with a fixed number of workers per stage.
// The functions are safe for concurrent use unless a comment says otherwise.
package stages
