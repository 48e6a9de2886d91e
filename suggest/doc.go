// Package suggest chooses a safe SSH port and turns it into a reviewed, atomic change of sshd_config.
package suggest
