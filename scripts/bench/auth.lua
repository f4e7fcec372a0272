-- auth.lua — wrk script for scripts/bench/auth's cold case: every request
-- carries a token never presented before, so each one is verified in full
-- (signature, claims, revocation) and then cached. Tokens come one per line
-- from the file named by $BENCH_TOKENS; each wrk thread takes its own share
-- ($BENCH_THREADS threads).
local counter = 0

function setup(thread)
	thread:set("id", counter)
	counter = counter + 1
end

function init(args)
	local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
	local n = 0
	tokens = {}
	for line in io.lines(os.getenv("BENCH_TOKENS")) do
		if n % nthreads == id then
			tokens[#tokens + 1] = line
		end
		n = n + 1
	end
	used = 0
end

function request()
	used = used + 1
	-- Past the end (a run longer than planned) tokens repeat: warm requests.
	local t = tokens[(used - 1) % #tokens + 1]
	return wrk.format("GET", "/auth/me", { ["Authorization"] = "Bearer " .. t })
end
