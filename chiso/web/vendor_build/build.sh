#!/usr/bin/env bash
# Rebuild the vendored assets in chiso/web/static/vendor from the npm registry:
#   bash chiso/web/vendor_build/build.sh
# ECharts: only the charts and components chiso draws (echarts.entry.js), SVG renderer.
# Swagger UI: the bundle and its stylesheet, for /docs without a CDN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/../static/vendor"
work="$(mktemp -d)"
cp "$here/package.json" "$here/echarts.entry.js" "$work/"
(cd "$work" && npm install --no-audit --no-fund --silent)
"$work/node_modules/.bin/esbuild" "$work/echarts.entry.js" --bundle --minify --format=iife \
  --legal-comments=none --target=es2018 --outfile="$vendor/echarts.min.js"
cp "$work/node_modules/echarts/LICENSE" "$vendor/ECHARTS-LICENSE.txt"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE; do
  cp "$work/node_modules/swagger-ui-dist/$f" "$vendor/swagger/$f"
done
rm -rf "$work"
ls -l "$vendor/echarts.min.js" "$vendor/swagger"
