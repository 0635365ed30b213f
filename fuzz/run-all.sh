#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 120) one after the other, single worker, niced,
# and prints a summary line per target (execs, corpus size, findings). Logs: fuzz/logs/.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-120}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sse_decoder json_inspect_patch bedrock_eventstream gateway_config config_yaml
    anthropic_stream gemini_stream bedrock_stream cohere_stream native_request openai_stream_forward)
fi
dict_for() {
  case $1 in
    gateway_config) echo "-dict=dicts/gateway_config.dict" ;;
    config_yaml) echo "-dict=dicts/config_yaml.dict" ;;
    sse_decoder | openai_stream_forward | anthropic_stream | gemini_stream | cohere_stream) echo "-dict=dicts/sse.dict" ;;
  esac
}
[ -d corpus ] || ./seed.sh >/dev/null
mkdir -p logs
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  before=$(ls "corpus/$t" | wc -l)
  start=$(date +%s)
  # shellcheck disable=SC2046
  nice -n 10 cargo fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$secs" -workers=1 -jobs=1 -timeout=10 -rss_limit_mb=2048 \
    $(dict_for "$t") >"logs/$t.run.log" 2>&1
  rc=$?
  end=$(date +%s)
  [ -f fuzz-0.log ] && mv fuzz-0.log "logs/$t.log"
  after=$(ls "corpus/$t" | wc -l)
  execs=$(grep -oE 'Done [0-9]+ runs' "logs/$t.log" 2>/dev/null | tail -1 | grep -oE '[0-9]+')
  [ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' "logs/$t.log" 2>/dev/null | tail -1 | tr -d '#')
  cov=$(grep -oE 'cov: [0-9]+' "logs/$t.log" 2>/dev/null | tail -1)
  crashes=$(ls "artifacts/$t" 2>/dev/null | wc -l)
  echo "$t rc=$rc seconds=$((end - start)) execs=${execs:-?} $cov corpus=$before->$after artifacts=$crashes"
done
