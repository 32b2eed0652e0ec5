#!/usr/bin/env bash
# Regenerates the Go code for pluginapi/proto/listener.proto.
# Needs protoc (Debian: protobuf-compiler); installs the pinned Go plugins.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
  echo "gen-proto: protoc not found; install it with: apt-get install protobuf-compiler" >&2
  exit 1
fi

bin="$(pwd)/.bin"
mkdir -p "$bin"
GOBIN="$bin" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN="$bin" go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1

PATH="$bin:$PATH" protoc \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  pluginapi/proto/listener.proto
