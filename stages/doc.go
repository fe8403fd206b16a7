// Package stages holds the per-item steps of an imgpipe pipeline (decode,
// resize, encode), each a function func(ctx, In) (Out, error) that starts
// no goroutine and touches no channel: package pipeline runs them with a
// fixed number of workers per stage, finds the inputs, and saves the
// outputs (through internal/save, in batches). (A big image read in bands
// is decoded by internal/band in up to three goroutines of its own, which
// end before Decode returns: one image on two cores.)
//
// The items, in order, each holding the one before:
//
//	File      an input (a path, or bytes through File.Open)
//	*Decoded  upright pixels, colour profile and EXIF, and the Targets to make
//	*Resized  one image per Target: what a pipeline.Step works on
//	*Encoded  one file's bytes per Target: what a pipeline.Sink receives
//	*Saved    where each was written
//
// An Output describes a rendition; InputRule says which files are inputs.
// Errors wrap the sentinels below, for errors.Is.
package stages
