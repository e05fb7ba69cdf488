#!/usr/bin/env bash
# Installs what the local platform and the tests need into .local/ (git-ignored):
# DynamoDB Local (AWS's jar, shipped inside an npm package), the SQS emulator
# (npm local-aws-sqs), the Lambda Runtime Interface Emulator and Mailpit (both
# built from the Go module proxy), and Java/Node if the machine has none. Idempotent: finished steps are skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
local_dir="$root/.local"
mkdir -p "$local_dir/bin"

say() { printf '[tools] %s\n' "$*" >&2; }

# Java 17+ for DynamoDB Local.
if ! command -v java >/dev/null 2>&1; then
  say "installing a Java runtime (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  say "installing Node.js and npm (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

# DynamoDB Local 1.25.1 from npm amplify-dynamodb-simulator@2.9.30 (only the jar and its native libs).
ddb="$local_dir/dynamodb"
if [ ! -f "$ddb/DynamoDBLocal.jar" ]; then
  say "fetching DynamoDB Local (npm amplify-dynamodb-simulator@2.9.30)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent amplify-dynamodb-simulator@2.9.30 >/dev/null && tar xzf amplify-dynamodb-simulator-2.9.30.tgz package/emulator)
  rm -rf "$ddb" && mv "$tmp/package/emulator" "$ddb" && rm -rf "$tmp"
fi

# SQS emulator: npm local-aws-sqs@2.0.2 (JSON and Query protocols) into .local/sqs.
sqs="$local_dir/sqs"
if [ ! -f "$sqs/node_modules/local-aws-sqs/package.json" ] ||
   ! grep -q '"version": "2.0.2"' "$sqs/node_modules/local-aws-sqs/package.json"; then
  say "installing the SQS emulator (npm local-aws-sqs@2.0.2)"
  mkdir -p "$sqs"
  npm install --silent --no-audit --no-fund --prefix "$sqs" local-aws-sqs@2.0.2 >/dev/null
fi

# aws-lambda-rie, pinned in infra/tools/go.mod.
if [ ! -x "$local_dir/bin/aws-lambda-rie" ]; then
  say "building aws-lambda-rie (Go module proxy)"
  (cd "$root/infra/tools" && go build -o "$local_dir/bin/aws-lambda-rie" github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie)
fi
# Mailpit: the local SMTP server, web UI and JSON API for email (infra/mailpit).
mailpit_version=v1.33.1
if [ ! -x "$local_dir/bin/mailpit" ] ||
   ! go version -m "$local_dir/bin/mailpit" 2>/dev/null | grep -q "github.com/axllent/mailpit[[:space:]]*$mailpit_version"; then
  say "building mailpit $mailpit_version (Go module proxy, about a minute)"
  GOBIN="$local_dir/bin" go install "github.com/axllent/mailpit@$mailpit_version"
fi

# Jaeger: the local OTLP collector and trace store (infra/jaegerlocal); slow the first time.
bash "$root/infra/scripts/install-jaeger.sh"
say "tools ready in $local_dir"
