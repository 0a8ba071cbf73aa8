#!/bin/sh
# `make run`'s demo, in its self-checking mode: the commands it prints (and
# the README shows) really fetch files over TCP and over CurveCP+msgpipe,
# and the embedded default stays read-only.
. tests/lib.sh
check "make run demo: sftp over tcpserver and curvecpserver+msgpipe" \
	limit 90 sh tests/run-demo.sh "$BUILD" --check
finish
