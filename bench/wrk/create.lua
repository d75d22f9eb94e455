-- POST a new referral; every request names a person no other request has named.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
setup = common.setup
done = common.done

local service = os.getenv("BENCH_SERVICE_ID")
local run = os.getenv("BENCH_RUN")
local sent = 0
local body = [[{"to_service_id": "%s", "purpose": "debt_advice",
"reason": "Lone parent preparing to return to work; wants help with the household budget.",
"urgency": "soon", "handover_mode": "warm_introduction",
"subject": {"given_name": "Natalie", "family_name": "Bench%s%dx%d", "date_of_birth": "1994-03-02",
  "postcode": "LL13 9AA", "phone": "07700900123", "preferred_contact": "phone", "language": "en",
  "circumstances": {"lone_parent": true, "benefits": ["universal_credit"], "barriers": ["debt"]}},
"consent": {"given_by": "subject", "method": "verbal", "given_at": "2026-11-20T10:15:00Z",
  "lawful_basis": "consent", "purposes": ["debt_advice"], "data_categories": ["contact", "circumstances"]}}]]

request = function()
  sent = sent + 1
  return wrk.format(nil, "/v1/referrals", nil, string.format(body, service, run, thread_number, sent))
end
