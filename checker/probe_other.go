//go:build !linux && !freebsd && !darwin && !openbsd && !dragonfly

package checker

func osEphemeral(f *Facts) { ianaFallback(f, "not known how to read it on "+f.OS) }

func osListeners(f *Facts, method string) error {
	if method != "" {
		return errMethod(method)
	}
	f.ListenMethod = MethodBind
	f.Notes = append(f.Notes, "listeners are not listed on "+f.OS+": only the bind probe tests ports")
	return nil
}

func findOwners(f *Facts, ports []int) {}
