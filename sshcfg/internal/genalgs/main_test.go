package main

import (
	"reflect"
	"testing"
)

func TestEvalCond(t *testing.T) {
	d := map[string]bool{"WITH_OPENSSL": true, "HAVE_EVP_SHA256": true}
	for cond, want := range map[string]bool{
		"defined(WITH_OPENSSL)":                                         true,
		"defined(WITH_OPENSSL) && !defined(OPENSSL_NO_RC4)":             true,
		"defined(HAVE_EVP_SHA256) || !defined(WITH_OPENSSL)":            true,
		"!defined(WITH_OPENSSL)":                                        false,
		"defined(WITH_SSH1) || (defined(WITH_OPENSSL) && 1)":            true,
		"OPENSSL_VERSION_NUMBER >= 0x00907000L":                         false,
		"defined(__OpenBSD__) || defined(HAVE_SYS_SET_PROCESS_RDOMAIN)": false,
	} {
		if got := evalCond(cond, d); got != want {
			t.Errorf("evalCond(%q) = %v, want %v", cond, got, want)
		}
	}
}

func TestEntries(t *testing.T) {
	src := `static const struct x ciphers[] = {
#ifdef WITH_SSH1
	{ "des", 1 },
#endif
#ifdef WITH_OPENSSL
	{ "3des-cbc",	8 },
# ifndef OPENSSL_NO_RC4
	{ "arcfour",	8 },
# endif
#else
	{ "aes128-ctr-internal", 1 },
#endif
	{ KEX_NAME, 1 },
	{ NULL, 0 }
};
`
	pp := preprocess(src, map[string]bool{"WITH_OPENSSL": true})
	got := entries(arrayBody(pp, "ciphers"), map[string]string{"KEX_NAME": "curve25519-sha256"})
	want := []string{"3des-cbc", "arcfour", "curve25519-sha256"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
}
