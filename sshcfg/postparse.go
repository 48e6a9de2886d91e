package sshcfg

import "strings"

// firstActive returns the first directive in effect at start-up among
// keys (spellings of one option), as sshd keeps the first value read.
func (l *loader) firstActive(keys ...string) (Directive, bool) {
	for d := range l.cfg.Directives() {
		if d.Active && contains(keys, d.Key) && len(d.Line().Args) > 0 {
			return d, true
		}
	}
	return Directive{}, false
}

// flagValue is the first active yes/no of an option, or def.
func (l *loader) flagValue(def bool, keys ...string) bool {
	d, ok := l.firstActive(keys...)
	if !ok {
		return def
	}
	return strings.EqualFold(d.Line().Args[0].Text, "yes")
}

// postParse checks what sshd checks after reading the files (sshd.c's
// main and fill_default_server_options): a command without its user, and
// AuthenticationMethods that no enabled method can satisfy. sshd names no
// file or line for these; sshport names the directive.
func (l *loader) postParse() {
	for _, c := range [][2]string{{"authorizedkeyscommand", "AuthorizedKeysCommand"}, {"authorizedprincipalscommand", "AuthorizedPrincipalsCommand"}} {
		d, ok := l.firstActive(c[0])
		if !ok || strings.EqualFold(strings.TrimLeft(d.Line().Rest, " \t"), "none") {
			continue
		}
		if _, ok := l.firstActive(c[0] + "user"); !ok {
			l.fatalf(d.File, d.Num(), "%s set without %sUser", c[1], c[1])
		}
	}
	var lists []string
	var first Directive
	for d := range l.cfg.Directives() {
		if d.Active && d.Key == "authenticationmethods" {
			first = d
			for _, a := range d.Line().Args {
				lists = append(lists, a.Text)
			}
			break
		}
	}
	if len(lists) == 0 || lists[0] == "any" {
		return
	}
	enabled := map[string]bool{
		"none":                 true,
		"publickey":            l.flagValue(true, "pubkeyauthentication", "dsaauthentication"),
		"password":             l.flagValue(true, "passwordauthentication"),
		"keyboard-interactive": l.flagValue(true, "kbdinteractiveauthentication", "challengeresponseauthentication", "skeyauthentication"),
		"hostbased":            l.flagValue(false, "hostbasedauthentication"),
		"gssapi-with-mic":      l.flagValue(false, "gssapiauthentication"),
		"gssapi-keyex":         l.flagValue(false, "gssapikeyexchange"),
	}
	for _, list := range lists {
		ok := true
		for _, m := range strings.Split(list, ",") {
			name, _, _ := strings.Cut(m, ":")
			ok = ok && enabled[name]
		}
		if ok {
			return
		}
	}
	l.fatalf(first.File, first.Num(), "AuthenticationMethods cannot be satisfied by enabled authentication methods")
}
