// Package stages holds the per-item steps of an imgpipe pipeline: scan (and
// watch) find files, decode reads them, resize makes every requested size,
// encode turns pixels into bytes and save writes them atomically.
//
// Each stage is a plain function of one item: func(ctx, In) (Out, error).
// None of them starts goroutines of its own or touches channels; the
// pipeline package runs them with a fixed number of workers per stage. The
// functions are safe for concurrent use unless a comment says otherwise.
//
// The items, in order, each holding the one before:
//
//	File      an input found by Scan, Watch or a caller (path, or bytes via File.Open)
//	*Decoded  upright pixels, colour profile and EXIF, and the Targets planned for it
//	*Resized  one image per Target (every frame, for animated GIF outputs)
//	*Encoded  one file's bytes per Target
//	*Saved    where each was written
//
// An Output describes a rendition (size, fit, format, quality, name); the
// Planner turns the Outputs into Targets from an input's header, decides
// that an input is up to date (a *Skip), and catches two inputs claiming one
// output name (ErrCollision). Errors wrap the sentinels ErrNotImage,
// ErrUnsupportedFormat, ErrCorrupt, ErrTooLarge, ErrCollision, ErrPanic and
// ErrOutput, for errors.Is.
//
// Memory: Decode charges each input's estimated peak bytes to the caller's
// Reserve function before allocating its pixels, and JPEGs are decoded at
// 1/2, 1/4 or 1/8 size when the outputs allow (shrink-on-load).
package stages
