"""The FHIR R4 (4.0.1) facade at /fhir/R4: translation at the edge, the services underneath.

Nothing here decides anything about a referral: every read and write goes through the same
service functions as /v1 (app/services), which check, audit and announce it. This package only
turns FHIR resources into the service's requests and the service's answers into FHIR resources.
Resources are built as plain dicts and pass through fhir.resources' R4B models (wire-compatible
with R4 for every resource used here) before they are sent, so a malformed one is a fault of ours
found at once rather than a partner's parsing error.
"""
