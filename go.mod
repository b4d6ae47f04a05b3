module github.com/qmpc/qmpc

go 1.26
