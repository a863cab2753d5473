#!/usr/bin/env bash
# Re-vendor the dashboard's JavaScript from the npm registry into aitrader/static (nothing is loaded from a CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q lightweight-charts@4.2.3 && tar xzf lightweight-charts-4.2.3.tgz)
cp "$tmp/package/dist/lightweight-charts.standalone.production.js" aitrader/static/
cp "$tmp/package/LICENSE" aitrader/static/lightweight-charts.LICENSE
