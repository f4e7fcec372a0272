#!/usr/bin/env bash
# t6400-alerts.sh — the webhooks receive the alerts. A local receiver
# (webhook-receiver.pl) that refuses its first call, and a second webhook
# that is down: an execution that fails, a database that turns unhealthy
# and an event that dies each reach the receiver as one JSON POST {id, kind,
# at, summary, details} (the refused call retried); the webhook that is
# down is retried up to WEBHOOK_RETRY_ATTEMPTS and the alert ends failed,
# naming it, without the receiver getting it twice; no payload holds the
# database's password; the outcomes are counted in /metrics. infrad runs
# with these two webhooks, 2 webhook retries, 2 event attempts and 1 s
# probes here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
tenants_schema_or_skip

webhook_start good 1
good_url=$HOOK_URL
good=$HOOK_OUT
down_url="http://127.0.0.1:$(free_port)/down"
check "infrad restarts with two webhooks, one of them down" restart_infrad \
	INFRA_WEBHOOK_URLS="$good_url,$down_url" INFRA_WEBHOOK_RETRY_ATTEMPTS=2 \
	INFRA_WEBHOOK_TIMEOUT_MS=1000 INFRA_EVENT_RETRY_ATTEMPTS=2 INFRA_PROBE_INTERVAL=1
trap 't6_cleanup; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

# received STATUS KIND JQ-CONDITION: the receiver got an alert of KIND
# with STATUS for which the condition holds; RECEIVED is its body.
received() {
	RECEIVED=$(hook_lines "$good" "$1" "$2" | jq -c "select($3)" | head -n 1)
	[ -n "$RECEIVED" ]
}
# alert_status KIND JQ-PATH VALUE: the status of that alert in the table.
alert_status() {
	psql_control -c "SELECT status FROM infra.alerts WHERE kind = '$1' AND payload #>> '$2' = '$3'"
}
alert_failed() { [ "$(alert_status "$@")" = failed ]; }
# no_webhook_in TEXT: TEXT names no webhook (URL, path or digests).
no_webhook_in() { ! grep -q -e hooks/good -e /down -e delivered_to -e "${down_url#http://}" <<<"$1"; }
# holds JSON FILTER [jq args…]: the filter is true of JSON.
holds() { jq -e "${@:3}" "$2" >/dev/null <<<"$1"; }

# A database whose stored password is wrong: its migration fails and its
# probes say it is unhealthy.
PW="Alert-Pw-$(openssl rand -hex 10)"
make_role al_bad "$PW"
as "$MIG" POST '/databases?verify=false' "$(db_body "albad-$RUN" al_bad "$PW-wrong")"
expect_status 201 "a database with a wrong password"
bad=$(jq -r .id <<<"$BODY")

# ------------------------------------------------------- execution.failed
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$bad\"}"
check "its migration fails" wait_status 60 "$EXEC" failed
failed_exec=$EXEC
check "the webhook receives execution.failed" wait_for 30 \
	received 200 execution.failed ".details.execution_id == \"$failed_exec\""
alert=$RECEIVED
check "as {id, kind, at, summary, details}" holds "$alert" '(.id | type == "number")
	and .kind == "execution.failed" and (.at | test("^[0-9-]{10}T[0-9:.]{8,12}Z$"))
	and (.summary | test("failed")) and .details.scope == "single" and .details.failed_targets == 1
	and .details.status == "failed"'
check "a POST of application/json to the webhook's path" grep -q "^200 POST /hooks/good application/json" "$good"
check "the receiver's first refusal (500) was retried" test "$(awk '$1 == 500' "$good" | wc -l)" = 1
check "the webhook that is down is retried, then the alert is failed" wait_for 30 \
	alert_failed execution.failed '{details,execution_id}' "$failed_exec"
check "… naming that webhook" test "$(psql_control -c "SELECT last_error FROM infra.alerts
	WHERE kind = 'execution.failed' AND payload #>> '{details,execution_id}' = '$failed_exec'" |
	grep -c '^webhook 2: ')" = 1
id=$(jq -r .id <<<"$alert")
check "the receiver got it once (the retries went to the other webhook only)" \
	test "$(hook_lines "$good" 200 execution.failed | jq -c "select(.id == $id)" | wc -l)" = 1

# ------------------------------------------------------ database.unhealthy
check "the webhook receives database.unhealthy" wait_for 30 \
	received 200 database.unhealthy ".details.database_id == \"$bad\""
check "naming the database and why" holds "$RECEIVED" '.details.name == $n
	and (.details.error | test("password authentication failed"))
	and (.summary | test("unhealthy"))' --arg n "albad-$RUN"

