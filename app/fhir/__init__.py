"""The FHIR R4 (4.0.1) facade at /fhir/R4: translation at the edge, the services underneath.

Nothing here decides anything about a referral: every read and write goes through the same
service functions as /v1 (app/services), which check, audit and announce it. This package only
turns FHIR resources into the service's requests and the service's answers into FHIR resources.
Every resource a partner sends is checked by fhir.resources' R4B models (wire-compatible with R4
for every resource used here) before anything is read from it. What the exchange sends is built as
plain dicts, checked by the same models, HL7's R4 JSON schema and FHIRPath rules in the tests, for
every resource any test receives (see app/fhir/wire.py for why not again at run time).
"""
