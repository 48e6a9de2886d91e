//go:build !linux && !freebsd && !darwin && !openbsd && !dragonfly

package checker

func osEphemeral(f *Facts) { ianaFallback(f, "not known how to read it on "+f.OS) }