# --------------------------------------------------------------- event.dead
dead=$(psql_control -c "INSERT INTO infra.outbox (event_type, resource_id, payload)
	VALUES ('test.alert_$RUN', 'x', '{}') RETURNING id" | head -n 1)
check "the webhook receives event.dead" wait_for 60 \
	received 200 event.dead ".details.event_id == $dead"
check "with the event's type, attempts and error" holds "$RECEIVED" '.details.event_type == $t
	and .details.attempts == 2 and (.details.last_error | test("no handler"))' --arg t "test.alert_$RUN"

# ----------------------------------------------------------- /system/alerts
digests=$(psql_control -c "SELECT string_agg(d, ' ') FROM infra.alerts, unnest(delivered_to) d WHERE id = $id")
check "the receiver's acceptance is on record (one digest)" test "$(wc -w <<<"$digests")" = 1
# shows_no_webhook TEXT: TEXT names no webhook (URL, path, or the digests).
shows_no_webhook() {
	no_webhook_in "$1" && ! grep -q -F -e "$digests" <<<"$1"
}
as "$ADMIN" GET "/system/alerts/$id"
expect_status 200 "GET /system/alerts/{id}"
expect_json '[.kind, .status, .attempts, .webhooks_accepted] | map(tostring) | join(" ")' \
	"execution.failed failed 3 1" "failed after its retries, accepted by one webhook of two"
expect_json '(.last_error | test("^webhook 2: ")) and .next_attempt_at == null and .delivered_at == null
	and .payload.details.execution_id == "'"$failed_exec"'"' true "naming the webhook; the payload as sent"
check "no URL or digest of a webhook in it" shows_no_webhook "$BODY"
as "$ADMIN" GET "/system/alerts?kind=execution.failed&status=failed"
expect_json "[.items[] | .kind + \"/\" + .status] | unique | join(\",\")" "execution.failed/failed" \
	"filtered by kind and status"
expect_json "[.items[].id] | index($id) != null" true "… this one among them"
check "… and no URL or digest of a webhook in the list" shows_no_webhook "$BODY"
newest=$(psql_control -c "SELECT max(id) FROM infra.alerts")
as "$ADMIN" GET "/system/alerts?limit=1"
check "newest first" test "$(jq -r '.items[0].id' <<<"$BODY")" -ge "$newest"

# Pages: three alerts already delivered (none other is here: one webhook is
# down), two a page, the second page holding exactly the third.
paged=$(psql_control -c "INSERT INTO infra.alerts (kind, payload, status, delivered_at)
	SELECT 'event.dead', '{\"summary\": \"paged $RUN\"}', 'delivered', clock_timestamp()
	FROM generate_series(1, 3) RETURNING id" | sort -n | tr '\n' ' ')
read -r p1 p2 p3 <<<"$paged"
as "$ADMIN" GET "/system/alerts?kind=event.dead&status=delivered&limit=2"
expect_json '[.items[].id] | map(tostring) | join(" ")' "$p3 $p2" "the first page: the two newest"
cursor=$(jq -r .next_cursor <<<"$BODY")
as "$ADMIN" GET "/system/alerts?kind=event.dead&status=delivered&limit=2&cursor=$cursor"
expect_json '[.items[].id] | map(tostring) | join(" ")' "$p1" "the next page goes on with the one after them"
expect_json .next_cursor null "… and is the last"
as "$ADMIN" POST "/system/alerts/$p1/retry"
expect_error 409 RES_002 "a delivered alert is not sent again"
as "$ADMIN" GET "/system/alerts?since=2000-01-01T00:00:00Z&limit=100"
expect_json "[.items[].id] | index($id) != null" true "since"
as "$ADMIN" GET "/system/alerts?since=2999-01-01T00:00:00Z"
expect_json '.items | length' 0 "since, none yet"
as "$ADMIN" GET "/system/alerts?kind=nope"
expect_error 422 VAL_001 "an unknown kind is 422"
check "naming the field" test "$(jq -r '.details.fields | keys | join(",")' <<<"$BODY")" = kind
as "$ADMIN" GET "/system/alerts?status=zombie"
expect_error 422 VAL_001 "an unknown status is 422"
as "$ADMIN" GET "/system/alerts?since=yesterday"
expect_error 422 VAL_001 "a since that is not ISO 8601 is 422"
as "$ADMIN" GET "/system/alerts?cursor=$(printf 'ev:%s' "$id" | basenc --base64url | tr -d '=')"
expect_error 422 VAL_001 "an events cursor is not an alerts cursor"
as "$ADMIN" GET /system/alerts/abc
expect_error 404 RES_001 "an id that is not a number is 404"
as "$ADMIN" GET /system/alerts/999999999999
expect_error 404 RES_001 "an id no alert has is 404"
as "$MIG" GET /system/alerts
expect_error 403 AUTH_002 "infrastructure:admin only"

# Sent again: the webhook that is down still refuses, the receiver that
# accepted it is not called again.
good_before=$(hook_lines "$good" 200 execution.failed | jq -c "select(.id == $id)" | wc -l)
as "$ADMIN" POST "/system/alerts/$id/retry"
expect_status 202 "POST /system/alerts/{id}/retry sends a failed alert again"
expect_json '[.status, .attempts] | map(tostring) | join(" ")' "pending 0"
as "$ADMIN" POST "/system/alerts/$id/retry"
expect_error 409 RES_002 "… not while it is pending (its first retry is a second away)"
check "it is retried, and failed again" wait_for 30 \
	alert_failed execution.failed '{details,execution_id}' "$failed_exec"
check "… having tried the webhook that is down anew" test "$(psql_control -c "SELECT attempts FROM
	infra.alerts WHERE id = $id")" = 3
check "the receiver that accepted it was not called again" \
	test "$(hook_lines "$good" 200 execution.failed | jq -c "select(.id == $id)" | wc -l)" = "$good_before"
check "the retry is audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'alert.retry' AND resource_id = '$id' AND outcome = 'success'")" = 1

# ------------------------------------------------------------- no secrets
check "no payload holds the password" bash -c "! grep -q -F -- '$PW' '$good'"
check "nor any alert row" test "$(psql_control -c "SELECT count(*) FROM infra.alerts
	WHERE payload::text LIKE '%' || '$PW' || '%'")" = 0
metrics=$(curl -sS --cacert "$INFRA_CA" "$INFRA_URL/metrics")
check "alerts are counted in /metrics" grep -q '^infra_alerts_total{kind="execution.failed",result="failed"} ' <<<"$metrics"
check "… retries too" grep -q '^infra_alerts_total{kind="execution.failed",result="retry"} ' <<<"$metrics"

done_testing
