package client

import "strings"

// matchPattern reports whether s matches the ssh pattern p, as match.c's
// match_pattern does: '*' matches any run of bytes (none included), '?'
// exactly one byte, every other byte itself (case-sensitive).
func matchPattern(s, p string) bool {
	si, pi := 0, 0
	star, mark := -1, 0 // position after the last '*' in p, and where in s it resumed
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]) && p[pi] != '*':
			si++
			pi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi+1, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// hostLineMatches reports whether a Host line with these patterns applies
// to alias, as readconf.c decides it: some pattern matches and no negated
// one ("!pattern") does.
func hostLineMatches(patterns []string, alias string) bool {
	found := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if matchPattern(alias, p) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}

// hostLineOnly reports whether a Host line with these patterns applies to
// alias and to no other name: every positive pattern is alias itself,
// with no wildcard.
func hostLineOnly(patterns []string, alias string) bool {
	pos := 0
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") {
			continue
		}
		if p != alias {
			return false
		}
		pos++
	}
	return pos > 0
}

// matchHostList reports whether host matches a known_hosts host field
// (already split at commas), as hostfile.c's match_hostname does: patterns
// are compared in lower case, and a matching negated pattern excludes the
// host whatever else matches.
func matchHostList(host string, patterns []string) bool {
	host = strings.ToLower(host)
	found := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if matchPattern(host, strings.ToLower(p)) {
			if neg {
				return false
			}
			found = true
		}
	}
	return found
}
