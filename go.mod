module github.com/sshport/sshport

go 1.26.0
