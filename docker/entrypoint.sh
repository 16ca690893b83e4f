#!/bin/sh
# Migrations are applied by the app itself at start (under a PostgreSQL advisory lock, so replicas
# starting together are safe). exec makes node PID 1's child-free replacement, so it gets SIGTERM.
set -e
exec node build/server.js "$@"
