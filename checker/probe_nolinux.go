//go:build !linux

package checker

// Without sock_diag or /proc, listeners are not listed and owners are not
// found: the bind probe alone tests the ports asked about.

func osListeners(f *Facts, method string) error {
	if method != "" {
		return errMethod(method)
	}
	f.ListenMethod = MethodBind
	f.Notes = append(f.Notes, "listeners are not listed on "+f.OS+": only the bind probe tests ports")
	return nil
}

func findOwners(f *Facts, ports []int, first []int) {}
