#!/usr/bin/env bash
# t4200-databases-credentials.sh — stored passwords: the control database
# holds AES-GCM ciphertext under a key id, never the password; `infractl
# rotate-keys` re-encrypts every row under a new first key (audited), after
# which infrad with the new ring still connects; a key missing from the
# ring, a tampered value or one copied from another row is a clear error
# for that database, never a garbage password; a bad ring names the setting
# and never echoes a key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
registry_schema_or_skip

run=$(openssl rand -hex 3)
PW="Cred-Pw-$(openssl rand -hex 10)"
make_role reg_cred "$PW"
ring_file=$INFRA_VAR/secrets/encryption-keys
old_ring=$(cat "$ring_file")
old_kid=${old_ring%%:*}

as "$MANAGE" POST /databases "$(db_body "cred-$run" reg_cred "$PW")"
expect_status 201 "registered with a connection test"
id=$(jq -r .id <<<"$BODY")
as "$MANAGE" POST '/databases?verify=false' "$(db_body "cred2-$run" reg_cred "other-$PW")"
id2=$(jq -r .id <<<"$BODY")

row() { psql_control -c "SELECT $1 FROM infra.databases WHERE id = '$2'"; }
pw_hex=$(printf '%s' "$PW" | od -An -tx1 | tr -d ' \n')
enc=$(row "encode(password_enc, 'hex')" "$id")
check "stored under the ring's first key ('$old_kid')" test "$(row password_kid "$id")" = "$old_kid"
check "the stored value is not the password" bash -c "[[ '$enc' != *'$pw_hex'* ]]"
check "nonce + ciphertext + tag: 28 bytes more than the password" \
	test $((${#enc} / 2)) = $((${#PW} + 28))
check "nothing in the table holds the password in clear" test \
	"$(psql_control -c "SELECT count(*) FROM infra.databases d WHERE d::text LIKE '%$PW%'")" = 0

# --------------------------------------------------------------- rotate
new_kid=k$run
new_ring="$new_kid:$(openssl rand -base64 32),$old_ring"
rotate() { INFRA_ENCRYPTION_KEYS=$1 "$INFRA_BUILD/infractl" rotate-keys --config "$INFRA_CONFIG" "${@:2}"; }
rotate "$new_ring" --check >"$T_TMP/check.out" 2>&1
check "--check reports rows under an older key (exit 1)" test $? = 1
rotate "$new_ring" --batch 2 >"$T_TMP/rotate.out" 2>&1
check "rotate-keys succeeds: $(tr '\n' ' ' <"$T_TMP/rotate.out")" test $? = 0
check "and reports none left" grep -q "^0 left under an older key than '$new_kid'" "$T_TMP/rotate.out"
check "every row is under the new key" test \
	"$(psql_control -c "SELECT count(*) FROM infra.databases WHERE password_kid <> '$new_kid'")" = 0
check "the ciphertext changed" test "$(row "encode(password_enc, 'hex')" "$id")" != "$enc"
rotate "$new_ring" >"$T_TMP/again.out" 2>&1
check "a second run has nothing to do" grep -q '^re-encrypted 0,' "$T_TMP/again.out"
check "the rotation is in the audit trail" test "$(psql_control -c \
	"SELECT count(*) FROM infra.audit_log WHERE action = 'database.rotate_keys' AND outcome = 'success'")" -ge 1

# infrad still has the old ring: a clear error, no garbage password.
as "$READ" POST "/databases/$id/test"
expect_json .ok false "without the new key the test fails"
expect_json ".error | test(\"'$new_kid'.*not in the key ring\")" true "naming the missing key"

printf '%s\n' "$new_ring" >"$ring_file"
check "infrad restarts with the new ring first" restart_infrad
as "$READ" POST "/databases/$id/test"
expect_json .ok true "the rotated password decrypts and connects"

# --------------------------------------------------------- tampering
psql_control -c "UPDATE infra.databases SET password_enc = set_byte(password_enc, 20,
	get_byte(password_enc, 20) # 1) WHERE id = '$id'" >/dev/null
as "$READ" POST "/databases/$id/test"
expect_json .ok false "a tampered ciphertext fails"
expect_json '.error | test("does not authenticate")' true "with a clear reason"
psql_control -c "UPDATE infra.databases a SET password_enc = b.password_enc, password_kid = b.password_kid
	FROM infra.databases b WHERE a.id = '$id' AND b.id = '$id2'" >/dev/null
as "$READ" POST "/databases/$id/test"
expect_json '.error | test("does not authenticate")' true "a ciphertext copied from another row fails"
as "$MANAGE" PATCH "/databases/$id" "{\"password\": \"$PW\"}"
as "$READ" POST "/databases/$id/test"
expect_json .ok true "setting the password again repairs it"

# ----------------------------------------------------------- bad rings
key=$(openssl rand -base64 32)
rotate "bad:${key:0:20}" >"$T_TMP/bad.out" 2>&1
check "a short key is refused (exit 1)" test $? = 1
check "naming the setting" grep -q ENCRYPTION_KEYS "$T_TMP/bad.out"
check "without echoing the key" bash -c "! grep -q -F '${key:0:20}' '$T_TMP/bad.out'"
rotate "" >"$T_TMP/empty.out" 2>&1
check "an empty ring is refused" test $? = 1
check "no log or output line holds the password" \
	bash -c "! grep -r -q -F '$PW' '$INFRA_LOG_DIR' '$T_TMP'/*.out"

done_testing
