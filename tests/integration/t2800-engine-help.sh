#!/usr/bin/env bash
# t2800-engine-help.sh — each migration command's --help is the reference
# docs/ENGINE.md prints for it, and every command is in `infractl --help`.
. "$(dirname "$0")/lib.sh"

doc=$INFRA_REPO/docs/ENGINE.md
for cmd in migrate info validate plan repair baseline undo checksum migrate-self; do
	want=$(awk -v h="### infractl $cmd" '$0 == h { on = 1; next } on && /^```$/ { if (in_block) exit; in_block = 1; next } in_block { print }' "$doc")
	got=$("$INFRA_BUILD/infractl" "$cmd" --help 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "infractl $cmd --help matches docs/ENGINE.md"
	else
		not_ok "infractl $cmd --help matches docs/ENGINE.md (exit $rc)"
		diff <(echo "$want") <(echo "$got") | head -n 10 | sed 's/^/# /'
	fi
	"$INFRA_BUILD/infractl" --help | grep -q "^  $cmd " && ok "'$cmd' is listed by infractl --help" ||
		not_ok "'$cmd' is listed by infractl --help"
done

done_testing
