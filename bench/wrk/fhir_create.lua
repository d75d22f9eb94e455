-- POST a referral as a FHIR transaction Bundle (Patient, Consent, ServiceRequest, Task): the same
-- referral create.lua sends to /v1, for a person no other request has named.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
setup = common.setup
done = common.done

local service = os.getenv("BENCH_SERVICE_ID")
local agency = os.getenv("BENCH_AGENCY_ID")
local codes = os.getenv("BENCH_CODES") -- {PUBLIC_BASE_URL}/fhir
local run = os.getenv("BENCH_RUN")
local sent = 0
local body = [[{"resourceType": "Bundle", "type": "transaction", "entry": [
{"fullUrl": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000001", "request": {"method": "POST", "url": "Patient"},
 "resource": {"resourceType": "Patient",
  "extension": [{"url": "CODES/StructureDefinition/circumstances", "extension": [
    {"url": "lone-parent", "valueBoolean": true}, {"url": "benefit", "valueCode": "universal_credit"},
    {"url": "barrier", "valueCode": "debt"}]}],
  "name": [{"use": "official", "family": "FhirBench%s%dx%d", "given": ["Natalie"]}],
  "telecom": [{"system": "phone", "value": "07700900123", "rank": 1}], "birthDate": "1994-03-02",
  "address": [{"postalCode": "LL13 9AA"}],
  "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}, "preferred": true}]}},
{"fullUrl": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000002", "request": {"method": "POST", "url": "Consent"},
 "resource": {"resourceType": "Consent",
  "extension": [{"url": "CODES/StructureDefinition/consent-method",
    "valueCoding": {"system": "CODES/CodeSystem/consent-method", "code": "verbal"}}],
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
  "patient": {"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000001"}, "dateTime": "2026-11-20T10:15:00Z",
  "performer": [{"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000001"}],
  "policyRule": {"coding": [{"system": "CODES/CodeSystem/lawful-basis", "code": "consent"}]},
  "provision": {"type": "permit", "purpose": [{"system": "CODES/CodeSystem/purpose", "code": "debt_advice"}],
   "class": [{"system": "CODES/CodeSystem/data-category", "code": "contact"},
     {"system": "CODES/CodeSystem/data-category", "code": "circumstances"}]}}},
{"fullUrl": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000003", "request": {"method": "POST", "url": "ServiceRequest"},
 "resource": {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
  "category": [{"coding": [{"system": "CODES/CodeSystem/purpose", "code": "debt_advice"}]}], "priority": "urgent",
  "orderDetail": [{"coding": [{"system": "CODES/CodeSystem/handover-mode", "code": "warm_introduction"}]}],
  "subject": {"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000001"},
  "requester": {"reference": "Organization/%s"}, "performer": [{"reference": "HealthcareService/%s"}],
  "supportingInfo": [{"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000002"}],
  "note": [{"text": "Lone parent preparing to return to work; wants help with the household budget."}]}},
{"fullUrl": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000004", "request": {"method": "POST", "url": "Task"},
 "resource": {"resourceType": "Task", "status": "requested", "intent": "order",
  "focus": {"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000003"},
  "for": {"reference": "urn:uuid:0b3c8e2a-0000-4000-8000-000000000001"}}}]}]]
body = body:gsub("CODES", codes)

request = function()
  sent = sent + 1
  return wrk.format(nil, "/fhir/R4", nil, string.format(body, run, thread_number, sent, agency, service))
end
