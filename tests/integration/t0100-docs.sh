#!/usr/bin/env bash
# t0100-docs.sh — the references stay true to the code: every route of the
# routing table (infrad -r) has its row in docs/API.md with the same
# permission, every infractl subcommand answers --help and is documented,
# and README.md's configuration table is the settings table.
. "$(dirname "$0")/lib.sh"

api_md=$INFRA_REPO/docs/API.md

# A route's permission as docs/API.md writes it.
doc_permission() {
	case "$1" in
	-) echo none ;;
	'*') echo "any valid token" ;;
	*) echo "$1" ;;
	esac
}

missing=()
while IFS=$'\t' read -r method pattern perm; do
	want=$(doc_permission "$perm")
	# | METHOD | `PATTERN…` | permission | …
	if ! awk -v m="$method" -v p="$pattern" -v w="$want" '
		function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
		{
			line = $0; gsub(/\\\|/, "/", line)	# an escaped \| inside a cell
			split(line, f, "|")
			path = trim(f[3]); gsub(/`/, "", path); sub(/\[.*$/, "", path); sub(/\?.*$/, "", path)
			if (trim(f[2]) == m && path == p && trim(f[4]) == w) found = 1
		}
		END { exit !found }' "$api_md"; then
		missing+=("$method $pattern ($want)")
	fi
done < <("$INFRA_BUILD/infrad" -r)
check "every route is documented in docs/API.md with its permission" test ${#missing[@]} -eq 0
[ ${#missing[@]} -eq 0 ] || printf '#   not documented: %s\n' "${missing[@]}"

nroutes=$("$INFRA_BUILD/infrad" -r | wc -l)
check "the routing table is not empty" test "$nroutes" -gt 10

# infractl: every subcommand in its usage answers --help with exit 0, and is
# named in the docs.
cmds=$("$INFRA_BUILD/infractl" --help | awk '/^commands:/ { on = 1; next } on && !NF { exit } on { print $1 }')
check "infractl lists its commands" test -n "$cmds"
undocumented=()
for c in $cmds; do
	check "infractl $c --help exits 0" eval '"$INFRA_BUILD/infractl" "$c" --help >/dev/null' 
	grep -rqw -- "infractl $c" "$INFRA_REPO/docs" "$INFRA_REPO/README.md" || undocumented+=("$c")
done
check "every infractl command is documented" test ${#undocumented[@]} -eq 0
[ ${#undocumented[@]} -eq 0 ] || printf '#   undocumented: infractl %s\n' "${undocumented[@]}"

check "README.md's configuration table matches lib/config.c" \
	env INFRA_BUILD="$INFRA_BUILD" "$INFRA_REPO/scripts/gen-config-reference" --check

done_testing
