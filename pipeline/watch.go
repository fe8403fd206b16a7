package pipeline

// WatchConfig configures watch mode.
type WatchConfig struct {
	// DeleteOutputs removes an input's outputs when the input is deleted.
	DeleteOutputs bool `yaml:"delete_outputs"`
}
