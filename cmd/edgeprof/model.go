package main

import "github.com/spf13/cobra"

// modelCmd groups the commands that inspect and produce model files.
var modelCmd = &cobra.Command{
	Use:   "model",
	Short: "Inspect and synthesize GGUF model files",
}

func init() { rootCmd.AddCommand(modelCmd) }
