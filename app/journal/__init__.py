"""The journal: what a unit of work records, written at its commit, and the sequencer that orders it.

Audit events become leaves of an RFC 9162 transparency log with signed C2SP checkpoints; domain
events get their feed positions. See docs/architecture.md.
"""
